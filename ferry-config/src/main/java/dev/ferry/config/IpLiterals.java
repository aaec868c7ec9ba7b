package dev.ferry.config;

import dev.ferry.protocol.address.IpText;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Address text without name lookups. A configuration value that looks like an IP address must be
 * parsed as one: handing "999.1.1.1" or "1:2:3" to {@link InetAddress#getByName} would quietly turn
 * a typo into a DNS query. Host names are checked for syntax only here; resolving them is the
 * caller's decision.
 */
final class IpLiterals {

    private static final Pattern DOTTED_QUAD = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");
    private static final Pattern LOOKS_NUMERIC = Pattern.compile("[0-9.]+");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern HOST_LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

    private IpLiterals() {
    }

    /** True when {@code s} is made of digits and dots only, so it can only mean an IPv4 address. */
    static boolean looksLikeIpv4(String s) {
        return LOOKS_NUMERIC.matcher(s).matches();
    }

    /** True when {@code s} contains a colon, so it can only mean an IPv6 address. */
    static boolean looksLikeIpv6(String s) {
        return s.indexOf(':') >= 0;
    }

    /** Strict dotted quad: four decimal parts 0..255, no leading zeros (which some tools read as octal). */
    static InetAddress ipv4(String s) {
        if (!DOTTED_QUAD.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + s + "' is not an IPv4 address (four numbers 0 to 255, such as 192.0.2.10)");
        }
        byte[] bytes = new byte[4];
        String[] parts = s.split("\\.");
        for (int i = 0; i < 4; i++) {
            int part = Integer.parseInt(parts[i]);
            if (part > 255) {
                throw new IllegalArgumentException("'" + s + "' is not an IPv4 address (" + part + " is above 255)");
            }
            bytes[i] = (byte) part;
        }
        return byAddress(bytes);
    }

    /** An IPv6 literal, optionally with a zone ("fe80::1%eth0") when {@code allowZone}. */
    static InetAddress ipv6(String s, boolean allowZone) {
        int percent = s.indexOf('%');
        String address = percent >= 0 ? s.substring(0, percent) : s;
        if (percent >= 0 && (!allowZone || percent == s.length() - 1)) {
            throw new IllegalArgumentException("'" + s + "' is not an IPv6 address" + (allowZone ? "" : " (a zone such as %eth0 is not allowed here)"));
        }
        if (!IPV6_CHARS.matcher(address).matches() || !looksLikeIpv6(address)) {
            throw new IllegalArgumentException("'" + s + "' is not an IPv6 address");
        }
        try {
            // The brackets make the JDK treat the text as a literal only: never a name lookup.
            return InetAddress.getByName("[" + s + "]");
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + s + "' is not an IPv6 address");
        }
    }

    /** An IPv4 or IPv6 literal, or an exception saying which it looked like and why it is not one. */
    static InetAddress literal(String s, boolean allowZone) {
        if (looksLikeIpv6(s)) {
            return ipv6(s, allowZone);
        }
        if (looksLikeIpv4(s)) {
            return ipv4(s);
        }
        throw new IllegalArgumentException("'" + s + "' is not an IP address");
    }

    /** RFC 1123 §2.1 host name syntax: dot-separated labels of letters, digits and inner hyphens. */
    static boolean isHostName(String s) {
        String name = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        if (name.isEmpty() || name.length() > 253 || looksLikeIpv4(name)) {
            return false;
        }
        for (String label : name.split("\\.", -1)) {
            if (!HOST_LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    /** Text form: dotted quad, or the RFC 5952 §4 form for IPv6 (lower case, longest zero run as "::"). */
    static String format(InetAddress address) {
        return IpText.format(address);
    }

    static InetAddress byAddress(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("address of " + bytes.length + " bytes", e);
        }
    }
}
