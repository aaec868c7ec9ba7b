package dev.ferry.config;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.ObjectStore;
import java.nio.file.Path;
import java.util.List;

/**
 * The users file: a YAML mapping whose only key, {@code users}, holds a list of accounts (see
 * {@link UserList} for one entry). Kept apart from the server file so it can be owned and
 * permission-restricted separately, since it holds password hashes.
 */
public final class UsersFile {

    private static final List<String> KEYS = List.of("users");

    private UsersFile() {
    }

    /** Reads the accounts of {@code file}; relative homes are resolved against {@code serverRoot}. */
    public static List<ServerSettings.UserAccount> load(Path file, Path serverRoot) throws ConfigException {
        return load(file, serverRoot, null);
    }

    /**
     * As {@link #load(Path, Path)} for a server whose files are on {@code serverStore} (null: local): accounts'
     * own storage starts from it, and homes of accounts on an object store must lie below the root.
     */
    public static List<ServerSettings.UserAccount> load(Path file, Path serverRoot, ObjectStore serverStore)
            throws ConfigException {
        UserList users = new UserList(serverRoot, serverStore);
        readInto(file, users);
        return users.accounts();
    }

    static void readInto(Path file, UserList users) throws ConfigException {
        YamlFile yaml = YamlFile.read(file);
        var root = yaml.root().orElseThrow(() -> new ConfigException(yaml.label(), 1, 1,
                "the file is empty; expected a `users:` list (see docs/configuration.md)"));
        YamlMapping top = YamlMapping.of(yaml, root, "", KEYS);
        if (!top.has("users")) {
            throw top.missing("users", "the list of accounts");
        }
        users.addAll(top, "users");
    }
}
