package dev.ferry.config;

import dev.ferry.database.DatabaseSettings;
import dev.ferry.runtime.net.NetworkAddress;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.ServerSettings.Limits;
import dev.ferry.server.ServerSettings.LoginPolicy;
import dev.ferry.server.ServerSettings.Passive;
import dev.ferry.server.ServerSettings.Tls;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.policy.Bandwidth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * The {@code ferry server --config} file. Settings live under a top-level {@code server:} mapping
 * (a {@code balancer:} section may share the file; {@link BalancerConfigFile} reads it); every key
 * is optional, and a key left out keeps the value of the settings passed in (the defaults, in
 * practice). The whole file is checked before anything is built, and the first problem is reported
 * as FILE:LINE:COL. Keys and their meaning are documented in docs/configuration.md; keep the two in step.
 */
public final class ServerConfigFile {

    /** Top-level sections of a Ferry file; each loader reads its own and leaves the others to theirs ({@link LogConfigFile} reads log:). */
    static final List<String> TOP_KEYS = List.of("server", "balancer", "log");
    private static final List<String> SERVER_KEYS = List.of("listen", "root", "users-file", "users", "anonymous",
            "passive", "limits", "login", "active-mode", "server-name", "proxy-protocol", "metrics", "tls",
            "state-directory", "umask", "node", "storage", "events", "ldap", "auth-hook", "database");
    private static final List<String> ANONYMOUS_KEYS = List.of("enabled", "home", "upload-directory");
    private static final List<String> PASSIVE_KEYS = List.of("ports", "public-address", "networks", "accept-timeout");
    private static final List<String> NETWORK_KEYS = List.of("network", "address");
    private static final List<String> LIMITS_KEYS = List.of("max-sessions", "max-sessions-per-address",
            "idle-timeout", "data-timeout", "max-command-length", "login-timeout", "upload-rate", "download-rate");
    private static final List<String> PROXY_PROTOCOL_KEYS = List.of("trusted");
    private static final List<String> METRICS_KEYS = List.of("listen");
    private static final List<String> TLS_KEYS = List.of("enabled", "cert", "key", "password-file", "self-signed-directory",
            "require", "session-reuse", "implicit-listen", "handshake-timeout", "allow-ccc");
    private static final List<String> LOGIN_KEYS = List.of("failure-delay", "max-attempts-per-session",
            "ban-after-failures", "ban-window", "ban-duration", "credential-cache-ttl");

    private ServerConfigFile() {
    }

    /** Reads a server config file; settings absent from the file keep the values of {@code base}. */
    public static ServerSettings load(Path file, ServerSettings base) throws ConfigException {
        YamlFile yaml = YamlFile.read(file);
        Node rootNode = yaml.root().orElseThrow(() -> new ConfigException(yaml.label(), 1, 1,
                "the file is empty; expected a `server:` section (see docs/configuration.md)"));
        YamlMapping top = YamlMapping.of(yaml, rootNode, "", TOP_KEYS, key -> SERVER_KEYS.contains(key)
                ? "server settings go inside the `server:` section (indent '" + key + "' under `server:`)." : null);
        if (!top.has("server")) {
            throw top.missing("server", "the mapping that holds the server settings");
        }
        return server(YamlMapping.of(yaml, top.value("server"), "server", SERVER_KEYS), base);
    }

    /**
     * Where a configuration file keeps its accounts: its users file, the root that homes are under, and the
     * server's object store (null: local files, where homes are directories to create). With {@code users: database}
     * the usersFile is null and {@code database} says where the accounts are.
     */
    public record Accounts(Path usersFile, Path root, ObjectStore objectStore, DatabaseSettings database) {
        public Accounts(Path usersFile, Path root, ObjectStore objectStore) {
            this(usersFile, root, objectStore, null);
        }
    }

    /**
     * {@code server.users-file} and {@code server.root} of {@code file}, read without the rest of it (for
     * {@code ferry users --config}, which must work while the users file is missing or being mended), with
     * the same FILE:LINE:COL errors as {@link #load}. Root is null when the file leaves it out.
     */
    public static Accounts accounts(Path file) throws ConfigException {
        YamlFile yaml = YamlFile.read(file);
        Node rootNode = yaml.root().orElseThrow(() -> new ConfigException(yaml.label(), 1, 1,
                "the file is empty; expected a `server:` section (see docs/configuration.md)"));
        YamlMapping top = YamlMapping.of(yaml, rootNode, "", TOP_KEYS, key -> null);
        if (!top.has("server")) {
            throw top.missing("server", "the mapping that holds the server settings");
        }
        YamlMapping server = YamlMapping.of(yaml, top.value("server"), "server", SERVER_KEYS);
        Path directory = server.file().directory();
        ObjectStore objectStore = server.has("storage") ? StorageSection.read(server, "storage", directory, null).objectStore() : null;
        if (usersFromDatabase(server)) {
            return new Accounts(null, server.path("root", directory, objectStore != null ? Path.of("/") : null),
                    objectStore, DatabaseSection.read(server, directory));
        }
        Path usersFile = server.path("users-file", directory, null);
        if (usersFile == null) {
            throw server.missing("users-file", "the users file that `ferry users` edits; accounts written under"
                    + " `users:` are edited in this file itself");
        }
        ObjectStore store = objectStore;
        Path root = server.path("root", directory, store != null ? Path.of("/") : null);
        return new Accounts(usersFile, root, store);
    }

    /**
     * What is wrong with the homes of {@code s} once the command line has had its say (--storage may put a file's
     * accounts on an object store), or null. On an object store a home is the key prefix named by its path below the
     * root, so it must lie below the root. The file's own accounts were checked by {@link #load} already, with
     * FILE:LINE:COL; this names the user.
     */
    public static String objectStoreHomeProblem(ServerSettings s) {
        Path root = s.root().normalize();
        for (ServerSettings.UserAccount user : s.users()) {
            if (!user.storedLocally(s.objectStore()) && user.home() != null && !user.home().normalize().startsWith(root)) {
                return "user " + Values.quote(user.name()) + ": " + homeNotBelowRoot(user.home(), root);
            }
            if (user.storage() != null && user.storage().local() && s.objectStore() != null && user.home() == null) {
                return "user " + Values.quote(user.name()) + " keeps local files (storage: local) on a server whose files"
                        + " are on " + s.objectStore().url() + ": it needs a home, the local directory it sees as /";
            }
        }
        Path anonymous = s.anonymous().home();
        if (s.objectStore() != null && anonymous != null && !anonymous.normalize().startsWith(root)) {
            return "anonymous " + homeNotBelowRoot(anonymous, root);
        }
        return null;
    }

    /** Why a home outside the root cannot be on an object store; the words of the file's checks and of the flags'. */
    static String homeNotBelowRoot(Path home, Path root) {
        return "home " + home + " is not below the server root " + root
                + "; on object storage a home is the key prefix named by its path below the root";
    }

    private static ServerSettings server(YamlMapping server, ServerSettings base) throws ConfigException {
        Path directory = server.file().directory();
        ServerSettings s = base;
        s = s.withListen(server.parsed("listen", "HOST:PORT", Values::hostPort, s.listen()));
        if (server.has("storage")) {
            s = s.withObjectStore(StorageSection.read(server, "storage", directory, null).objectStore());
        }
        // On an object store the root only names what homes are relative to: "/" unless given.
        Path root = server.path("root", directory, server.has("storage") && s.objectStore() != null ? Path.of("/") : s.root());
        s = s.withRoot(root);
        // Read whenever present: what the fleet shares (accounts with users: database, quotas, sessions, bans).
        if (server.has("database")) {
            s = s.withDatabase(DatabaseSection.read(server, directory));
        }
        // users: database / ldap / hook name where logins are checked; users: as a list is the inline accounts.
        String source = AccountSourceSection.kind(server);
        if (source != null) {
            s = s.withUsers(List.of(), null).withAccountSource(AccountSourceSection.read(server, source, directory));
        } else if (server.has("users-file") || server.has("users")) {
            UserList users = new UserList(root, s.objectStore());
            Path usersFile = server.path("users-file", directory, null);
            if (usersFile != null) {
                if (!Files.isReadable(usersFile) || Files.isDirectory(usersFile)) {
                    throw server.error("users-file", "cannot read " + usersFile
                            + (Files.exists(usersFile) ? "" : " (no such file)") + "; expected a readable YAML users file");
                }
                UsersFile.readInto(usersFile, users);
            }
            if (server.has("users")) {
                users.addAll(server, "users");
            }
            s = s.withUsers(users.accounts(), usersFile);
        }
        if (server.has("anonymous")) {
            s = s.withAnonymous(anonymous(server.mapping("anonymous", ANONYMOUS_KEYS).orElseThrow(), root, s.anonymous(),
                    s.objectStore()));
        }
        if (server.has("passive")) {
            s = s.withPassive(passive(server.mapping("passive", PASSIVE_KEYS).orElseThrow(), s.passive()));
        }
        if (server.has("limits")) {
            s = s.withLimits(limits(server.mapping("limits", LIMITS_KEYS).orElseThrow(), s.limits()));
        }
        if (server.has("login")) {
            s = s.withLoginPolicy(login(server.mapping("login", LOGIN_KEYS).orElseThrow(), s.loginPolicy()));
        }
        if (server.has("proxy-protocol")) {
            s = s.withTrustedProxies(trustedProxies(server.mapping("proxy-protocol", PROXY_PROTOCOL_KEYS).orElseThrow(),
                    s.trustedProxies()));
        }
        if (server.has("metrics")) {
            YamlMapping metrics = server.mapping("metrics", METRICS_KEYS).orElseThrow();
            s = s.withMetricsListen(metrics.parsed("listen", "HOST:PORT", Values::hostPort, s.metricsListen()));
        }
        if (server.has("tls")) {
            s = s.withTls(tls(server.mapping("tls", TLS_KEYS).orElseThrow(), directory, s.tls()));
        }
        s = s.withAllowActiveMode(server.bool("active-mode", s.allowActiveMode()));
        s = s.withServerName(server.text("server-name", s.serverName()));
        s = s.withStateDirectory(server.path("state-directory", directory, s.stateDirectory()));
        s = s.withUmask(server.get(Setting.SERVER_UMASK, s.umask()));
        s = s.withNode(server.parsed("node", "a node name", Values::nodeName, s.node()));
        if (server.has("events")) {
            s = s.withEvents(EventsSection.read(server.mapping("events", EventsSection.KEYS).orElseThrow(), s.events()));
        }
        return s;
    }

    /**
     * Whether {@code users: database} is set: then the accounts are in PostgreSQL, the {@code database:} section must
     * say where, and a users file would be a second, silently ignored, source (refused).
     */
    private static boolean usersFromDatabase(YamlMapping server) throws ConfigException {
        if (!(server.value("users") instanceof ScalarNode scalar) || YamlFile.isNull(scalar)) {
            return false;
        }
        String kind = AccountSourceSection.kind(server);
        if (!"database".equals(kind)) {
            // ferry users edits the users file or the database; a directory or a hook keeps its accounts itself
            throw server.error("users", "users: " + kind + " keeps its accounts outside Ferry; `ferry users` manages"
                    + " the users file and `users: database`");
        }
        if (!server.has("database")) {
            throw server.missing("database", "where the accounts of `users: database` are: url, user, password-file");
        }
        return true;
    }


    /** {@code tls:}: FTPS. Relative file names are relative to the config file's directory. */
    private static Tls tls(YamlMapping m, Path directory, Tls base) throws ConfigException {
        Path cert = m.path("cert", directory, base.certificate());
        Path key = m.path("key", directory, base.key());
        if (m.has("key") && !m.has("cert")) {
            throw m.missing("cert", "the certificate file that goes with `key`");
        }
        if (cert != null) {
            if (!Files.isRegularFile(cert)) {
                throw m.error("cert", "cannot read " + cert + (Files.exists(cert) ? "" : " (no such file)")
                        + "; expected a PEM certificate chain or a PKCS#12 keystore");
            }
            if (key != null && !Files.isRegularFile(key)) {
                throw m.error("key", "cannot read " + key + (Files.exists(key) ? "" : " (no such file)")
                        + "; expected a PEM private key");
            }
        }
        return new Tls(m.bool("enabled", base.enabled()), cert, key,
                m.path("password-file", directory, base.passwordFile()),
                m.path("self-signed-directory", directory, base.selfSignedDirectory()),
                m.parsed("require", "optional, login or required", Values::tlsPolicy, base.policy()),
                m.parsed("session-reuse", "required, preferred or off", Values::sessionReuse, base.reuse()),
                m.parsed("implicit-listen", "HOST:PORT", Values::hostPort, base.implicitListen()),
                m.get(Setting.SERVER_HANDSHAKE_TIMEOUT, base.handshakeTimeout()),
                m.bool("allow-ccc", base.allowCcc()));
    }

    private static Anonymous anonymous(YamlMapping m, Path root, Anonymous base, ObjectStore store) throws ConfigException {
        Path home = m.path("home", root, base.home());
        if (store != null && m.has("home") && !home.startsWith(root)) {
            throw m.error("home", homeNotBelowRoot(home, root) + " (write it relative to the root)");
        }
        return new Anonymous(m.bool("enabled", base.enabled()), home,
                m.parsed("upload-directory", Values.UPLOAD_DIRECTORY, Values::uploadDirectory, base.uploadDirectory()));
    }

    private static Passive passive(YamlMapping m, Passive base) throws ConfigException {
        int[] ports = m.parsed("ports", "a port range LOW-HIGH", Values::portRange,
                new int[] {base.portLow(), base.portHigh()});
        String publicAddress = m.parsed("public-address", "an IPv4 address or a host name", Values::publicAddress,
                base.publicAddress());
        List<NetworkAddress> networks = base.networkAddresses();
        if (m.has("networks")) {
            networks = networks(m);
        }
        Duration acceptTimeout = m.get(Setting.SERVER_ACCEPT_TIMEOUT, base.acceptTimeout());
        return new Passive(ports[0], ports[1], publicAddress, networks, acceptTimeout);
    }

    /** The {@code networks:} list of {@code passive} (shared with the balancer's file, which has the same list). */
    static List<NetworkAddress> networks(YamlMapping passive) throws ConfigException {
        List<Node> items = passive.list("networks", "{network: CIDR, address: ADDRESS} entries").orElseThrow();
        List<NetworkAddress> networks = new ArrayList<>();
        Map<String, Node> seen = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            YamlMapping entry = YamlMapping.of(passive.file(), items.get(i), passive.pathOf("networks") + "[" + i + "]", NETWORK_KEYS);
            if (!entry.has("network")) {
                throw entry.missing("network", "the client network in CIDR notation, such as 10.0.0.0/8");
            }
            if (!entry.has("address")) {
                throw entry.missing("address", "the address told to clients of that network");
            }
            String cidr = entry.parsed("network", "a network such as 10.0.0.0/8", Values::cidr, null);
            Node first = seen.putIfAbsent(cidr, entry.value("network"));
            if (first != null) {
                // First match wins, so a repeated network could never apply: surely a mistake.
                throw entry.error("network", "network " + cidr + " is already listed at " + passive.file().lineOf(first)
                        + "; the first matching entry wins, so this one would never apply");
            }
            String address = entry.parsed("address", "an IPv4 address or a host name", Values::publicAddress, null);
            networks.add(new NetworkAddress(cidr, address));
        }
        return networks;
    }

    /**
     * {@code proxy-protocol: {trusted: [NETWORK, ...]}}: the networks whose connections must start with a
     * PROXY header. An empty list turns the PROXY protocol off again.
     */
    private static List<String> trustedProxies(YamlMapping m, List<String> base) throws ConfigException {
        if (!m.has("trusted")) {
            return base;
        }
        List<Node> items = m.list("trusted", "networks such as 10.0.1.10/32").orElseThrow();
        List<String> networks = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            String where = m.pathOf("trusted") + "[" + i + "]";
            if (!(item instanceof ScalarNode scalar) || YamlFile.isNull(item)) {
                throw m.file().error(item, where + ": expected a network such as 10.0.1.10/32, got " + YamlFile.describe(item));
            }
            String cidr;
            try {
                cidr = Values.cidr(scalar.getValue());
            } catch (IllegalArgumentException e) {
                throw m.file().error(item, where + ": " + e.getMessage());
            }
            networks.add(cidr);
        }
        return networks;
    }

    private static Limits limits(YamlMapping m, Limits base) throws ConfigException {
        return new Limits(
                m.get(Setting.SERVER_MAX_SESSIONS, base.maxSessions()),
                m.get(Setting.SERVER_MAX_SESSIONS_PER_ADDRESS, base.maxSessionsPerAddress()),
                m.get(Setting.SERVER_IDLE_TIMEOUT, base.idleTimeout()),
                m.get(Setting.SERVER_DATA_TIMEOUT, base.dataTimeout()),
                m.get(Setting.SERVER_MAX_COMMAND_LENGTH, base.maxCommandLength()),
                m.get(Setting.SERVER_LOGIN_TIMEOUT, base.loginTimeout()),
                new Bandwidth(m.get(Setting.SERVER_UPLOAD_RATE, base.bandwidth().uploadPerSecond()),
                        m.get(Setting.SERVER_DOWNLOAD_RATE, base.bandwidth().downloadPerSecond())));
    }

    private static LoginPolicy login(YamlMapping m, LoginPolicy base) throws ConfigException {
        return new LoginPolicy(
                m.get(Setting.SERVER_FAILURE_DELAY, base.failureDelay()),
                m.get(Setting.SERVER_MAX_ATTEMPTS_PER_SESSION, base.maxAttemptsPerSession()),
                m.get(Setting.SERVER_BAN_AFTER_FAILURES, base.banAfterFailures()),
                m.get(Setting.SERVER_BAN_WINDOW, base.banWindow()),
                m.get(Setting.SERVER_BAN_DURATION, base.banDuration()),
                m.get(Setting.SERVER_CREDENTIAL_CACHE_TTL, base.credentialCacheTtl()));
    }
}
