package dev.ferry.config;

import dev.ferry.database.DatabaseSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code server.database}: the shared PostgreSQL database of {@code users: database}.
 * <pre>
 * database:
 *   url: postgresql://db.example:5432/ferry
 *   user: ferry
 *   password-file: /etc/ferry/db-password   # first line; relative to the config file
 *   pool-size: 4
 *   connect-timeout: 5s
 *   query-timeout: 5s
 * </pre>
 */
final class DatabaseSection {

    static final List<String> KEYS = List.of("url", "user", "password-file", "pool-size", "connect-timeout",
            "query-timeout");

    private DatabaseSection() {
    }

    static DatabaseSettings read(YamlMapping server, Path directory) throws ConfigException {
        YamlMapping m = server.mapping("database", KEYS).orElseThrow();
        if (!m.has("url")) {
            throw m.missing("url", "the database, such as postgresql://db.example:5432/ferry");
        }
        if (!m.has("user")) {
            throw m.missing("user", "the PostgreSQL role Ferry logs in as");
        }
        String url = m.parsed("url", "a URL such as postgresql://db.example:5432/ferry", DatabaseSettings::jdbcUrl, null);
        String user = m.text("user", null);
        Path passwordFile = m.path("password-file", directory, null);
        if (passwordFile != null && !Files.isReadable(passwordFile)) {
            throw m.error("password-file", "cannot read " + passwordFile
                    + (Files.exists(passwordFile) ? "" : " (no such file)") + "; expected a file whose first line is the password");
        }
        int poolSize = m.parsed("pool-size", "a whole number from 1 to " + DatabaseSettings.MAX_POOL_SIZE,
                DatabaseSection::poolSize, DatabaseSettings.DEFAULT_POOL_SIZE);
        Duration connect = m.parsed("connect-timeout", "a duration such as 5s", DatabaseSection::connectTimeout,
                DatabaseSettings.DEFAULT_CONNECT_TIMEOUT);
        Duration query = m.parsed("query-timeout", "a duration such as 5s", DatabaseSection::queryTimeout,
                DatabaseSettings.DEFAULT_QUERY_TIMEOUT);
        return new DatabaseSettings(url, user, passwordFile, poolSize, connect, query);
    }

    private static int poolSize(String s) {
        int n;
        try {
            n = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > DatabaseSettings.MAX_POOL_SIZE) {
            throw new IllegalArgumentException("expected a whole number from 1 to " + DatabaseSettings.MAX_POOL_SIZE
                    + ", got " + Values.quote(s));
        }
        return n;
    }

    private static Duration connectTimeout(String s) {
        Duration d = Values.duration(s);
        if (d.toMillis() < 250) {
            throw new IllegalArgumentException("expected a duration of at least 250ms, got " + Values.quote(s));
        }
        return d;
    }

    private static Duration queryTimeout(String s) {
        Duration d = Values.duration(s);
        if (d.toMillis() < 1) {
            throw new IllegalArgumentException("expected a duration above zero, got " + Values.quote(s));
        }
        return d;
    }
}
