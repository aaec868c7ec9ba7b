package dev.ferry.config;

import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.server.ServerSettings;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Value parsers shared by the YAML loader and the command line, so a setting is spelled the same
 * way in both places. Each throws {@link IllegalArgumentException} whose message says what is
 * expected and what was given, ready to follow a "FILE:LINE:COL: key: " or "--flag: " prefix.
 *
 * <p>Text that looks like an IP address is parsed as one and never looked up; only
 * {@link #hostPort} resolves host names, because binding needs an address.
 */
public final class Values {

    private static final String HOST_PORT = "expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121";
    private static final String PORT_RANGE = "expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port)";
    private static final String DURATION = "expected a duration such as 500ms, 30s, 5m, 1h or 1d (a plain number is seconds)";
    private static final String CIDR = "expected a network such as 10.0.0.0/8 or fd00::/8";
    private static final String PUBLIC_ADDRESS = "expected an IPv4 address such as 203.0.113.7 or a host name such as ftp.example.com";

    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    private static final Pattern PORT_RANGE_TEXT = Pattern.compile("([0-9]{1,5})(?:-([0-9]{1,5}))?");
    private static final Pattern DURATION_TEXT = Pattern.compile("([0-9]{1,18})(ms|s|m|h|d)?");
    private static final int MAX_PORT = 65535;

    private Values() {
    }

    /**
     * "127.0.0.1:2121", "[::1]:2121", "localhost:21"; ":2121" or "*:2121" mean all local addresses.
     * Port 0..65535, 0 meaning any free port. Host names are resolved now, so a name that does not
     * resolve fails at start-up rather than at bind time.
     */
    public static InetSocketAddress hostPort(String s) {
        String host;
        String portText;
        boolean bracketed = s.startsWith("[");
        if (bracketed) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw invalid(HOST_PORT, s, "an IPv6 address in brackets must be followed by :PORT");
            }
            host = s.substring(1, close);
            portText = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw invalid(HOST_PORT, s, "no port");
            }
            host = s.substring(0, colon);
            portText = s.substring(colon + 1);
            if (IpLiterals.looksLikeIpv6(host)) {
                throw invalid(HOST_PORT, s, "an IPv6 address needs brackets, as in [::1]:2121");
            }
        }
        int port = port(portText, s);
        if (host.isEmpty() || host.equals("*")) {
            return new InetSocketAddress(port);
        }
        InetAddress address;
        try {
            address = bracketed ? IpLiterals.ipv6(host, true)
                    : IpLiterals.looksLikeIpv4(host) ? IpLiterals.ipv4(host)
                    : resolve(host, s);
        } catch (IllegalArgumentException e) {
            throw invalid(HOST_PORT, s, e.getMessage());
        }
        return new InetSocketAddress(address, port);
    }

    private static InetAddress resolve(String host, String whole) {
        if (!IpLiterals.isHostName(host)) {
            throw invalid(HOST_PORT, whole, quote(host) + " is neither an IP address nor a host name");
        }
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw invalid(HOST_PORT, whole, "host name " + quote(host) + " does not resolve");
        }
    }

    private static int port(String text, String whole) {
        if (!PORT.matcher(text).matches()) {
            throw invalid(HOST_PORT, whole, text.isEmpty() ? "no port after the colon" : quote(text) + " is not a port number");
        }
        int port = Integer.parseInt(text);
        if (port > MAX_PORT) {
            throw invalid(HOST_PORT, whole, "port " + port + " is above " + MAX_PORT);
        }
        return port;
    }

    /**
     * Passive data ports: "40000-40100" gives {40000, 40100}; "40000" gives {40000, 40000};
     * "0" or "0-0" gives {0, 0}, meaning any free (ephemeral) port. Ports 1..65535, LOW &lt;= HIGH.
     */
    public static int[] portRange(String s) {
        Matcher m = PORT_RANGE_TEXT.matcher(s);
        if (!m.matches()) {
            throw invalid(PORT_RANGE, s, null);
        }
        int low = Integer.parseInt(m.group(1));
        int high = m.group(2) == null ? low : Integer.parseInt(m.group(2));
        if (low == 0 && high == 0) {
            return new int[] {0, 0};
        }
        if (low < 1 || high < 1) {
            throw invalid(PORT_RANGE, s, "0 means any free port and cannot be part of a range");
        }
        if (low > MAX_PORT || high > MAX_PORT) {
            throw invalid(PORT_RANGE, s, "ports go up to " + MAX_PORT);
        }
        if (low > high) {
            throw invalid(PORT_RANGE, s, "LOW is above HIGH");
        }
        return new int[] {low, high};
    }

    /** "500ms", "30s", "5m", "1h", "1d"; a plain number is seconds. Zero is allowed here; callers set their own minimum. */
    public static Duration duration(String s) {
        Matcher m = DURATION_TEXT.matcher(s);
        if (!m.matches()) {
            throw invalid(DURATION, s, null);
        }
        long amount = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        try {
            return switch (unit) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                case "d" -> Duration.ofDays(amount);
                default -> throw new IllegalStateException("unit " + unit);
            };
        } catch (ArithmeticException e) {
            throw invalid(DURATION, s, "too large");
        }
    }

    /**
     * A network in CIDR notation, "10.0.0.0/8" or "fd00::/8", returned in canonical form (IPv6 per
     * RFC 5952). A bare address is a single-host network ("/32" or "/128"). Bits set after the
     * prefix are refused rather than silently cleared: "10.1.2.3/8" is more likely a typo than a
     * wish for all of 10.0.0.0/8.
     */
    public static String cidr(String s) {
        return Network.parse(s).toString();
    }

    /** Whether {@code a} is inside {@code cidr}; an IPv4 address is never inside an IPv6 network, nor the reverse. */
    public static boolean cidrContains(String cidr, InetAddress a) {
        return Network.parse(cidr).contains(a);
    }

    /**
     * The address told to passive-mode clients: an IPv4 address or a host name (resolved by the
     * server when it replies, so a dynamic DNS name keeps working). IPv6 is refused because a 227
     * reply to PASV carries four IPv4 numbers only (RFC 959 §4.1.2), and the 229 reply to EPSV names
     * no address at all (RFC 2428 §3).
     */
    public static String publicAddress(String s) {
        if (IpLiterals.looksLikeIpv6(s)) {
            throw invalid(PUBLIC_ADDRESS, s, "PASV replies carry IPv4 addresses only; IPv6 clients use EPSV, which names no address");
        }
        if (IpLiterals.looksLikeIpv4(s)) {
            try {
                return IpLiterals.format(IpLiterals.ipv4(s));
            } catch (IllegalArgumentException e) {
                throw invalid(PUBLIC_ADDRESS, s, e.getMessage());
            }
        }
        if (!IpLiterals.isHostName(s)) {
            throw invalid(PUBLIC_ADDRESS, s, null);
        }
        return s;
    }

    /** A value for an error message: single-quoted, control characters escaped, long text cut. */
    /** {@code optional}, {@code login} or {@code required} (TLS policy of a server or a user). */
    public static TlsPolicy tlsPolicy(String s) {
        return switch (s) {
            case "optional" -> TlsPolicy.OPTIONAL;
            case "login" -> TlsPolicy.LOGIN;
            case "required" -> TlsPolicy.REQUIRED;
            default -> throw new IllegalArgumentException("expected optional, login or required, got " + quote(s));
        };
    }

    /** {@code required}, {@code preferred} or {@code off} (TLS session reuse on data connections). */
    public static SessionReuse sessionReuse(String s) {
        return switch (s) {
            case "required" -> SessionReuse.REQUIRED;
            case "preferred" -> SessionReuse.PREFERRED;
            case "off" -> SessionReuse.OFF;
            default -> throw new IllegalArgumentException("expected required, preferred or off, got " + quote(s));
        };
    }

    static String quote(String s) {
        StringBuilder out = new StringBuilder("'");
        int limit = Math.min(s.length(), 80);
        for (int i = 0; i < limit; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (s.length() > limit) {
            out.append("...");
        }
        return out.append('\'').toString();
    }

    private static IllegalArgumentException invalid(String expected, String given, String detail) {
        return new IllegalArgumentException(expected + ", got " + quote(given) + (detail == null ? "" : " (" + detail + ")"));
    }

    /** A parsed CIDR network. */
    private record Network(byte[] address, int prefix) {

        static Network parse(String s) {
            int slash = s.indexOf('/');
            String addressText = slash < 0 ? s : s.substring(0, slash);
            byte[] bytes;
            try {
                bytes = IpLiterals.literal(addressText, false).getAddress();
            } catch (IllegalArgumentException e) {
                throw invalid(CIDR, s, e.getMessage());
            }
            int maxPrefix = bytes.length * 8;
            int prefix = maxPrefix;
            if (slash >= 0) {
                String prefixText = s.substring(slash + 1);
                if (!prefixText.matches("[0-9]{1,3}") || Integer.parseInt(prefixText) > maxPrefix) {
                    throw invalid(CIDR, s, "the prefix length after / goes from 0 to " + maxPrefix + " for "
                            + (bytes.length == 4 ? "IPv4" : "IPv6"));
                }
                prefix = Integer.parseInt(prefixText);
            }
            Network network = new Network(bytes, prefix);
            byte[] masked = network.masked(bytes);
            if (!java.util.Arrays.equals(masked, bytes)) {
                throw invalid(CIDR, s, "bits are set after the /" + prefix + " prefix; did you mean "
                        + new Network(masked, prefix) + "?");
            }
            return network;
        }

        boolean contains(InetAddress a) {
            byte[] other = a.getAddress();
            return other.length == address.length && java.util.Arrays.equals(masked(other), address);
        }

        private byte[] masked(byte[] bytes) {
            byte[] out = bytes.clone();
            for (int i = 0; i < out.length; i++) {
                int bitsHere = Math.max(0, Math.min(8, prefix - 8 * i));
                out[i] &= (byte) (0xff << (8 - bitsHere));
            }
            return out;
        }

        @Override
        public String toString() {
            return IpLiterals.format(IpLiterals.byAddress(address)) + "/" + prefix;
        }
    }
}
