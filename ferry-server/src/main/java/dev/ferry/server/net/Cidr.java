package dev.ferry.server.net;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address block such as 10.0.0.0/8 or fd00::/8. Parsed once; matching is a byte comparison. */
public record Cidr(byte[] network, int prefixLength) {

    /** Parses "ADDRESS/BITS" (an IP literal; no name lookups). */
    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("expected ADDRESS/BITS such as 10.0.0.0/8, got '" + text + "'");
        }
        String addr = text.substring(0, slash);
        int bits;
        try {
            bits = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a prefix length after '/', got '" + text + "'");
        }
        if (!addr.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("expected an IP address before '/', got '" + addr + "'");
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(addr).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: '" + addr + "'");
        }
        if (bits < 0 || bits > bytes.length * 8) {
            throw new IllegalArgumentException("prefix length must be 0.." + bytes.length * 8 + ", got " + bits);
        }
        return new Cidr(bytes, bits);
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != network.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (a[full] & mask) == (network[full] & mask);
    }
}
