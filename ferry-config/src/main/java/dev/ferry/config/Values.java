package dev.ferry.config;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.log.NodeName;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.VirtualPath;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Value parsers shared by the YAML loaders and the command line, so a setting is spelled, checked and
 * refused the same way in both places. Each throws {@link IllegalArgumentException} whose message says
 * what is expected and what was given, ready to follow a "FILE:LINE:COL: key: " or "--flag: " prefix.
 * Which rule each whole-number or duration setting follows (its {@link Range}, built from the limits the
 * settings records declare, or whether a duration may be zero) is its row in {@link Setting}. The few flag
 * grammars that pack several settings into one value ({@code --backend}, {@code --user},
 * {@code --admin-user}, {@code --check-user}) are parsed here too, with the same rules as the YAML keys they
 * stand for.
 *
 * <p>Text that looks like an IP address is parsed as one and never looked up; only
 * {@link #hostPort} resolves host names, because binding needs an address.
 *
 * <p>Why one file of ~600 lines: it is the catalogue a contributor reads to learn, or change, how any
 * setting is accepted, for both front-ends at once; the parsers share {@link #quote}, the message form
 * and one another (a backend's address is a {@link #hostPort}, {@code --backend} reads the same
 * {@link Setting} rows as the file). Split by daemon, the rules two daemons share (user names, addresses,
 * durations) would need a third home and the catalogue would be three.
 */
public final class Values {

    private static final String HOST_PORT = "expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121";
    private static final String PORT_RANGE = "expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port)";
    private static final String DURATION = "expected a duration such as 500ms, 30s, 5m, 1h or 1d (a plain number is seconds)";
    private static final String CIDR = "expected a network such as 10.0.0.0/8 or fd00::/8";
    private static final String SOURCE = "expected a local IP address such as 10.0.1.10 or fd00::10";
    private static final String PUBLIC_ADDRESS = "expected an IPv4 address such as 203.0.113.7 or a host name such as ftp.example.com";

    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    private static final Pattern PORT_RANGE_TEXT = Pattern.compile("([0-9]{1,5})(?:-([0-9]{1,5}))?");
    private static final Pattern DURATION_TEXT = Pattern.compile("([0-9]{1,18})(ms|s|m|h|d)?");
    private static final Pattern UMASK_TEXT = Pattern.compile("[0-7]{1,4}");
    private static final int MAX_PORT = 65535;

    /** Server accounts and admin users alike: no spaces or control characters, which would break log lines. */
    public static final String USER_NAME_RULE = "a user name of 1 to 64 letters, digits and . _ - @ +";
    private static final Pattern USER_NAME = Pattern.compile("[\\p{L}\\p{N}._@+-]{1,64}");
    public static final String BACKEND_NAME_RULE = "a backend name of 1 to 64 letters, digits and . _ -";
    private static final Pattern BACKEND_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** The {@code --backend} grammar; each option stands for the YAML key of the same name. */
    public static final String BACKEND_FORM = "NAME=HOST:PORT[,weight=N][,max-connecting=N][,passive-ports=LOW-HIGH]";
    public static final String ADMIN_USER_FORM = "NAME:PASSWORD[:admin|:read-only]";
    private static final List<String> BACKEND_OPTIONS = List.of("weight", "max-connecting", "passive-ports");

    public static final Range POSITIVE = Range.atLeast(1);
    public static final Range NON_NEGATIVE = Range.atLeast(0);
    public static final Range WEIGHT = new Range(0, BackendSpec.MAX_WEIGHT);
    public static final Range MAX_CONNECTING = new Range(1, BackendSpec.MAX_CONNECTING);

    private Values() {
    }

    /** An inclusive range of whole numbers a setting must lie in; {@link Integer#MAX_VALUE} as max means no upper bound. */
    public record Range(int min, int max) {

        public static Range atLeast(int min) {
            return new Range(min, Integer.MAX_VALUE);
        }

        public boolean contains(long n) {
            return n >= min && n <= max;
        }

        /** "at least 1" or "from 0 to 256". */
        public String bounds() {
            return max == Integer.MAX_VALUE ? "at least " + min : "from " + min + " to " + max;
        }

        /** "a number of at least 1" or "a number from 0 to 256": completes "expected ...". */
        public String expected() {
            return "a number " + (max == Integer.MAX_VALUE ? "of " : "") + bounds();
        }

        /** A whole number in this range, or a message saying what is expected. */
        public int parse(String s) {
            if (!s.matches("[+-]?[0-9]+")) {
                throw new IllegalArgumentException("expected " + expected() + ", got " + quote(s));
            }
            long n = s.length() > 12 ? (s.startsWith("-") ? Long.MIN_VALUE : Long.MAX_VALUE) : Long.parseLong(s);
            if (!contains(n)) {
                throw new IllegalArgumentException("expected " + expected() + ", got " + s);
            }
            return (int) n;
        }
    }

    /** A server account's or an admin user's name ({@link #USER_NAME_RULE}). */
    public static String userName(String s) {
        if (!USER_NAME.matcher(s).matches()) {
            throw new IllegalArgumentException("expected " + USER_NAME_RULE + ", got " + quote(s));
        }
        return s;
    }

    /** A backend's name ({@link #BACKEND_NAME_RULE}): it appears in URLs of the admin API and in metrics labels. */
    public static String backendName(String s) {
        if (!BACKEND_NAME.matcher(s).matches()) {
            throw new IllegalArgumentException("expected " + BACKEND_NAME_RULE + ", got " + quote(s));
        }
        return s;
    }

    /** The address of an FTP server behind the balancer: {@link #hostPort} with a port and a host to connect to. */
    public static InetSocketAddress backendAddress(String s) {
        InetSocketAddress address = hostPort(s);
        if (address.getPort() == 0) {
            throw new IllegalArgumentException("expected HOST:PORT with a port from 1 to 65535, got port 0");
        }
        if (address.getAddress() != null && address.getAddress().isAnyLocalAddress()) {
            throw new IllegalArgumentException("expected the address of an FTP server, got a wildcard host (name the server's host)");
        }
        return address;
    }

    /** A backend's passive range: as {@link #portRange}, but 0 (any port) names no port of the backend's own. */
    public static int[] backendPassivePorts(String s) {
        int[] range = portRange(s);
        if (range[0] == 0) {
            throw new IllegalArgumentException("expected the backend's own passive port range LOW-HIGH such as 40000-40049, got "
                    + quote(s) + " (0, any port, cannot be mapped to a backend)");
        }
        return range;
    }

    /**
     * {@link #BACKEND_FORM}, the {@code --backend} value: the name, address and options are checked as the
     * keys of a {@code balancer.backends} entry are. Messages start with the backend's name ("b1: weight
     * expected ..."), or with "expects" when there is no name, to follow "--backend ".
     */
    public static BackendSpec backendSpec(String text) {
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("expects " + BACKEND_FORM + ", got " + quote(text));
        }
        String name = text.substring(0, eq);
        String[] parts = text.substring(eq + 1).split(",", -1);
        try {
            backendName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(quote(name) + ": " + e.getMessage(), e);
        }
        int weight = 1;
        int maxConnecting = BackendSpec.DEFAULT_MAX_CONNECTING;
        int[] passive = {0, 0};
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i];
            int equals = option.indexOf('=');
            String key = equals < 0 ? option : option.substring(0, equals);
            String value = equals < 0 ? "" : option.substring(equals + 1);
            if (!BACKEND_OPTIONS.contains(key) || equals < 0) {
                throw new IllegalArgumentException(name + ": unknown option " + quote(option)
                        + " (expected weight=N, max-connecting=N or passive-ports=LOW-HIGH)");
            }
            try {
                switch (key) {
                    case "weight" -> weight = Setting.BACKEND_WEIGHT.parse(value);
                    case "max-connecting" -> maxConnecting = Setting.BACKEND_MAX_CONNECTING.parse(value);
                    default -> passive = backendPassivePorts(value);
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": " + key + " " + e.getMessage(), e);
            }
        }
        InetSocketAddress address;
        try {
            address = backendAddress(parts[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": address " + e.getMessage(), e);
        }
        return new BackendSpec(name, address, weight, maxConnecting, passive[0], passive[1]);
    }

    /**
     * The password of the health checks' account. Never echoed: messages say what is wrong, not what was written.
     */
    public static String checkPassword(String s) {
        if (s.isEmpty()) {
            throw new IllegalArgumentException("expected the password of the check account, got an empty value");
        }
        // SECURITY: the password is sent as "PASS <password>\r\n"; a CR or LF in it would smuggle a second
        // command to every backend. The value is not shown.
        if (s.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("expected a password on one line; the value contains control characters"
                    + " (it is not shown here)");
        }
        return s;
    }

    /** The health checks' user: one line of text, sent as "USER name". */
    public static String checkUserName(String s) {
        if (s.isBlank()) {
            throw new IllegalArgumentException("expected text, got an empty value");
        }
        // SECURITY: a CR or LF here would end up in the USER command, where it could forge a second command.
        if (s.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("expected text on one line, got " + quote(s) + " (control characters are not allowed)");
        }
        return s;
    }

    /**
     * What keeps the health checks from running, or null: type ftp-login logs in, so it needs the check
     * account's user and password. The file and the flags refuse the same settings in these words (which name
     * both ways to give the account); each front-end only says where the type came from.
     */
    public static String checkAccountProblem(BalancerSettings.Check check) {
        if (check.type() != BalancerSettings.CheckType.FTP_LOGIN) {
            return null;
        }
        if (check.user() == null) {
            return "ftp-login logs in, so it needs an account that exists on every backend: --check-user NAME:PASSWORD,"
                    + " or user and password under balancer.check";
        }
        if (check.password() == null) {
            return "ftp-login logs in, so it needs the password of user " + quote(check.user()) + ": --check-user "
                    + check.user() + ":PASSWORD, or password under balancer.check";
        }
        return null;
    }

    /** {@code NAME:PASSWORD}, the {@code --check-user} value: {name, password}, each checked as balancer.check's user and password. */
    public static String[] checkAccount(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected NAME:PASSWORD");
        }
        return new String[] {checkUserName(text.substring(0, colon)), checkPassword(text.substring(colon + 1))};
    }

    /**
     * {@code NAME:PASSWORD}, the {@code --user} value: a read-write account whose password is hashed here and not
     * kept. The name follows the rule of the users file. Messages never show the password.
     */
    public static ServerSettings.UserAccount serverUser(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("expected NAME:PASSWORD, got " + quote(text.replaceAll(":.*", ":...")));
        }
        String name = userName(text.substring(0, colon));
        // The password is in the process list already: its in-memory hash need not be costly (see hashInMemoryOnly).
        return new ServerSettings.UserAccount(name, PasswordHasher.hashInMemoryOnly(text.substring(colon + 1).toCharArray()),
                null, true, true);
    }

    /**
     * {@link #ADMIN_USER_FORM}, the {@code --admin-user} value (role admin unless given); the password is
     * hashed here and not kept. The name follows the rule of balancer.admin.users.
     */
    public static AdminSettings.User adminUser(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("expected " + ADMIN_USER_FORM);
        }
        String name = userName(text.substring(0, colon));
        String password = text.substring(colon + 1);
        AdminSettings.Role role = AdminSettings.Role.ADMIN;
        for (AdminSettings.Role r : AdminSettings.Role.values()) {
            String suffix = ":" + r.spelling();
            if (password.endsWith(suffix) && password.length() > suffix.length()) {
                role = r;
                password = password.substring(0, password.length() - suffix.length());
                break;
            }
        }
        return new AdminSettings.User(name, PasswordHasher.hash(password.toCharArray()), role);
    }

    /** The constant spelt {@code s} in kebab-case ("ftp-login" for FTP_LOGIN); exact spelling only. */
    public static <E extends Enum<E>> E choice(E[] values, String s) {
        for (E v : values) {
            if (spelling(v).equals(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException("expected one of " + choices(values) + ", got " + quote(s));
    }

    /** "tcp, ftp or ftp-login". */
    public static <E extends Enum<E>> String choices(E[] values) {
        List<String> names = new ArrayList<>();
        for (E v : values) {
            names.add(spelling(v));
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.getLast();
    }

    private static String spelling(Enum<?> v) {
        return v.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * What is wrong with the balancer's TLS settings taken together, or null: the file and the command line
     * refuse the same combinations. {@code howToTerminate} is the front-end's way to turn termination on
     * ("give a certificate (or mode: terminate)" in the file, "give --tls-cert (or --tls-mode terminate)" on
     * the command line).
     */
    public static String balancerTlsProblem(BalancerSettings.Tls tls, String howToTerminate) {
        return switch (tls.mode()) {
            case OFF -> {
                if (tls.implicitListen() != null) {
                    yield "an implicit-FTPS listener needs TLS termination: " + howToTerminate;
                }
                if (tls.require() != TlsPolicy.OPTIONAL) {
                    yield "requiring TLS needs TLS termination: " + howToTerminate;
                }
                if (tls.backends().ftps()) {
                    yield "FTPS to the backends needs TLS termination: " + howToTerminate;
                }
                yield null;
            }
            case TERMINATE -> tls.certificate() == null && tls.selfSignedDirectory() == null
                    ? "mode terminate needs a certificate (and its key), or a self-signed-directory where a self-signed one is kept"
                    : null;
            case PASSTHROUGH -> {
                if (tls.certificate() != null) {
                    yield "mode passthrough holds no key: the certificate belongs on the backends (remove it, or use mode terminate)";
                }
                if (tls.implicitListen() != null) {
                    yield "mode passthrough relays the clients' own TLS: an implicit listener needs mode terminate";
                }
                yield null;
            }
        };
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

    /** "500ms", "30s", "5m", "1h", "1d"; a plain number is seconds. Zero is allowed; {@link #positiveDuration} refuses it. */
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

    /** What {@link #umask} accepts, for "expected ..." messages. */
    public static final String UPLOAD_DIRECTORY = "a directory below the anonymous home, such as incoming";

    /**
     * The anonymous upload directory, relative to the anonymous home ("incoming", "pub/incoming"; a leading
     * "/" means the same): a virtual path, so it can never lead out of the home; the home itself is refused,
     * since it would make the whole anonymous area write-only.
     */
    public static VirtualPath uploadDirectory(String s) {
        VirtualPath path;
        try {
            path = VirtualPath.resolve(VirtualPath.ROOT, s);
        } catch (InvalidVirtualPathException e) {
            throw invalid("expected " + UPLOAD_DIRECTORY, s, e.getMessage());
        }
        if (path.isRoot()) {
            throw invalid("expected " + UPLOAD_DIRECTORY, s, "the anonymous home itself");
        }
        return path;
    }

    public static final String UMASK = "an octal umask of 1 to 4 digits such as 022, 027 or 077";

    /**
     * A umask, octal as for umask(1) and systemd's UMask= ("022", "0027", "77"), 0 to 0777. A value of
     * YAML's own octal spelling (0o22) or with setuid/setgid/sticky bits (1022) is refused.
     */
    public static int umask(String s) {
        if (!UMASK_TEXT.matcher(s).matches()) {
            throw new IllegalArgumentException("expected " + UMASK + ", got " + quote(s));
        }
        int value = Integer.parseInt(s, 8);
        if (value > 0777) {
            throw new IllegalArgumentException("expected " + UMASK + ", got " + quote(s) + " (above 0777)");
        }
        return value;
    }

    /** What {@link #size} accepts, for "expected ..." messages. */
    public static final String SIZE = "a size such as 8MiB, 256MiB or 1GiB (a plain number is bytes)";
    public static final String PART_SIZE = "a part size of at least 5MiB (S3's smallest part), such as 8MiB";
    private static final Pattern SIZE_TEXT = Pattern.compile("([0-9]{1,18})(B|KiB|MiB|GiB|TiB)?");

    /**
     * A number of bytes: "8MiB", "256MiB", "1GiB", "512KiB"; a plain number is bytes. Binary units only, spelt as
     * IEC 80000-13 spells them, so "8MB" (which could mean 10^6 or 2^20) is refused rather than guessed.
     */
    public static long size(String s) {
        Matcher m = SIZE_TEXT.matcher(s);
        if (!m.matches()) {
            throw invalid("expected " + SIZE, s, decimalUnitHint(s));
        }
        long amount = Long.parseLong(m.group(1));
        int shift = switch (m.group(2) == null ? "B" : m.group(2)) {
            case "KiB" -> 10;
            case "MiB" -> 20;
            case "GiB" -> 30;
            case "TiB" -> 40;
            default -> 0;
        };
        if (amount > (Long.MAX_VALUE >> shift)) {
            throw invalid("expected " + SIZE, s, "too large");
        }
        return amount << shift;
    }

    /** "8MB", "8M", "8 mb": a unit that could mean 10^6 or 2^20, so the binary spelling is asked for. */
    private static String decimalUnitHint(String s) {
        return s.matches("[0-9]+\\s*[kKmMgGtT][bB]?") ? "use KiB, MiB, GiB or TiB" : null;
    }

    /** What {@link #rate} accepts. */
    public static final String RATE = "a rate in bytes per second such as 10MiB (0: no limit)";

    /** Bytes per second, written as a {@link #size} ("10MiB" is 10 MiB/s); 0 is no limit. */
    public static long rate(String s) {
        try {
            return size(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("expected " + SIZE, "expected " + RATE), e);
        }
    }

    /** A {@link #size} above zero. */
    public static long positiveSize(String s) {
        long n = size(s);
        if (n == 0) {
            throw new IllegalArgumentException("expected a size above zero such as 256MiB, got " + quote(s));
        }
        return n;
    }

    /** A multipart-upload part: S3 refuses parts below 5 MiB (but the last), and a part is one buffer (below 2 GiB). */
    public static int partSize(String s) {
        long n;
        try {
            n = size(s);
        } catch (IllegalArgumentException e) {
            throw invalid("expected " + PART_SIZE, s, decimalUnitHint(s));
        }
        if (n < ObjectStore.MIN_PART_SIZE) {
            throw invalid("expected " + PART_SIZE, s, "below 5MiB");
        }
        if (n > MAX_PART_SIZE) {
            throw invalid("expected " + PART_SIZE, s, "above 1GiB, more than one buffer should hold");
        }
        return (int) n;
    }

    private static final long MAX_PART_SIZE = 1L << 30;

    /**
     * What keeps {@code file} from serving as the store's credentials file, or null: the file's and the flag's words.
     * Checked when the settings are read, so a missing file is refused there rather than failing the start.
     */
    public static String credentialsFileProblem(Path file) {
        if (Files.isReadable(file) && !Files.isDirectory(file)) {
            return null;
        }
        return "cannot read " + file + (Files.exists(file) ? "" : " (no such file)")
                + "; expected an AWS credentials file with a [default] profile";
    }

    /** The words of the file and of the flags when the upload memory cannot hold one part. */
    public static String uploadMemoryProblem(long uploadMemory, int partSize) {
        return "upload-memory of " + uploadMemory + " bytes is less than one part (part-size " + partSize
                + " bytes): no upload could start; give at least part-size times parts-in-flight";
    }

    /** What {@link #storage} accepts. */
    public static final String STORAGE = "s3://BUCKET[/PREFIX] or local";
    public static final String BUCKET_RULE = "a bucket name of 3 to 63 letters, digits and . _ -";
    private static final Pattern BUCKET = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]");

    /**
     * The short form of a storage setting ({@code storage: s3://BUCKET/PREFIX}, {@code --storage}): an object store
     * with every other setting at its default, or null for {@code local}.
     */
    public static ObjectStore storage(String s) {
        if (s.equals("local")) {
            return null;
        }
        if (!s.startsWith("s3://")) {
            throw invalid("expected " + STORAGE, s, s.contains("://") ? "only s3:// addresses are known" : null);
        }
        String rest = s.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        if (bucket.isEmpty()) {
            throw invalid("expected " + STORAGE, s, "no bucket after s3://");
        }
        try {
            bucket(bucket);
            return ObjectStore.parseUrl("s3://" + bucket + "/" + prefix(slash < 0 ? "" : rest.substring(slash + 1)));
        } catch (IllegalArgumentException e) {
            throw invalid("expected " + STORAGE, s, e.getMessage());
        }
    }

    /** An S3 bucket name (AWS's rules, with the upper case and '_' that older buckets and other stores allow). */
    public static String bucket(String s) {
        if (!BUCKET.matcher(s).matches()) {
            throw new IllegalArgumentException("expected " + BUCKET_RULE + ", got " + quote(s));
        }
        return s;
    }

    /**
     * A key prefix ("ftp", "tenants/a"): slashes at either end are dropped; empty segments, "." and ".." are refused,
     * since the server's paths never make such keys and a prefix with them could never be listed as a directory.
     */
    public static String prefix(String s) {
        String trimmed = s.replaceAll("^/+|/+$", "");
        if (trimmed.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("a prefix on one line without control characters, got " + quote(s));
        }
        if (!trimmed.isEmpty()) {
            for (String segment : trimmed.split("/", -1)) {
                if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                    throw new IllegalArgumentException("a prefix of names separated by single '/' (no empty, '.' or"
                            + " '..' parts), got " + quote(s));
                }
            }
        }
        return trimmed;
    }

    private static final String ENDPOINT = "expected an http:// or https:// URL such as https://s3.example.com or http://127.0.0.1:9000";

    /** The object store's endpoint: an http or https URL with a host, and nothing after the port but "/". */
    public static java.net.URI endpoint(String s) {
        java.net.URI uri;
        try {
            uri = new java.net.URI(s);
        } catch (java.net.URISyntaxException e) {
            throw invalid(ENDPOINT, s, e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw invalid(ENDPOINT, s, uri.getScheme() == null ? "no scheme" : "scheme " + uri.getScheme() + " is not http or https");
        }
        if (uri.getHost() == null) {
            throw invalid(ENDPOINT, s, "no host");
        }
        if (uri.getUserInfo() != null) {
            // SECURITY: keys belong in the credentials, not in a URL that is logged and shown.
            throw new IllegalArgumentException(ENDPOINT + ", got a URL with user information (not shown here);"
                    + " give the keys through the credentials instead");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw invalid(ENDPOINT, s, "a query or fragment has no meaning here");
        }
        return uri;
    }

    /** A signing region: "us-east-1", "eu-west-3", or whatever name an S3-compatible store expects. */
    public static String region(String s) {
        if (!s.matches("[A-Za-z0-9-]{1,64}")) {
            throw new IllegalArgumentException("expected a region such as us-east-1, got " + quote(s));
        }
        return s;
    }

    /** A {@link #duration} above zero: for timeouts and intervals, where zero would mean "at once" or "always". */
    public static Duration positiveDuration(String s) {
        Duration d = duration(s);
        if (d.isZero()) {
            throw new IllegalArgumentException("expected a duration above zero such as 30s, got " + quote(s));
        }
        return d;
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

    /**
     * The balancer's {@code source}: the local address its connections to backends come from (HAProxy's
     * {@code source}). A literal only, so a name cannot resolve to another address later; one address, not a
     * wildcard or multicast one, as a connection must come from exactly it. Whether it is one of this host's is
     * the kernel's answer when connecting (a backend that cannot be reached from it fails its checks).
     */
    public static InetAddress sourceAddress(String s) {
        InetAddress address;
        try {
            address = IpLiterals.literal(s, true);
        } catch (IllegalArgumentException e) {
            throw invalid(SOURCE, s, e.getMessage());
        }
        if (address.isAnyLocalAddress()) {
            throw invalid(SOURCE, s, "the wildcard address lets routing pick, which is what leaving source out does");
        }
        if (address.isMulticastAddress()) {
            throw invalid(SOURCE, s, "a multicast address cannot start a TCP connection");
        }
        return address;
    }

    /**
     * A {@code node} name: the tag on every log line and the heading of the stats page, so one token that a
     * log tool need not quote (HAProxy's {@code node}).
     */
    public static String nodeName(String s) {
        String problem = NodeName.problem(s);
        if (problem != null) {
            throw invalid("expected a node name such as ftp-1 or lb-a.example.net", s, "a node name " + problem);
        }
        return s;
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

    /** A value for an error message: single-quoted, control characters escaped, long text cut. */
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
