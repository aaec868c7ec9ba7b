package dev.ferry.database;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Where the shared database is and how long to wait for it. Validated here once, then frozen.
 *
 * @param url            {@code postgresql://HOST:PORT/DATABASE} or the JDBC form {@code jdbc:postgresql://...}
 * @param user           the role Ferry logs in as
 * @param passwordFile   a file whose first line is that role's password (null: no password, e.g. trust or a
 *                       ~/.pgpass of the driver's own); the password is read at each connect and never logged
 * @param poolSize       most connections one process holds (logins are short queries: a few serve hundreds of
 *                       sessions)
 * @param connectTimeout longest wait for a connection, a new one or one from the pool; also bounds the TCP connect
 * @param queryTimeout   longest wait for one query's answer (the socket read timeout is a little above it)
 */
public record DatabaseSettings(String url, String user, Path passwordFile, int poolSize, Duration connectTimeout,
                               Duration queryTimeout) {

    public static final int DEFAULT_POOL_SIZE = 4;
    public static final int MAX_POOL_SIZE = 64;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_QUERY_TIMEOUT = Duration.ofSeconds(5);
    private static final String JDBC_PREFIX = "jdbc:postgresql://";
    private static final String PLAIN_PREFIX = "postgresql://";

    public DatabaseSettings {
        url = jdbcUrl(Objects.requireNonNull(url, "url"));
        Objects.requireNonNull(user, "user");
        if (user.isBlank()) {
            throw new IllegalArgumentException("the database user is empty");
        }
        if (poolSize < 1 || poolSize > MAX_POOL_SIZE) {
            throw new IllegalArgumentException("pool size " + poolSize + " is not within 1.." + MAX_POOL_SIZE);
        }
        // HikariCP refuses a connection timeout under 250 ms; whole milliseconds are what the driver takes.
        if (connectTimeout.toMillis() < 250) {
            throw new IllegalArgumentException("connect timeout " + connectTimeout + " is under 250ms");
        }
        if (queryTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("query timeout " + queryTimeout + " is under 1ms");
        }
    }

    /** With the default pool size and timeouts. */
    public DatabaseSettings(String url, String user, Path passwordFile) {
        this(url, user, passwordFile, DEFAULT_POOL_SIZE, DEFAULT_CONNECT_TIMEOUT, DEFAULT_QUERY_TIMEOUT);
    }

    public DatabaseSettings withPoolSize(int n) {
        return new DatabaseSettings(url, user, passwordFile, n, connectTimeout, queryTimeout);
    }

    public DatabaseSettings withTimeouts(Duration connect, Duration query) {
        return new DatabaseSettings(url, user, passwordFile, poolSize, connect, query);
    }

    /**
     * The JDBC form of {@code url}: {@code postgresql://} gains its {@code jdbc:} prefix; anything else is refused
     * with the forms that are understood.
     */
    public static String jdbcUrl(String url) {
        String u = url.strip();
        String lower = u.toLowerCase(Locale.ROOT);
        String rest;
        if (lower.startsWith(JDBC_PREFIX)) {
            rest = u.substring(JDBC_PREFIX.length());
        } else if (lower.startsWith(PLAIN_PREFIX)) {
            rest = u.substring(PLAIN_PREFIX.length());
        } else {
            throw new IllegalArgumentException("expected a database URL such as postgresql://db.example:5432/ferry,"
                    + " got " + quoted(url));
        }
        int slash = rest.indexOf('/');
        if (slash <= 0 || slash == rest.length() - 1) {
            throw new IllegalArgumentException("expected a database URL such as postgresql://db.example:5432/ferry"
                    + " (host and database name), got " + quoted(url));
        }
        // SECURITY: a password in the URL would be shown wherever the URL is (logs, --check-config, ps); the
        // password file is the one place for it.
        if (rest.substring(0, slash).contains("@") || lower.contains("password=")) {
            throw new IllegalArgumentException("the database URL must not carry a password; put it in password-file");
        }
        return JDBC_PREFIX + rest;
    }

    /** The URL as shown in logs and messages (the JDBC prefix left off). */
    public String displayUrl() {
        return PLAIN_PREFIX + url.substring(JDBC_PREFIX.length());
    }

    /** The first line of the password file, or null when there is none. Read at each call, so a rotated file counts. */
    public String password() throws IOException {
        if (passwordFile == null) {
            return null;
        }
        List<String> lines = Files.readAllLines(passwordFile, StandardCharsets.UTF_8);
        if (lines.isEmpty() || lines.get(0).isEmpty()) {
            throw new IOException("the database password file " + passwordFile + " is empty");
        }
        return lines.get(0);
    }

    /**
     * A refused URL as its error message shows it. SECURITY: the message goes to the terminal and the journal, and a
     * refused URL is often a DSN with the password in it (postgres://ferry:secret@db/ferry): what stands between
     * "//" and "@" is left out.
     */
    private static String quoted(String s) {
        return "'" + s.replaceAll("(?<=//)[^/]*@", "…@").replaceAll("\\p{Cntrl}", "?") + "'";
    }

    /** The password file is named, never read, here: a record's text must not carry a secret. */
    @Override
    public String toString() {
        return "DatabaseSettings[url=" + displayUrl() + ", user=" + user + ", passwordFile=" + passwordFile
                + ", poolSize=" + poolSize + ", connectTimeout=" + connectTimeout + ", queryTimeout=" + queryTimeout + "]";
    }
}
