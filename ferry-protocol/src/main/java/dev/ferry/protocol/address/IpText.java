package dev.ferry.protocol.address;

import java.net.Inet4Address;
import java.net.InetAddress;

/** The text form of IP addresses, one place for all modules (logs, config messages, PROXY headers). */
public final class IpText {

    private IpText() {}

    /** Dotted quad for IPv4; RFC 5952 §4 for IPv6 ("::1", not "0:0:0:0:0:0:0:1"); no name lookup. */
    public static String format(InetAddress address) {
        return address instanceof Inet4Address ? address.getHostAddress() : ipv6(address.getAddress());
    }

    /** RFC 5952 §4: lower case, no leading zeroes, the longest run (first if tied) of two or more zero groups as "::". */
    public static String ipv6(byte[] b) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xFF) << 8) | (b[2 * i + 1] & 0xFF);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int end = i;
            while (end < 8 && groups[end] == 0) {
                end++;
            }
            if (end - i > bestLength) {
                bestStart = i;
                bestLength = end - i;
            }
            i = end;
        }
        StringBuilder text = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }
}
