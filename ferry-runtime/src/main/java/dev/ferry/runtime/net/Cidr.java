package dev.ferry.runtime.net;

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
        byte[] bytes = literal(addr);
        if (bytes == null) {
            throw new IllegalArgumentException("not an IP address: '" + addr + "'");
        }
        if (bits < 0 || bits > bytes.length * 8) {
            throw new IllegalArgumentException("prefix length must be 0.." + bytes.length * 8 + ", got " + bits);
        }
        return new Cidr(bytes, bits);
    }

    /**
     * The bytes of a full dotted quad or an IPv6 literal, else null. InetAddress.getByName alone would
     * read "10" as 0.0.0.10 (so "10/8" would quietly mean 0.0.0.10/8) and hand "cafe.be" to the
     * resolver.
     */
    private static byte[] literal(String addr) {
        if (addr.indexOf(':') >= 0) {
            try {
                // The brackets make the JDK take the text as a literal or fail, never look it up.
                return InetAddress.getByName("[" + addr + "]").getAddress();
            } catch (UnknownHostException e) {
                return null;
            }
        }
        if (!addr.matches("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}")) {
            return null;
        }
        String[] parts = addr.split("\\.");
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            int part = Integer.parseInt(parts[i]);
            if (part > 255) {
                return null;
            }
            bytes[i] = (byte) part;
        }
        return bytes;
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
