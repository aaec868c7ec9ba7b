package dev.ferry.config;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings.BackendTls;
import dev.ferry.balancer.BalancerSettings.Balance;
import dev.ferry.balancer.BalancerSettings.Check;
import dev.ferry.balancer.BalancerSettings.CheckType;
import dev.ferry.balancer.BalancerSettings.ProxyProtocol;
import dev.ferry.balancer.BalancerSettings.Queue;
import dev.ferry.balancer.BalancerSettings.Timeouts;
import dev.ferry.balancer.BalancerSettings.TlsMode;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.limits.BanRules;
import dev.ferry.runtime.net.NetworkAddress;
import dev.ferry.runtime.password.PasswordHasher;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * The {@code ferry balancer --config} file. Settings live under a top-level {@code balancer:}
 * mapping; the file may also hold a {@code server:} section, which is left to
 * {@link ServerConfigFile}. Every key is optional, and a key left out keeps the value of the
 * settings passed in: backends too, so they may come from the command line instead. The whole
 * section is checked before anything is built, and the first problem is reported as
 * FILE:LINE:COL. Keys and their meaning are documented in docs/configuration.md; keep the two in step.
 */
public final class BalancerConfigFile {

    private static final List<String> TOP_KEYS = ServerConfigFile.TOP_KEYS;
    private static final List<String> BALANCER_KEYS = List.of("listen", "public-address", "networks", "passive-ports",
            "backends", "balance", "check", "max-sessions", "max-sessions-per-address", "queue", "timeouts", "retries", "proxy-protocol", "source", "greeting", "admin", "tls",
            "state-directory", "node", "login", "database");
    /** The server's names (server.login), for the per-address bans the balancer keeps itself. */
    private static final List<String> LOGIN_KEYS = List.of("ban-after-failures", "ban-window", "ban-duration");
    private static final List<String> BACKEND_KEYS = List.of("name", "address", "weight", "max-connecting", "passive-ports");
    private static final List<String> QUEUE_KEYS = List.of("size", "timeout");
    private static final List<String> CHECK_KEYS = List.of("type", "interval", "timeout", "rise", "fall", "user", "password");
    private static final List<String> TIMEOUT_KEYS = List.of("connect", "client-idle", "server-idle", "data", "grace", "login");
    private static final List<String> TLS_KEYS = List.of("mode", "certificate", "key", "password-file", "self-signed-directory",
            "require", "session-reuse", "implicit-listen", "handshake-timeout", "backends", "backend-ca");
    private static final List<String> ADMIN_KEYS = List.of("listen", "users");
    private static final List<String> ADMIN_USER_KEYS = List.of("name", "password-hash", "role");
    /** How the file turns TLS termination on, in messages about combinations that need it. */
    private static final String HOW_TO_TERMINATE = "give a certificate (or mode: terminate)";

    private BalancerConfigFile() {
    }

    /** Reads a balancer config file; settings absent from the file keep the values of {@code base}. */
    public static BalancerSettings load(Path file, BalancerSettings base) throws ConfigException {
        YamlFile yaml = YamlFile.read(file);
        Node rootNode = yaml.root().orElseThrow(() -> new ConfigException(yaml.label(), 1, 1,
                "the file is empty; expected a `balancer:` section (see docs/configuration.md)"));
        YamlMapping top = YamlMapping.of(yaml, rootNode, "", TOP_KEYS, key -> BALANCER_KEYS.contains(key)
                ? "balancer settings go inside the `balancer:` section (indent '" + key + "' under `balancer:`)." : null);
        if (!top.has("balancer")) {
            throw top.missing("balancer", "the mapping that holds the balancer settings");
        }
        return balancer(YamlMapping.of(yaml, top.value("balancer"), "balancer", BALANCER_KEYS), base);
    }

    private static BalancerSettings balancer(YamlMapping m, BalancerSettings base) throws ConfigException {
        InetSocketAddress listen = m.parsed("listen", "HOST:PORT", Values::hostPort, base.listen());
        String publicAddress = m.parsed("public-address", "an IPv4 address or a host name", Values::publicAddress,
                base.publicAddress());
        List<NetworkAddress> networks = m.has("networks") ? ServerConfigFile.networks(m) : base.networkAddresses();
        int[] ports = m.parsed("passive-ports", "a port range LOW-HIGH", Values::portRange,
                new int[] {base.passiveLow(), base.passiveHigh()});
        List<BackendSpec> backends = m.has("backends") ? backends(m) : base.backends();
        Balance balance = m.parsed("balance", "one of " + Values.choices(Balance.values()),
                s -> Values.choice(Balance.values(), s), base.balance());
        Check check = m.has("check")
                ? check(YamlMapping.of(m.file(), m.value("check"), m.pathOf("check"), CHECK_KEYS, BalancerConfigFile::haproxyWord),
                        base.check())
                : base.check();
        int maxSessions = m.get(Setting.BALANCER_MAX_SESSIONS, base.maxSessions());
        // Left out: 0, half of max-sessions (BalancerSettings.perAddressLimit), whatever sets max-sessions.
        int maxPerAddress = m.get(Setting.BALANCER_MAX_SESSIONS_PER_ADDRESS, base.maxSessionsPerAddress());
        Queue queue = m.has("queue")
                ? queue(m.mapping("queue", QUEUE_KEYS).orElseThrow(), base.queue()) : base.queue();
        Timeouts timeouts = m.has("timeouts")
                ? timeouts(YamlMapping.of(m.file(), m.value("timeouts"), m.pathOf("timeouts"), TIMEOUT_KEYS,
                        BalancerConfigFile::serverTimeoutWord), base.timeouts())
                : base.timeouts();
        int retries = m.get(Setting.RETRIES, base.retries());
        ProxyProtocol proxyProtocol = m.parsed("proxy-protocol", "one of " + Values.choices(ProxyProtocol.values()),
                s -> Values.choice(ProxyProtocol.values(), s), base.proxyProtocol());
        java.net.InetAddress source = m.parsed("source", "a local IP address", Values::sourceAddress, base.source());
        String greeting = m.text("greeting", base.greeting());
        AdminSettings admin = m.has("admin") ? admin(m.mapping("admin", ADMIN_KEYS).orElseThrow(), base.admin()) : base.admin();
        Path stateDirectory = m.path("state-directory", m.file().directory(), base.stateDirectory());
        String node = m.parsed("node", "a node name", Values::nodeName, base.node());
        BalancerSettings.Tls tls = m.has("tls")
                ? tls(YamlMapping.of(m.file(), m.value("tls"), m.pathOf("tls"), TLS_KEYS, BalancerConfigFile::serverTlsWord),
                        m.file().directory(), base.tls(), stateDirectory)
                : base.tls();
        BanRules bans = m.has("login") ? bans(m.mapping("login", LOGIN_KEYS).orElseThrow(), base.bans()) : base.bans();
        // The servers' database: bans shared between balancers, accounts for the admin API (docs/policy.md).
        var database = m.has("database") ? DatabaseSection.read(m, m.file().directory()) : base.database();
        return new BalancerSettings(listen, publicAddress, networks, ports[0], ports[1], backends, balance, check,
                maxSessions, maxPerAddress, queue, timeouts, retries, proxyProtocol, source, greeting, admin, tls, stateDirectory, node,
                bans, database);
    }

    /** {@code login:}: failed logins per client address that ban it at the balancer (0 failures: off). */
    private static BanRules bans(YamlMapping m, BanRules base) throws ConfigException {
        return new BanRules(m.get(Setting.BALANCER_BAN_AFTER_FAILURES, base.afterFailures()),
                m.get(Setting.BALANCER_BAN_WINDOW, base.window()),
                m.get(Setting.BALANCER_BAN_DURATION, base.duration()));
    }

    /**
     * {@code tls:}: FTPS at the balancer. Relative file names are relative to the config file's directory.
     * Without {@code mode}, a certificate means terminate and no certificate off, as on the command line.
     */
    /**
     * {@code tls:}. {@code stateDirectory} (this file's {@code state-directory}, else the one the CLI passed in the
     * base settings, such as systemd's) is where mode terminate without a certificate keeps its self-signed one: the
     * CLI puts it there, so it only satisfies the check here and is not stored as {@code self-signed-directory}.
     */
    private static BalancerSettings.Tls tls(YamlMapping m, Path directory, BalancerSettings.Tls base, Path stateDirectory)
            throws ConfigException {
        Path cert = m.path("certificate", directory, base.certificate());
        Path key = m.path("key", directory, base.key());
        if (m.has("key") && cert == null) {
            throw m.missing("certificate", "the certificate file that goes with `key`");
        }
        if (m.has("certificate") && !Files.isRegularFile(cert)) {
            throw m.error("certificate", "cannot read " + cert + (Files.exists(cert) ? "" : " (no such file)")
                    + "; expected a PEM certificate chain or a PKCS#12 keystore");
        }
        if (m.has("key") && !Files.isRegularFile(key)) {
            throw m.error("key", "cannot read " + key + (Files.exists(key) ? "" : " (no such file)") + "; expected a PEM private key");
        }
        TlsMode mode = m.parsed("mode", "one of " + Values.choices(TlsMode.values()), s -> Values.choice(TlsMode.values(), s),
                m.has("certificate") && base.mode() == TlsMode.OFF ? TlsMode.TERMINATE : base.mode());
        BackendTls backendsTls = base.backends();
        if (m.has("backends")) {
            boolean ftps = m.parsed("backends", "plain or ftps", BalancerConfigFile::backendProtocol, null);
            backendsTls = new BackendTls(ftps, ftps ? backendsTls.trustedCertificates() : null);
        }
        if (m.has("backend-ca")) {
            Path ca = m.path("backend-ca", directory, null);
            if (!backendsTls.ftps()) {
                throw m.error("backend-ca", "backend-ca checks the certificates of FTPS backends; set `backends: ftps` too");
            }
            if (!Files.isRegularFile(ca)) {
                throw m.error("backend-ca", "cannot read " + ca + (Files.exists(ca) ? "" : " (no such file)")
                        + "; expected PEM certificates of the backends or of their CA");
            }
            backendsTls = new BackendTls(true, ca);
        }
        BalancerSettings.Tls tls = new BalancerSettings.Tls(mode, cert, key,
                m.path("password-file", directory, base.passwordFile()),
                m.path("self-signed-directory", directory, base.selfSignedDirectory()),
                m.parsed("require", "optional, login or required", Values::tlsPolicy, base.require()),
                m.parsed("session-reuse", "required, preferred or off", Values::sessionReuse, base.reuse()),
                m.parsed("implicit-listen", "HOST:PORT", Values::hostPort, base.implicitListen()),
                m.get(Setting.BALANCER_HANDSHAKE_TIMEOUT, base.handshakeTimeout()),
                backendsTls);
        String key2 = firstKey(m, List.of("mode", "certificate", "implicit-listen", "backends", "require"));
        String problem = Values.balancerTlsProblem(stateDirectory != null && tls.selfSignedDirectory() == null
                ? tls.withSelfSignedDirectory(stateDirectory) : tls, HOW_TO_TERMINATE);
        if (problem != null) {
            throw m.error(key2, problem);
        }
        return tls;
    }

    /** The first of {@code keys} present in the mapping (where a problem that involves several is reported). */
    private static String firstKey(YamlMapping m, List<String> keys) {
        for (String k : keys) {
            if (m.has(k)) {
                return k;
            }
        }
        return keys.getFirst();
    }

    private static boolean backendProtocol(String s) {
        return switch (s) {
            case "plain" -> false;
            case "ftps" -> true;
            default -> throw new IllegalArgumentException("expected plain or ftps, got " + Values.quote(s));
        };
    }

    /** Operators coming from the server's section write its names (limits.login-timeout, limits.idle-timeout). */
    private static String serverTimeoutWord(String key) {
        return switch (key) {
            case "login-timeout" -> "did you mean 'login' (ferry server's limits.login-timeout)?";
            case "idle-timeout" -> "did you mean 'client-idle' (ferry server's limits.idle-timeout)?";
            default -> null;
        };
    }

    /** Operators coming from the server's section write its key names. */
    private static String serverTlsWord(String key) {
        return switch (key) {
            case "cert" -> "did you mean 'certificate'?";
            case "enabled" -> "did you mean 'mode' (terminate, passthrough or off)?";
            default -> null;
        };
    }

    private static List<BackendSpec> backends(YamlMapping balancer) throws ConfigException {
        List<Node> items = balancer.list("backends", "{name: NAME, address: HOST:PORT, weight: N} entries").orElseThrow();
        if (items.isEmpty()) {
            throw balancer.error("backends", "expected at least one backend, got an empty list");
        }
        List<BackendSpec> backends = new ArrayList<>();
        Map<String, Node> seen = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            YamlMapping entry = YamlMapping.of(balancer.file(), items.get(i), balancer.pathOf("backends") + "[" + i + "]",
                    BACKEND_KEYS);
            if (!entry.has("name")) {
                throw entry.missing("name", Values.BACKEND_NAME_RULE);
            }
            if (!entry.has("address")) {
                throw entry.missing("address", "HOST:PORT of the FTP server");
            }
            String name = entry.parsed("name", Values.BACKEND_NAME_RULE, Values::backendName, null);
            Node first = seen.putIfAbsent(name, entry.value("name"));
            if (first != null) {
                throw entry.error("name", "duplicate backend " + Values.quote(name) + " (first at "
                        + balancer.file().lineOf(first) + "); each name may appear once");
            }
            InetSocketAddress address = entry.parsed("address", "HOST:PORT", Values::backendAddress, null);
            int weight = entry.get(Setting.BACKEND_WEIGHT, 1);
            int maxConnecting = entry.get(Setting.BACKEND_MAX_CONNECTING, BackendSpec.DEFAULT_MAX_CONNECTING);
            // The backend's own passive range, which TLS passthrough maps to it (docs/tls-passthrough.md).
            int[] passive = entry.parsed("passive-ports", "a port range LOW-HIGH", Values::backendPassivePorts,
                    new int[] {0, 0});
            backends.add(new BackendSpec(name, address, weight, maxConnecting, passive[0], passive[1]));
        }
        return backends;
    }

    private static Check check(YamlMapping m, Check base) throws ConfigException {
        CheckType type = m.parsed("type", "one of " + Values.choices(CheckType.values()),
                s -> Values.choice(CheckType.values(), s), base.type());
        String user = m.parsed("user", "text", Values::checkUserName, base.user());
        String password = m.has("password") ? secret(m, "password") : base.password();
        Check check = new Check(type,
                m.get(Setting.CHECK_INTERVAL, base.interval()),
                m.get(Setting.CHECK_TIMEOUT, base.timeout()),
                m.get(Setting.CHECK_RISE, base.rise()),
                m.get(Setting.CHECK_FALL, base.fall()),
                user, password);
        String problem = Values.checkAccountProblem(check);
        if (problem != null) {
            throw m.errorAt("type", problem);
        }
        return check;
    }

    /** Operators coming from HAProxy write its short words; point them at ours. */
    private static String haproxyWord(String key) {
        return key.equals("inter") ? "did you mean 'interval' (HAProxy's inter)?" : null;
    }

    /** A plain secret for the check account ({@link Values#checkPassword}); never echoed, nor is a non-scalar value. */
    private static String secret(YamlMapping m, String key) throws ConfigException {
        Node value = m.value(key);
        if (!(value instanceof ScalarNode) || YamlFile.isNull(value)) {
            throw m.error(key, "expected the password of the check account, got " + YamlFile.describe(value));
        }
        return m.parsed(key, "the password of the check account", Values::checkPassword, null);
    }

    /**
     * The admin listener: on as soon as the section is present (at {@link AdminSettings#DEFAULT_LISTEN}
     * unless {@code listen} says otherwise). Users may also come from the command line, which checks
     * that there is at least one.
     */
    private static AdminSettings admin(YamlMapping m, AdminSettings base) throws ConfigException {
        InetSocketAddress listen = m.parsed("listen", "HOST:PORT", Values::hostPort,
                base.listen() == null ? AdminSettings.DEFAULT_LISTEN : base.listen());
        List<AdminSettings.User> users = m.has("users") ? adminUsers(m) : base.users();
        return new AdminSettings(listen, users);
    }

    private static List<AdminSettings.User> adminUsers(YamlMapping admin) throws ConfigException {
        List<Node> items = admin.list("users", "{name: NAME, password-hash: HASH, role: admin|read-only} entries").orElseThrow();
        if (items.isEmpty()) {
            throw admin.error("users", "expected at least one user, got an empty list (the admin page has no default password)");
        }
        List<AdminSettings.User> users = new ArrayList<>();
        Map<String, Node> seen = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            YamlMapping entry = YamlMapping.of(admin.file(), items.get(i), admin.pathOf("users") + "[" + i + "]", ADMIN_USER_KEYS);
            if (!entry.has("name")) {
                throw entry.missing("name", Values.USER_NAME_RULE);
            }
            if (!entry.has("password-hash")) {
                throw entry.missing("password-hash", "a hash made by `ferry passwd`");
            }
            if (!entry.has("role")) {
                throw entry.missing("role", "admin (may change backends and end sessions) or read-only (sees everything, changes nothing)");
            }
            String name = entry.parsed("name", Values.USER_NAME_RULE, Values::userName, null);
            Node first = seen.putIfAbsent(name, entry.value("name"));
            if (first != null) {
                throw entry.error("name", "duplicate admin user " + Values.quote(name) + " (first at "
                        + admin.file().lineOf(first) + "); each name may appear once");
            }
            String hash = adminPasswordHash(entry);
            AdminSettings.Role role = entry.parsed("role", "admin or read-only", BalancerConfigFile::adminRole, null);
            users.add(new AdminSettings.User(name, hash, role));
        }
        return users;
    }

    private static AdminSettings.Role adminRole(String s) {
        AdminSettings.Role role = AdminSettings.Role.of(s);
        if (role == null) {
            throw new IllegalArgumentException("expected admin or read-only, got " + Values.quote(s));
        }
        return role;
    }

    /** Never echoes the value: it may be a plain password typed by mistake. */
    private static String adminPasswordHash(YamlMapping entry) throws ConfigException {
        Node value = entry.value("password-hash");
        if (!(value instanceof ScalarNode scalar) || YamlFile.isNull(value)) {
            throw entry.error("password-hash", "expected a password hash made by `ferry passwd`, got " + YamlFile.describe(value));
        }
        // SECURITY: only a hash is accepted, so a plain password pasted here fails at start-up
        // instead of being compared as a hash; PasswordHasher's messages never quote the value.
        String problem = PasswordHasher.problemWith(scalar.getValue());
        if (problem != null) {
            throw entry.error("password-hash", problem + " (make one with `ferry passwd`; the value is not shown here)");
        }
        return scalar.getValue();
    }

    private static Queue queue(YamlMapping m, Queue base) throws ConfigException {
        return new Queue(m.get(Setting.QUEUE_SIZE, base.size()), m.get(Setting.QUEUE_TIMEOUT, base.timeout()));
    }

    private static Timeouts timeouts(YamlMapping m, Timeouts base) throws ConfigException {
        return new Timeouts(
                m.get(Setting.CONNECT_TIMEOUT, base.connect()),
                m.get(Setting.CLIENT_IDLE_TIMEOUT, base.clientIdle()),
                m.get(Setting.SERVER_IDLE, base.serverIdle()),
                m.get(Setting.DATA_TIMEOUT, base.data()),
                m.get(Setting.GRACE, base.grace()),
                m.get(Setting.BALANCER_LOGIN_TIMEOUT, base.login()));
    }
}
