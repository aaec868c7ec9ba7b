package dev.ferry.server.auth;

import dev.ferry.database.Database;
import dev.ferry.server.ServerSettings;
import java.io.IOException;

/**
 * Accounts kept outside the server's settings (a directory, an auth hook), as a setting: what the YAML said
 * ({@code users: ldap} and its {@code ldap:} section, {@code users: hook} and {@code auth-hook:}), frozen, and
 * able to open the {@link Accounts} it describes. The server opens one at start and at each reload, and closes it
 * at stop; with none, the accounts are the settings' own list (the users file).
 */
public interface AccountSource {

    /** The word of {@code users:} that chose this source ("ldap", "hook"), for the start and reload lines. */
    String kind();

    /**
     * Opens the source: pools, clients, certificates. A directory or hook that does not answer yet is not an error
     * (logins answer 421 until it does); an unreadable CA or password file is, with a message naming the file.
     */
    Accounts open(ServerSettings server) throws IOException;

    /**
     * Opens the source beside the server's shared database ({@code database:}; null when there is none): a source
     * that keeps its accounts there uses it rather than a pool of its own.
     */
    default Accounts open(ServerSettings server, Database shared) throws IOException {
        return open(server);
    }
}
