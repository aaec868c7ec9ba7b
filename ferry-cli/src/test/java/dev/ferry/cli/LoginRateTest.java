package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.config.ServerConfigFile;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Login rate, users file against PostgreSQL, with the login cache on (the default 15 min) and off (a hash per
 * login): a bounded loop of sequential connect, USER, PASS, QUIT with Commons Net against an in-process server.
 * Every login must succeed; the rates are printed for docs/users.md (this machine's numbers, not a threshold).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LoginRateTest {

    private static final int CACHED_LOGINS = 300;
    private static final int HASHED_LOGINS = 30;
    private static final String PASSWORD = "rate-test-password";

    @TempDir
    static Path dir;
    private static PostgresServer pg;
    private static String hash;

    @BeforeAll
    static void setUp() throws Exception {
        pg = PostgresServer.create();
        hash = PasswordHasher.hash(PASSWORD.toCharArray());
        Files.createDirectories(dir.resolve("root/alice"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    private static ServerSettings settings(boolean database, boolean cache) throws Exception {
        Path root = dir.resolve("root");
        String users = database ? """
                  users: database
                  database: {url: "%s", user: %s, password-file: "%s"}
                """.formatted(pg.url(), pg.user(), pg.passwordFile()) : """
                  users:
                    - {name: alice, password: "%s", home: alice}
                """.formatted(hash);
        Path file = Files.writeString(dir.resolve("rate.yaml"), """
                server:
                  listen: 127.0.0.1:0
                  root: %s
                %s
                  tls: {enabled: false}
                  login: {credential-cache-ttl: %s, ban-after-failures: 0}
                """.formatted(root, users.stripTrailing(), cache ? "15m" : "0"));
        return ServerConfigFile.load(file, ServerSettings.defaults(root));
    }

    /** Logins per second over {@code n} sequential logins (after 3 not counted: class loading, first hash). */
    private static double rate(ServerSettings settings, int n) throws Exception {
        try (FtpServer server = FtpServer.start(settings)) {
            for (int i = 0; i < 3; i++) {
                loginOnce(server.port());
            }
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                loginOnce(server.port());
            }
            return n / ((System.nanoTime() - start) / 1e9);
        }
    }

    private static void loginOnce(int port) throws Exception {
        FTPClient ftp = new FTPClient();
        ftp.setConnectTimeout(10_000);
        ftp.setDefaultTimeout(10_000);
        try {
            ftp.connect("127.0.0.1", port);
            ftp.setSoTimeout(10_000);
            assertThat(ftp.login("alice", PASSWORD)).as(ftp.getReplyString()).isTrue();
            ftp.logout();
        } finally {
            ftp.disconnect();
        }
    }

    @Test
    void loginsPerSecondFromTheUsersFileAndFromPostgresql() throws Exception {
        Run add = add();
        assertThat(add.exitCode()).as(add.err()).isZero();

        // Twice each, alternating, the better of two kept: the machine is shared, and the first runs warm the JIT.
        double fileCached = 0;
        double dbCached = 0;
        double fileHashed = 0;
        double dbHashed = 0;
        // The second round runs in the opposite order, so neither source always follows the hashing runs.
        for (int round = 0; round < 2; round++) {
            for (boolean database : round == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                double cached = rate(settings(database, true), CACHED_LOGINS);
                double hashed = rate(settings(database, false), HASHED_LOGINS);
                if (database) {
                    dbCached = Math.max(dbCached, cached);
                    dbHashed = Math.max(dbHashed, hashed);
                } else {
                    fileCached = Math.max(fileCached, cached);
                    fileHashed = Math.max(fileHashed, hashed);
                }
            }
        }
        System.out.printf("login rate (sequential, one client, %d cores): users file %.0f/s, PostgreSQL %.0f/s with the"
                        + " login cache; users file %.1f/s, PostgreSQL %.1f/s hashing every login%n",
                Runtime.getRuntime().availableProcessors(), fileCached, dbCached, fileHashed, dbHashed);
        assertThat(dbCached).as("the cache spares the hash with PostgreSQL too").isGreaterThan(dbHashed);
    }

    private record Run(int exitCode, String err) {}

    private static Run add() throws Exception {
        DatabaseUsersServerTest.Run r = DatabaseUsersServerTest.users(PASSWORD + "\n", "add", "alice", "--database",
                pg.url(), "--database-user", pg.user(), "--database-password-file", pg.passwordFile().toString(),
                "--password-stdin");
        return new Run(r.exitCode(), r.err());
    }
}
