package dev.ferry.protocol.address;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * An address and port as carried by PORT/EPRT arguments and 227/229 replies, with the codecs for
 * each form. Every parser returns null for malformed input (the caller answers 501 or, for a
 * backend's reply, closes the session); none of them resolves host names.
 */
public record HostPort(InetAddress address, int port) {

    public HostPort {
        Objects.requireNonNull(address, "address");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** An address as operators write it: 192.0.2.7:21, [2001:db8::7]:21 (no name lookup). */
    public static String text(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : IpText.format(a.getAddress());
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(address, port);
    }

    /** RFC 959 §4.1.2 PORT argument: "h1,h2,h3,h4,p1,p2", each a decimal 0..255. */
    public static HostPort parsePort(String argument) {
        String[] parts = argument.trim().split(",", -1);
        if (parts.length != 6) {
            return null;
        }
        int[] v = new int[6];
        for (int i = 0; i < 6; i++) {
            v[i] = parseByte(parts[i].trim());
            if (v[i] < 0) {
                return null;
            }
        }
        byte[] ip = {(byte) v[0], (byte) v[1], (byte) v[2], (byte) v[3]};
        int port = v[4] * 256 + v[5];
        if (port == 0) {
            return null;
        }
        return new HostPort(fromBytes(ip), port);
    }

    /** The PORT/227 form of an IPv4 address and port: "h1,h2,h3,h4,p1,p2". */
    public static String formatPort(Inet4Address address, int port) {
        byte[] b = address.getAddress();
        return (b[0] & 0xFF) + "," + (b[1] & 0xFF) + "," + (b[2] & 0xFF) + "," + (b[3] & 0xFF)
                + "," + (port >> 8) + "," + (port & 0xFF);
    }

    /** The text of a 227 reply (RFC 959 §4.1.2, RFC 1123 §4.1.2.6: parenthesized form). */
    public static String format227(Inet4Address address, int port) {
        return "Entering Passive Mode (" + formatPort(address, port) + ").";
    }

    /** The text of a 229 reply (RFC 2428 §3): "Entering Extended Passive Mode (|||port|)". */
    public static String format229(int port) {
        return "Entering Extended Passive Mode (|||" + port + "|)";
    }

    /**
     * RFC 2428 §2 EPRT argument: {@code <d><af><d><addr><d><port><d>} where the delimiter d is any
     * printable ASCII character (33..126), af 1 = IPv4 (dotted quad), 2 = IPv6 (RFC 2373 text form).
     */
    public static HostPort parseEprt(String argument) {
        String s = argument.trim();
        if (s.length() < 7) {
            return null;
        }
        char d = s.charAt(0);
        if (d < 33 || d > 126 || s.charAt(s.length() - 1) != d) {
            return null;
        }
        String[] fields = s.substring(1, s.length() - 1).split(java.util.regex.Pattern.quote(String.valueOf(d)), -1);
        if (fields.length != 3) {
            return null;
        }
        int port = parseDecimal(fields[2], 65535);
        if (port <= 0) {
            return null;
        }
        InetAddress address = switch (fields[0]) {
            case "1" -> parseIpv4(fields[1]);
            case "2" -> parseIpv6(fields[1]);
            default -> null;
        };
        return address == null ? null : new HostPort(address, port);
    }

    /** The EPRT argument for an address and port, using '|' as the delimiter. */
    public static String formatEprt(InetAddress address, int port) {
        int af = address instanceof Inet6Address ? 2 : 1;
        return "|" + af + "|" + address.getHostAddress() + "|" + port + "|";
    }

    /** The network protocol number of RFC 2428 §2 for an address: 1 for IPv4, 2 for IPv6. */
    public static int protocolNumber(InetAddress address) {
        return address instanceof Inet6Address ? 2 : 1;
    }

    /**
     * The address and port of a 227 reply text. Clients differ on the exact text, so like most
     * clients this looks for the first run of six comma-separated numbers (RFC 1123 §4.1.2.6).
     */
    public static HostPort parse227(String text) {
        int i = 0;
        int n = text.length();
        while (i < n) {
            if (Character.isDigit(text.charAt(i))) {
                int end = i;
                while (end < n && (Character.isDigit(text.charAt(end)) || text.charAt(end) == ',')) {
                    end++;
                }
                HostPort hp = parsePort(text.substring(i, end));
                if (hp != null) {
                    return hp;
                }
                i = end;
            } else {
                i++;
            }
        }
        return null;
    }

    /** The port of a 229 reply text "(|||port|)" (RFC 2428 §3), or -1. */
    public static int parse229(String text) {
        int open = text.indexOf('(');
        int close = text.indexOf(')', open + 1);
        if (open < 0 || close < 0 || close - open < 6) {
            return -1;
        }
        String inner = text.substring(open + 1, close);
        char d = inner.charAt(0);
        if (d < 33 || d > 126 || inner.charAt(1) != d || inner.charAt(2) != d
                || inner.charAt(inner.length() - 1) != d) {
            return -1;
        }
        int port = parseDecimal(inner.substring(3, inner.length() - 1), 65535);
        return port <= 0 ? -1 : port;
    }

    private static InetAddress parseIpv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            int v = parseByte(parts[i]);
            if (v < 0) {
                return null;
            }
            b[i] = (byte) v;
        }
        return fromBytes(b);
    }

    private static InetAddress parseIpv6(String s) {
        // Only hex digits, colons and (for an embedded IPv4 tail) dots: InetAddress.getByName would
        // otherwise try to resolve a host name.
        if (s.isEmpty() || s.length() > 45 || s.indexOf(':') < 0) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c == ':' || c == '.' || Character.digit(c, 16) >= 0;
            if (!ok) {
                return null;
            }
        }
        try {
            // The brackets make the JDK take the text as a literal or fail: without them a text it
            // cannot parse as one (".::1") goes to the system resolver as a host name.
            return InetAddress.getByName("[" + s + "]");
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static InetAddress fromBytes(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static int parseByte(String s) {
        return parseDecimal(s, 255);
    }

    /** A decimal of at most 5 digits not above max, or -1. */
    private static int parseDecimal(String s, int max) {
        if (s.isEmpty() || s.length() > 5) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v <= max ? v : -1;
    }

    /**
     * True when {@code a} and {@code b} are the same host: equal, or one is the other's IPv4-mapped IPv6
     * form (RFC 4291 §2.5.5.2: an IPv4 client seen on a dual-stack socket is ::ffff:a.b.c.d). The check
     * behind every "data connections only to the client's own address" rule (RFC 2577 §3).
     */
    public static boolean sameHost(InetAddress a, InetAddress b) {
        if (a.equals(b)) {
            return true;
        }
        return a instanceof Inet4Address && b instanceof Inet6Address v6 && isMappedTo(v6, a)
                || b instanceof Inet4Address && a instanceof Inet6Address v6b && isMappedTo(v6b, b);
    }

    private static boolean isMappedTo(Inet6Address v6, InetAddress v4) {
        byte[] x = v6.getAddress();
        byte[] y = v4.getAddress();
        for (int i = 0; i < 10; i++) {
            if (x[i] != 0) {
                return false;
            }
        }
        return (x[10] & 0xFF) == 0xFF && (x[11] & 0xFF) == 0xFF
                && x[12] == y[0] && x[13] == y[1] && x[14] == y[2] && x[15] == y[3];
    }
}
