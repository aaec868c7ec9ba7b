package dev.ferry.protocol.proxy;

import dev.ferry.protocol.address.IpText;

/**
 * The strict text forms of IP addresses in a v1 header (spec §2.1), parsed to and from raw bytes.
 *
 * <p>Design: parsing is done here, digit by digit, rather than by {@code InetAddress.getByName}, which
 * resolves anything that is not a literal it recognises and accepts forms the spec forbids (octal-looking
 * "010", a scope "%eth0"). Only ASCII digits count: {@link Character#digit} would also accept, say,
 * Arabic-Indic digits.
 */
final class IpLiteral {

    private IpLiteral() {
    }

    /** Spec §2.1: exactly four decimals 0..255 separated by single dots, no heading zeroes; else null. */
    static byte[] parseIpv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            int value = parseDecimal(parts[i], 255);
            if (value < 0) {
                return null;
            }
            bytes[i] = (byte) value;
        }
        return bytes;
    }

    /**
     * Spec §2.1: groups of up to four hex digits separated by colons, at most one "::", 128 bits in
     * all; else null. A dotted IPv4 tail ("::ffff:192.0.2.1") is accepted too, because senders that
     * format with inet_ntop (HAProxy among them) write IPv4-mapped addresses that way.
     */
    static byte[] parseIpv6(String text) {
        int gap = text.indexOf("::");
        if (gap >= 0 && text.indexOf("::", gap + 1) >= 0) {
            return null;
        }
        int[] head = gap < 0 ? parseGroups(text, true) : parseGroups(text.substring(0, gap), false);
        int[] tail = gap < 0 ? new int[0] : parseGroups(text.substring(gap + 2), true);
        if (head == null || tail == null) {
            return null;
        }
        int groups = head.length + tail.length;
        if (gap < 0 ? groups != 8 : groups > 7) {
            return null;
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < head.length; i++) {
            putGroup(bytes, i, head[i]);
        }
        for (int i = 0; i < tail.length; i++) {
            putGroup(bytes, 8 - tail.length + i, tail[i]);
        }
        return bytes;
    }

    static String formatIpv4(byte[] b) {
        return (b[0] & 0xFF) + "." + (b[1] & 0xFF) + "." + (b[2] & 0xFF) + "." + (b[3] & 0xFF);
    }

    /** RFC 5952 §4 text of a 16-byte address (see {@link IpText#ipv6}). */
    static String formatIpv6(byte[] b) {
        return IpText.ipv6(b);
    }

    /** A decimal of ASCII digits without heading zeroes (spec §2.1) not above max, or -1. */
    static int parseDecimal(String text, int max) {
        int digits = text.length();
        if (digits == 0 || digits > 5 || (digits > 1 && text.charAt(0) == '0')) {
            return -1;
        }
        int value = 0;
        for (int i = 0; i < digits; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value <= max ? value : -1;
    }

    /** The 16-bit groups of a colon-separated run (an empty text is no group); a dotted IPv4 last part counts as two. */
    private static int[] parseGroups(String text, boolean mayEndInIpv4) {
        if (text.isEmpty()) {
            return new int[0];
        }
        String[] parts = text.split(":", -1);
        String last = parts[parts.length - 1];
        boolean ipv4Tail = mayEndInIpv4 && last.indexOf('.') >= 0;
        int[] groups = new int[parts.length + (ipv4Tail ? 1 : 0)];
        for (int i = 0; i < parts.length - (ipv4Tail ? 1 : 0); i++) {
            groups[i] = parseHexGroup(parts[i]);
            if (groups[i] < 0) {
                return null;
            }
        }
        if (ipv4Tail) {
            byte[] ipv4 = parseIpv4(last);
            if (ipv4 == null) {
                return null;
            }
            groups[parts.length - 1] = ((ipv4[0] & 0xFF) << 8) | (ipv4[1] & 0xFF);
            groups[parts.length] = ((ipv4[2] & 0xFF) << 8) | (ipv4[3] & 0xFF);
        }
        return groups;
    }

    private static int parseHexGroup(String text) {
        if (text.isEmpty() || text.length() > 4) {
            return -1;
        }
        int value = 0;
        for (int i = 0; i < text.length(); i++) {
            int digit = hexDigit(text.charAt(i));
            if (digit < 0) {
                return -1;
            }
            value = value * 16 + digit;
        }
        return value;
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static void putGroup(byte[] bytes, int index, int group) {
        bytes[2 * index] = (byte) (group >> 8);
        bytes[2 * index + 1] = (byte) group;
    }
}
