package dev.ferry.database;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.runtime.log.EventLog;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * The shared PostgreSQL database of a fleet: a small HikariCP pool, the schema brought up to date once at open,
 * and (on demand) one {@link Notifications} connection.
 *
 * <p>Design. Several servers may start at once against one database; the migrations run under a session-level
 * {@code pg_advisory_lock}, so exactly one of them migrates while the others wait, then find the schema current.
 * The lock is taken with {@code pg_try_advisory_lock} in a bounded loop rather than the blocking form, so a
 * stuck migration elsewhere ends this start with a message instead of hanging it. Each migration runs in its own
 * transaction together with the row that records it in {@code ferry_schema_version}: a failed one leaves the
 * version before it. A database whose version is newer than the newest migration this Ferry carries is refused:
 * an older Ferry must not read (or write) columns whose meaning it does not know.
 *
 * <p>Every socket operation has a bound: the driver's connect timeout, its socket (read) timeout a little above
 * the query timeout, and the server-side {@code statement_timeout} set to the query timeout.
 */
public final class Database implements AutoCloseable {

    /** Advisory lock key of the migrations ("ferry" in ASCII): one number every Ferry agrees on. */
    static final long MIGRATION_LOCK = 0x6665727279L;
    /** Longest wait for another server's migrations to finish. */
    static final Duration MIGRATION_LOCK_WAIT = Duration.ofMinutes(2);
    private static final long SOCKET_MARGIN_SECONDS = 2;
    /**
     * Longest one migration may take: a later one may rewrite a large table, far beyond the query timeout that
     * bounds logins. Still a bound, on the server (statement_timeout) and on the socket.
     */
    static final Duration MIGRATION_TIMEOUT = Duration.ofMinutes(10);

    private final DatabaseSettings settings;
    private final HikariDataSource pool;
    private final EventLog log;
    private final int schemaVersion;
    private Notifications notifications;

    private Database(DatabaseSettings settings, HikariDataSource pool, EventLog log, int schemaVersion) {
        this.settings = settings;
        this.pool = pool;
        this.log = log;
        this.schemaVersion = schemaVersion;
    }

    /**
     * Connects, brings the schema up to date (once across the fleet) and returns the open database.
     *
     * @throws DatabaseException the database cannot be reached or logged into, a migration failed, or the schema
     *                           is newer than this Ferry
     */
    public static Database open(DatabaseSettings settings, EventLog log) throws DatabaseException {
        HikariConfig config = new HikariConfig();
        config.setPoolName("ferry-db");
        config.setJdbcUrl(settings.url());
        config.setUsername(settings.user());
        try {
            config.setPassword(settings.password());
        } catch (IOException e) {
            throw new DatabaseException("cannot read the database password file: " + e.getMessage(), e);
        }
        config.setDataSourceProperties(driverProperties(settings));
        config.setMaximumPoolSize(settings.poolSize());
        config.setMinimumIdle(Math.min(1, settings.poolSize()));
        config.setConnectionTimeout(settings.connectTimeout().toMillis());
        config.setValidationTimeout(Math.max(250, Math.min(settings.connectTimeout().toMillis(), 5_000)));
        // Fail the start (below) rather than in the pool's constructor, with our message.
        config.setInitializationFailTimeout(-1);
        HikariDataSource pool = new HikariDataSource(config);
        try {
            int version = migrate(pool, settings, log);
            log.info("database-opened").with("url", settings.displayUrl()).with("user", settings.user())
                    .with("schema_version", version).with("pool_size", settings.poolSize()).log();
            return new Database(settings, pool, log, version);
        } catch (DatabaseException | RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /** What {@code --check-config} reports: the schema version found (0: none yet) and the newest this Ferry knows. */
    public record SchemaState(int found, int latest) {
        public String describe() {
            if (found == 0) {
                return "no Ferry schema yet (the server creates it at its first start, version " + latest + ")";
            }
            if (found == latest) {
                return "schema version " + found + " (current)";
            }
            return found < latest ? "schema version " + found + " (the server migrates it to " + latest + " at start)"
                    : "schema version " + found + " is newer than this Ferry (" + latest + "): upgrade Ferry";
        }
    }

    /** Connects once, changes nothing, and says which schema version is there. */
    public static SchemaState inspect(DatabaseSettings settings) throws DatabaseException {
        int latest = Migrations.all().size();
        try (Connection c = connect(settings)) {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT to_regclass('ferry_schema_version') IS NOT NULL")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return new SchemaState(0, latest);
                }
            }
            return new SchemaState(currentVersion(c), latest);
        } catch (SQLException e) {
            throw unreachable(settings, e);
        }
    }

    /** A connection from the pool; close it to give it back. */
    public Connection connection() throws SQLException {
        return pool.getConnection();
    }

    public DatabaseSettings settings() {
        return settings;
    }

    /** The schema version found or made at open. */
    public int schemaVersion() {
        return schemaVersion;
    }

    /** The one LISTEN connection of this process, started at the first call and closed with the database. */
    public synchronized Notifications notifications() {
        if (notifications == null) {
            notifications = Notifications.start(settings, log);
        }
        return notifications;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (notifications != null) {
                notifications.close();
            }
        }
        pool.close();
    }

    /** A connection outside the pool, with the same timeouts (the LISTEN connection, --check-config). */
    static Connection connect(DatabaseSettings settings) throws SQLException, DatabaseException {
        Properties p = driverProperties(settings);
        p.setProperty("user", settings.user());
        try {
            String password = settings.password();
            if (password != null) {
                p.setProperty("password", password);
            }
        } catch (IOException e) {
            throw new DatabaseException("cannot read the database password file: " + e.getMessage(), e);
        }
        return DriverManager.getConnection(settings.url(), p);
    }

    private static Properties driverProperties(DatabaseSettings settings) {
        Properties p = new Properties();
        long connectSeconds = Math.max(1, ceilSeconds(settings.connectTimeout()));
        p.setProperty("connectTimeout", Long.toString(connectSeconds));
        p.setProperty("loginTimeout", Long.toString(connectSeconds));
        p.setProperty("socketTimeout", Long.toString(ceilSeconds(settings.queryTimeout()) + SOCKET_MARGIN_SECONDS));
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("ApplicationName", "ferry");
        // SECURITY: the server's error detail quotes the row at fault ("Failing row contains (alice, $argon2id$...")
        // and the driver puts it in the exception's message, which reaches logs, the CLI's stderr and the admin
        // API's answers: a password hash must not.
        p.setProperty("logServerErrorDetail", "false");
        // The server ends a statement that runs longer than the query timeout, so a connection is not left busy.
        p.setProperty("options", "-c statement_timeout=" + settings.queryTimeout().toMillis());
        return p;
    }

    private static long ceilSeconds(Duration d) {
        return (d.toMillis() + 999) / 1000;
    }

    static DatabaseException unreachable(DatabaseSettings settings, SQLException e) {
        // The driver's messages name the host and the role, never the password. The pool's own timeout says only
        // "Connection is not available": the driver's failure behind it, when there was one, is its cause.
        String why = e.getMessage();
        if (e instanceof java.sql.SQLTransientConnectionException) {
            why = e.getCause() != null ? e.getCause().getMessage()
                    : "no connection within the connect timeout (" + settings.connectTimeout().toMillis() + " ms)";
        }
        return new DatabaseException("database " + settings.displayUrl() + " as " + settings.user() + ": " + why, e);
    }

    private static int migrate(HikariDataSource pool, DatabaseSettings settings, EventLog log) throws DatabaseException {
        List<Migrations.Migration> migrations = Migrations.all();
        int latest = migrations.size();
        try (Connection c = pool.getConnection()) {
            lock(c, settings);
            int networkTimeout = c.getNetworkTimeout();
            c.setNetworkTimeout(Runnable::run, (int) MIGRATION_TIMEOUT.toMillis());
            try (Statement st = c.createStatement()) {
                st.execute("SET statement_timeout = " + MIGRATION_TIMEOUT.toMillis());
            }
            try {
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE IF NOT EXISTS ferry_schema_version (version integer PRIMARY KEY,"
                            + " name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())");
                }
                int current = currentVersion(c);
                if (current > latest) {
                    throw new DatabaseException("database " + settings.displayUrl() + " has schema version " + current
                            + ", newer than this Ferry knows (" + latest + "): a newer Ferry has upgraded it; run that"
                            + " version (an older one must not use columns whose meaning it does not know)");
                }
                for (Migrations.Migration m : migrations.subList(current, latest)) {
                    apply(c, m, settings);
                    log.info("database-migrated").with("version", m.version()).with("migration", m.file()).log();
                }
                return latest;
            } finally {
                try (Statement st = c.createStatement()) {
                    st.execute("RESET statement_timeout"); // back to the connection's own (the query timeout)
                }
                c.setNetworkTimeout(Runnable::run, networkTimeout);
                unlock(c);
            }
        } catch (SQLException e) {
            throw unreachable(settings, e);
        }
    }

    private static void apply(Connection c, Migrations.Migration m, DatabaseSettings settings) throws SQLException, DatabaseException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement();
             PreparedStatement record = c.prepareStatement("INSERT INTO ferry_schema_version (version, name) VALUES (?, ?)")) {
            st.execute(m.sql());
            record.setInt(1, m.version());
            record.setString(2, m.file());
            record.executeUpdate();
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw new DatabaseException("database " + settings.displayUrl() + ": schema migration " + m.file()
                    + " failed: " + e.getMessage(), e);
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static int currentVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM ferry_schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void lock(Connection c, DatabaseSettings settings) throws SQLException, DatabaseException {
        long deadline = System.nanoTime() + MIGRATION_LOCK_WAIT.toNanos();
        long pause = 20;
        try (PreparedStatement st = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            st.setLong(1, MIGRATION_LOCK);
            while (true) {
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new DatabaseException("database " + settings.displayUrl() + ": another server has been"
                            + " migrating the schema for over " + MIGRATION_LOCK_WAIT.toMinutes() + " minutes"
                            + " (advisory lock " + MIGRATION_LOCK + " held); gave up waiting");
                }
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DatabaseException("interrupted while waiting for the schema migration lock");
                }
                pause = Math.min(pause * 2, 500);
            }
        }
    }

    private static void unlock(Connection c) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            st.setLong(1, MIGRATION_LOCK);
            st.execute();
        }
    }
}
