package dev.ferry.config;

import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.StorageOverride;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * Accounts gathered from one or more YAML lists (a users file and the server file's inline
 * {@code users:}), refusing a name defined twice anywhere. One entry:
 * <pre>
 * - name: alice
 *   password: $argon2id$v=19$m=65536,t=3,p=1$...$...   # made by `ferry passwd`
 *   home: alice          # relative to the server root; default: the server root
 *   access: read-write   # or read-only
 *   enabled: true
 *   tls: required        # optional, login or required; default: the server's tls.require
 *   storage: s3://other  # optional: this account's own storage (see StorageSection); default: the server's
 *   quota: ...           # optional: quota, bandwidth, max-sessions, rights (see AccountPolicySection)
 * </pre>
 * On object storage a home is the key prefix named by its path below the root, so it must lie below the root.
 */
final class UserList {

    static final List<String> KEYS = java.util.stream.Stream.concat(
            java.util.stream.Stream.of("name", "password", "home", "access", "enabled", "tls", "storage"),
            AccountPolicySection.KEYS.stream()).toList();

    private static final String HASH_ADVICE = "expected a password hash made by `ferry passwd` (starting with $argon2id$, or $2a$, $2b$, $2y$ for bcrypt)";
    // PHC string format: $argon2id$v=19$m=..,t=..,p=..$SALT$HASH (salt and hash in unpadded base64).
    private static final Pattern ARGON2ID = Pattern.compile("\\$argon2id\\$(v=[0-9]+\\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+\\$[A-Za-z0-9+/]+={0,2}\\$[A-Za-z0-9+/]+={0,2}");
    // Modular crypt bcrypt: $2b$COST$ then 22 characters of salt and 31 of hash.
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$[0-9]{2}\\$[./A-Za-z0-9]{53}");

    private final Path serverRoot;
    private final ObjectStore serverStore;
    private final List<UserAccount> accounts = new ArrayList<>();
    private final Map<String, Definition> definitions = new HashMap<>();

    private record Definition(YamlFile file, Node node) {}

    /**
     * Relative homes are resolved against {@code serverRoot}.
     *
     * @param serverStore the server's object store (null: local files), which accounts' own storage starts from
     */
    UserList(Path serverRoot, ObjectStore serverStore) {
        this.serverRoot = serverRoot;
        this.serverStore = serverStore;
    }

    List<UserAccount> accounts() {
        return List.copyOf(accounts);
    }

    /** Adds the entries of the list under {@code key} in {@code parent}. */
    void addAll(YamlMapping parent, String key) throws ConfigException {
        List<Node> items = parent.list(key, "users").orElseThrow();
        for (int i = 0; i < items.size(); i++) {
            add(YamlMapping.of(parent.file(), items.get(i), parent.pathOf(key) + "[" + i + "]", KEYS));
        }
    }

    private void add(YamlMapping entry) throws ConfigException {
        if (!entry.has("name")) {
            throw entry.missing("name", Values.USER_NAME_RULE);
        }
        if (!entry.has("password")) {
            throw entry.missing("password", "a hash made by `ferry passwd`");
        }
        String name = entry.parsed("name", Values.USER_NAME_RULE, Values::userName, null);
        Definition first = definitions.get(name);
        if (first != null) {
            String where = first.file() == entry.file() ? first.file().lineOf(first.node()) : first.file().where(first.node());
            throw entry.error("name", "duplicate user " + Values.quote(name) + " (first defined at " + where + "); each name may appear once");
        }
        definitions.put(name, new Definition(entry.file(), entry.value("name")));
        String hash = passwordHash(entry);
        Path home = entry.path("home", serverRoot, null);
        boolean writable = entry.parsed("access", "read-only or read-write", UserList::writable, true);
        boolean enabled = entry.bool("enabled", true);
        TlsPolicy tls = entry.parsed("tls", "optional, login or required", Values::tlsPolicy, null);
        StorageOverride storage = entry.has("storage")
                ? StorageSection.read(entry, "storage", entry.file().directory(), serverStore) : null;
        checkHome(entry, name, home, storage);
        accounts.add(new UserAccount(name, hash, home, writable, enabled, tls, storage, AccountPolicySection.read(entry)));
    }

    /**
     * On an object store a home is a key prefix named by its path below the root, so a home outside the root has no
     * key; and an account with local files on a server on an object store must say which directory is its own.
     */
    private void checkHome(YamlMapping entry, String name, Path home, StorageOverride storage) throws ConfigException {
        if (storage != null && storage.local() && serverStore != null && home == null) {
            throw entry.missing("home", "user " + Values.quote(name) + " keeps local files (storage: local) on a"
                    + " server whose files are on " + serverStore.url() + ": name the local directory it sees as /");
        }
        boolean onObjectStore = storage != null ? !storage.local() : serverStore != null;
        // A relative root is no server's (UsersFileText checks a file's syntax without one): nothing to be below.
        if (onObjectStore && home != null && serverRoot.isAbsolute() && !home.normalize().startsWith(serverRoot.normalize())) {
            throw entry.error("home", "user " + Values.quote(name) + ": " + ServerConfigFile.homeNotBelowRoot(home, serverRoot)
                    + " (write it relative to the root, such as " + name + ")");
        }
    }

    private static boolean writable(String access) {
        return switch (access) {
            case "read-write" -> true;
            case "read-only" -> false;
            default -> throw new IllegalArgumentException("expected read-only or read-write, got " + Values.quote(access));
        };
    }

    /** Never echoes the value: it may be a plain password typed by mistake. */
    private static String passwordHash(YamlMapping entry) throws ConfigException {
        Node value = entry.value("password");
        if (!(value instanceof ScalarNode scalar) || YamlFile.isNull(value)) {
            throw entry.error("password", HASH_ADVICE + ", got " + YamlFile.describe(value));
        }
        String s = scalar.getValue();
        // SECURITY: anything but a hash is refused, so a plain password pasted here fails at start-up
        // instead of sitting in the file and being compared as if it were a hash; it is never echoed.
        if (s.startsWith("$argon2id$")) {
            if (!ARGON2ID.matcher(s).matches()) {
                throw entry.error("password", "malformed argon2id hash; expected $argon2id$v=19$m=...,t=...,p=...$SALT$HASH"
                        + " as printed by `ferry passwd` (check that it was copied whole)");
            }
        } else if (s.startsWith("$2a$") || s.startsWith("$2b$") || s.startsWith("$2y$")) {
            if (!BCRYPT.matcher(s).matches()) {
                throw entry.error("password", "malformed bcrypt hash; expected $2b$COST$ followed by 53 characters"
                        + " (check that it was copied whole)");
            }
        } else {
            throw entry.error("password", HASH_ADVICE + "; the value given is not a hash (it is not shown here)");
        }
        return s;
    }
}
