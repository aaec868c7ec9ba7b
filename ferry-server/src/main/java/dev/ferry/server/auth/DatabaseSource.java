package dev.ferry.server.auth;

import dev.ferry.database.Database;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import org.slf4j.LoggerFactory;

/**
 * {@code users: database}: the accounts are the {@code ferry_users} table of the server's {@code database:}
 * (docs/users.md). Stateless: what it opens is the server's shared {@link Database} (or, without one, its own).
 */
public record DatabaseSource() implements AccountSource {

    public static final DatabaseSource INSTANCE = new DatabaseSource();

    @Override
    public String kind() {
        return "database";
    }

    /** Opens a database of its own (schema migrated, LISTENing), closed with the accounts. */
    @Override
    public Accounts open(ServerSettings server) throws IOException {
        return accounts(server, Database.open(requireSettings(server), log(server)), true);
    }

    /** Uses the server's shared database, which the server closes. */
    @Override
    public Accounts open(ServerSettings server, Database shared) throws IOException {
        return shared == null ? open(server) : accounts(server, shared, false);
    }

    private static Accounts accounts(ServerSettings s, Database database, boolean owned) {
        return new DatabaseAccounts(database, s.root(), s.anonymous(), s.loginPolicy().credentialCacheTtl(),
                DatabaseAccounts.ROW_TTL, log(s), owned);
    }

    private static dev.ferry.database.DatabaseSettings requireSettings(ServerSettings s) throws IOException {
        if (s.database() == null) {
            throw new IOException("users: database needs the database: section (url, user, password-file)");
        }
        return s.database();
    }

    private static EventLog log(ServerSettings s) {
        return new EventLog(LoggerFactory.getLogger("ferry.server"), s.node());
    }
}
