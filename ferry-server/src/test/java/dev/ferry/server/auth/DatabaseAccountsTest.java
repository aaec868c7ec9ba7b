package dev.ferry.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.database.Database;
import dev.ferry.database.DatabaseSettings;
import dev.ferry.database.UserRow;
import dev.ferry.database.UserTable;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.password.CredentialCache;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Bandwidth;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Quota;
import dev.ferry.testkit.PostgresServer;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Logins against rows of a real PostgreSQL; a change (or an outage) is felt on the next login. */
class DatabaseAccountsTest {

    private static final EventLog LOG = new EventLog(LoggerFactory.getLogger("ferry.test"), "test");
    private static final Path ROOT = Path.of("/srv/ftp");
    private static final InetAddress CLIENT = InetAddress.getLoopbackAddress();
    // cheap hashes: what is tested is the table and the cache, not Argon2's cost
    private static final String SECRET_HASH = PasswordHasher.hash("secret".toCharArray(), 256, 1, 1);
    private static PostgresServer pg;
    private static int databases;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = PostgresServer.create();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    private static Database open() throws Exception {
        String url = pg.createDatabase("a" + ++databases);
        return Database.open(new DatabaseSettings(url, pg.user(), pg.passwordFile(), 2, Duration.ofSeconds(5),
                Duration.ofSeconds(2)), LOG);
    }

    /** Counts the hashes actually run, so a test can tell the login cache at work. */
    private static final class CountingCache {
        final AtomicInteger hashes = new AtomicInteger();
        final CredentialCache cache;

        CountingCache(Duration ttl) {
            cache = new CredentialCache(ttl, 100, (pw, phc) -> {
                hashes.incrementAndGet();
                return PasswordHasher.verify(pw, phc);
            }, System::nanoTime, 2);
        }
    }

    private static DatabaseAccounts accounts(Database db, CountingCache cache, Anonymous anonymous) throws Exception {
        DatabaseAccounts accounts = new DatabaseAccounts(db, ROOT, anonymous, cache.cache, DatabaseAccounts.ROW_TTL, LOG,
                false, System::nanoTime);
        assertThat(db.notifications().awaitListening(Duration.ofSeconds(10))).isTrue();
        return accounts;
    }

    /** A reload replaces the accounts but keeps the shared database: the replaced ones must stop listening. */
    @Test
    void closedAccountsLeaveTheSharedDatabasesListeners() throws Exception {
        try (Database db = open()) {
            for (int reload = 0; reload < 3; reload++) {
                accounts(db, new CountingCache(Duration.ZERO), Anonymous.OFF).close();
            }
            DatabaseAccounts current = accounts(db, new CountingCache(Duration.ZERO), Anonymous.OFF);
            assertThat(db.notifications().subscribers(UserTable.CHANNEL)).isEqualTo(1);
            current.close();
            assertThat(db.notifications().subscribers(UserTable.CHANNEL)).isZero();
        }
    }

    /** A NUL in USER makes the driver refuse the query: that is no outage, and must not lock everybody else out. */
    @Test
    void aNameNoRowCanHaveIsUnknownAndLeavesOthersLoggingIn() throws Exception {
        try (Database db = open()) {
            new UserTable(db).add(UserRow.of("alice", SECRET_HASH, "alice", true));
            CountingCache cache = new CountingCache(Duration.ZERO);
            DatabaseAccounts accounts = accounts(db, cache, Anonymous.OFF);
            for (String junk : java.util.List.of("a\u0000b", "x".repeat(65), "al ice", "")) {
                assertThat(accounts.tlsPolicy(junk)).isNull();
                assertThat(accounts.login(junk, "secret".toCharArray(), CLIENT)).as(junk)
                        .isEqualTo(new LoginResult.Failure(junk, LoginResult.Reason.UNKNOWN_USER));
            }
            assertThat(cache.hashes.get()).as("the decoy hash ran for each, as for any unknown name").isEqualTo(4);
            assertThat(accounts.login("alice", "secret".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);
        }
    }

    @Test
    void aRowLogsInWithItsHomeAccessTlsAndLimits() throws Exception {
        try (Database db = open()) {
            new UserTable(db).add(UserRow.of("alice", SECRET_HASH, "alice", false).withTls("required")
                    .withLimits(1000, 5, 100, 200, 3));
            CountingCache cache = new CountingCache(Duration.ofMinutes(5));
            DatabaseAccounts accounts = accounts(db, cache, Anonymous.OFF);

            LoginResult r = accounts.login("alice", "secret".toCharArray(), CLIENT);
            assertThat(r).isEqualTo(new LoginResult.Success("alice", ROOT.resolve("alice"), false, false, null, null,
                    new AccountPolicy(new Quota(1000, 5), new Bandwidth(100, 200), 3, FolderRights.NONE)));
            assertThat(accounts.tlsPolicy("alice")).isEqualTo(TlsPolicy.REQUIRED);
            assertThat(accounts.login("alice", "wrong".toCharArray(), CLIENT))
                    .isEqualTo(new LoginResult.Failure("alice", LoginResult.Reason.BAD_PASSWORD));
            int before = cache.hashes.get();
            assertThat(accounts.login("alice", "secret".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);
            assertThat(cache.hashes.get()).as("the login cache spares the second hash").isEqualTo(before);
        }
    }

    @Test
    void theRightsColumnBecomesFolderRightsAndUnreadableRightsRefuseTheLogin() throws Exception {
        try (Database db = open()) {
            UserTable table = new UserTable(db);
            table.add(UserRow.of("dora", SECRET_HASH, "dora", true).withRights("/=list,download;/incoming=list,upload"));
            table.add(UserRow.of("eve", SECRET_HASH, "eve", true).withRights("/=list,fly"));
            DatabaseAccounts accounts = accounts(db, new CountingCache(Duration.ofMinutes(5)), Anonymous.OFF);

            assertThat(accounts.login("dora", "secret".toCharArray(), CLIENT)).isInstanceOfSatisfying(
                    LoginResult.Success.class, ok -> assertThat(ok.policy().rights())
                            .isEqualTo(FolderRights.parse("/=list,download;/incoming=list,upload")).isNotEqualTo(FolderRights.NONE));
            // fail closed: never "no per-folder rights" (the whole home) for rights that cannot be read
            assertThat(accounts.login("eve", "secret".toCharArray(), CLIENT))
                    .isEqualTo(new LoginResult.Failure("eve", LoginResult.Reason.UNAVAILABLE));
            assertThat(accounts.login("eve", "wrong".toCharArray(), CLIENT))
                    .isEqualTo(new LoginResult.Failure("eve", LoginResult.Reason.BAD_PASSWORD));
        }
    }

    @Test
    void unknownNamesPayADecoyHashAndAnonymousNeedsNoDatabase() throws Exception {
        try (Database db = open()) {
            CountingCache cache = new CountingCache(Duration.ofMinutes(5));
            DatabaseAccounts accounts = accounts(db, cache, new Anonymous(true, ROOT.resolve("pub")));
            assertThat(accounts.login("nobody", "x".toCharArray(), CLIENT))
                    .isEqualTo(new LoginResult.Failure("nobody", LoginResult.Reason.UNKNOWN_USER));
            assertThat(cache.hashes.get()).as("the decoy hash ran").isEqualTo(1);
            assertThat(accounts.login("FTP", "me@example.com".toCharArray(), CLIENT))
                    .isEqualTo(new LoginResult.Success("anonymous", ROOT.resolve("pub"), false, true, null));
            assertThat(accounts.tlsPolicy("nobody")).isNull();
        }
    }

    /** Homes are below the root ({@link ChrootHome}): a row written with SQL cannot lead an account out of it. */
    @Test
    void aHomeOutsideTheRootIsRefusedAndOneInsideIsBelowIt() throws Exception {
        try (Database db = open()) {
            UserTable table = new UserTable(db);
            table.add(UserRow.of("eve", SECRET_HASH, "../etc", true));
            table.add(UserRow.of("amy", SECRET_HASH, "/amy", true));
            DatabaseAccounts accounts = accounts(db, new CountingCache(Duration.ZERO), Anonymous.OFF);
            assertThat(accounts.login("eve", "secret".toCharArray(), CLIENT))
                    .isEqualTo(new LoginResult.Failure("eve", LoginResult.Reason.UNAVAILABLE));
            assertThat(accounts.login("amy", "secret".toCharArray(), CLIENT))
                    .isInstanceOfSatisfying(LoginResult.Success.class,
                            ok -> assertThat(ok.home()).isEqualTo(Path.of("/srv/ftp/amy")));
        }
    }

    @Test
    void aChangeTakesEffectOnTheNextLoginThroughNotify() throws Exception {
        try (Database db = open()) {
            UserTable table = new UserTable(db);
            table.add(UserRow.of("bob", SECRET_HASH, null, true));
            DatabaseAccounts accounts = accounts(db, new CountingCache(Duration.ofMinutes(5)), Anonymous.OFF);
            assertThat(accounts.login("bob", "secret".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);

            // the row is cached now (30 s): only the NOTIFY can make the next login see the change
            table.setEnabled("bob", false);
            LoginResult disabled = new LoginResult.Failure("bob", LoginResult.Reason.DISABLED);
            assertThat(until(disabled, () -> accounts.login("bob", "secret".toCharArray(), CLIENT))).isEqualTo(disabled);
            table.setEnabled("bob", true);
            table.setPasswordHash("bob", PasswordHasher.hash("new".toCharArray(), 256, 1, 1));
            LoginResult.Success ok = new LoginResult.Success("bob", null, true, false, null, null, AccountPolicy.NONE);
            assertThat(until(ok, () -> accounts.login("bob", "new".toCharArray(), CLIENT))).isEqualTo(ok);
            assertThat(accounts.login("bob", "secret".toCharArray(), CLIENT))
                    .isEqualTo(new LoginResult.Failure("bob", LoginResult.Reason.BAD_PASSWORD));
            table.remove("bob");
            LoginResult unknown = new LoginResult.Failure("bob", LoginResult.Reason.UNKNOWN_USER);
            assertThat(until(unknown, () -> accounts.login("bob", "new".toCharArray(), CLIENT))).isEqualTo(unknown);
        }
    }

    /**
     * The first login result equal to {@code expected} within 2 s, else the last one: the NOTIFY needs its few
     * milliseconds (a real client takes longer than that between a `ferry users` command and its next login), and
     * 2 s is far below the row cache's 30 s, so only the NOTIFY can have made the change visible.
     */
    private static LoginResult until(LoginResult expected, java.util.function.Supplier<LoginResult> login)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        LoginResult r = login.get();
        while (!r.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(5);
            r = login.get();
        }
        return r;
    }

    @Test
    void aDatabaseThatIsDownAnswersUnavailableAndLoginsWorkWhenItIsBack() throws Exception {
        try (PostgresServer own = PostgresServer.create()) {
            DatabaseSettings s = new DatabaseSettings(own.url(), own.user(), own.passwordFile(), 2,
                    Duration.ofMillis(500), Duration.ofSeconds(2));
            try (Database db = Database.open(s, LOG)) {
                new UserTable(db).add(UserRow.of("carol", SECRET_HASH, "carol", true));
                DatabaseAccounts accounts = new DatabaseAccounts(db, ROOT, Anonymous.OFF,
                        new CountingCache(Duration.ofMinutes(5)).cache, Duration.ZERO, LOG, false, System::nanoTime);
                assertThat(accounts.login("carol", "secret".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);

                ListAppender<ILoggingEvent> lines = new ListAppender<>();
                lines.start();
                ((Logger) LoggerFactory.getLogger("ferry.test")).addAppender(lines);
                own.stop();
                long start = System.nanoTime();
                assertThat(accounts.login("carol", "secret".toCharArray(), CLIENT))
                        .isEqualTo(new LoginResult.Failure("carol", LoginResult.Reason.UNAVAILABLE));
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("bounded by the connect timeout")
                        .isLessThan(Duration.ofSeconds(5));
                long again = System.nanoTime();
                assertThat(accounts.login("nobody", "x".toCharArray(), CLIENT))
                        .isEqualTo(new LoginResult.Failure("nobody", LoginResult.Reason.UNAVAILABLE));
                assertThat(Duration.ofNanos(System.nanoTime() - again))
                        .as("within a second of a failure the answer comes without waiting again")
                        .isLessThan(DatabaseAccounts.FAILURE_MEMORY);
                ((Logger) LoggerFactory.getLogger("ferry.test")).detachAppender(lines);
                assertThat(lines.list.stream().filter(e -> e.getFormattedMessage().contains("event=database-unavailable")))
                        .as("one WARN per outage interval, not one per login").hasSize(1);

                own.start();
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                LoginResult r;
                do {
                    Thread.sleep(50);
                    r = accounts.login("carol", "secret".toCharArray(), CLIENT);
                } while (!(r instanceof LoginResult.Success) && System.nanoTime() < deadline);
                assertThat(r).isInstanceOf(LoginResult.Success.class);
            }
        }
    }
}
