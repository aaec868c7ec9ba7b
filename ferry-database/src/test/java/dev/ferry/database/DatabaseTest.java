package dev.ferry.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.runtime.log.EventLog;
import dev.ferry.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Migrations and the users table against a real PostgreSQL (a private cluster, {@link PostgresServer}). */
class DatabaseTest {

    static final EventLog LOG = new EventLog(LoggerFactory.getLogger("ferry.test"), "test");
    private static PostgresServer pg;
    private static final AtomicInteger DATABASES = new AtomicInteger();

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

    /** A fresh, empty database of its own, through the role's password file. */
    static DatabaseSettings fresh() throws Exception {
        String url = pg.createDatabase("t" + DATABASES.incrementAndGet());
        return new DatabaseSettings(url, pg.user(), pg.passwordFile(), 4, Duration.ofSeconds(3), Duration.ofSeconds(5));
    }

    private static int versionRows(String url) throws Exception {
        return Integer.parseInt(pg.psql(url.substring(url.lastIndexOf('/') + 1), "SELECT count(*) FROM ferry_schema_version"));
    }

    @Test
    void aFreshDatabaseGetsEveryMigrationAndASecondOpenChangesNothing() throws Exception {
        DatabaseSettings s = fresh();
        int latest = Migrations.all().size();
        assertThat(Database.inspect(s)).isEqualTo(new Database.SchemaState(0, latest));
        try (Database db = Database.open(s, LOG)) {
            assertThat(db.schemaVersion()).isEqualTo(latest);
        }
        try (Database db = Database.open(s, LOG)) {
            assertThat(db.schemaVersion()).isEqualTo(latest);
        }
        assertThat(versionRows(s.url())).isEqualTo(latest);
        assertThat(Database.inspect(s).describe()).contains("(current)");
    }

    @Test
    void fourServersOpeningAtOnceMigrateOnce() throws Exception {
        DatabaseSettings s = fresh();
        int opens = 4;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Database>> done = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(opens)) {
            for (int i = 0; i < opens; i++) {
                Callable<Database> open = () -> {
                    go.await();
                    return Database.open(s, LOG);
                };
                done.add(pool.submit(open));
            }
            go.countDown();
            for (Future<Database> f : done) {
                try (Database db = f.get(60, TimeUnit.SECONDS)) {
                    assertThat(db.schemaVersion()).isEqualTo(Migrations.all().size());
                }
            }
        }
        // each migration recorded once: a second run of V1 would have failed on CREATE TABLE ferry_users anyway
        assertThat(versionRows(s.url())).isEqualTo(Migrations.all().size());
    }

    @Test
    void aDatabaseNewerThanThisFerryIsRefusedWithTheReason() throws Exception {
        DatabaseSettings s = fresh();
        Database.open(s, LOG).close();
        int newer = Migrations.all().size() + 1;
        String db = s.url().substring(s.url().lastIndexOf('/') + 1);
        pg.psql(db, "INSERT INTO ferry_schema_version (version, name) VALUES (" + newer + ", 'V" + newer + "__future.sql')");
        assertThatThrownBy(() -> Database.open(s, LOG)).isInstanceOf(DatabaseException.class)
                .hasMessageContaining("schema version " + newer).hasMessageContaining("newer than this Ferry");
        assertThat(Database.inspect(s).describe()).contains("newer than this Ferry");
    }

    @Test
    void aWrongPasswordIsAClearErrorThatDoesNotShowThePassword(@TempDir Path tmp) throws Exception {
        Path wrong = Files.writeString(tmp.resolve("pw"), "not-the-password\n");
        DatabaseSettings s = new DatabaseSettings(pg.url(), pg.user(), wrong, 2, Duration.ofSeconds(2), Duration.ofSeconds(2));
        assertThatThrownBy(() -> Database.open(s, LOG)).isInstanceOf(DatabaseException.class)
                .hasMessageContaining(pg.url()).hasMessageNotContaining("not-the-password");
    }

    @Test
    void migrationsAreNumberedWithoutGaps() throws Exception {
        List<Migrations.Migration> all = Migrations.all();
        assertThat(all).isNotEmpty();
        assertThat(all.get(0).file()).isEqualTo("V1__users.sql");
        for (int i = 0; i < all.size(); i++) {
            assertThat(all.get(i).version()).isEqualTo(i + 1);
        }
    }

    @Test
    void usersRoundTripAndEachChangeIsNotified() throws Exception {
        DatabaseSettings s = fresh();
        try (Database db = Database.open(s, LOG)) {
            List<String> heard = java.util.Collections.synchronizedList(new ArrayList<>());
            Notifications n = db.notifications();
            n.subscribe(UserTable.CHANNEL, new Notifications.Listener() {
                @Override
                public void notified(String channel, String payload) {
                    heard.add(payload);
                }

                @Override
                public void everythingChanged() {
                    heard.add("*");
                }
            });
            assertThat(n.awaitListening(Duration.ofSeconds(10))).isTrue();
            UserTable users = new UserTable(db);
            users.add(UserRow.of("alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "alice", true)
                    .withTls("required").withLimits(1_000_000, 10, 50_000, 60_000, 2).withRights("/:list,download"));
            users.add(UserRow.of("bob", "$2b$10$abcdefghijklmnopqrstuv", null, false));
            assertThatThrownBy(() -> users.add(UserRow.of("bob", "$x", null, false)))
                    .isInstanceOf(UserTable.DuplicateUserException.class);

            UserRow alice = users.find("alice").orElseThrow();
            assertThat(alice.home()).isEqualTo("alice");
            assertThat(alice.writable()).isTrue();
            assertThat(alice.enabled()).isTrue();
            assertThat(alice.tls()).isEqualTo("required");
            assertThat(alice.quotaBytes()).isEqualTo(1_000_000);
            assertThat(alice.quotaFiles()).isEqualTo(10);
            assertThat(alice.uploadRate()).isEqualTo(50_000);
            assertThat(alice.downloadRate()).isEqualTo(60_000);
            assertThat(alice.maxSessions()).isEqualTo(2);
            assertThat(alice.rights()).isEqualTo("/:list,download");
            assertThat(alice.created()).isNotNull();
            assertThat(users.find("bob").orElseThrow().writable()).isFalse();
            assertThat(users.find("carol")).isEmpty();

            assertThat(users.setPasswordHash("alice", "$argon2id$new")).isTrue();
            assertThat(users.setEnabled("alice", false)).isTrue();
            assertThat(users.setRights("alice", null)).isTrue();
            UserRow changed = users.find("alice").orElseThrow();
            assertThat(changed.passwordHash()).isEqualTo("$argon2id$new");
            assertThat(changed.enabled()).isFalse();
            assertThat(changed.rights()).isNull();
            assertThat(changed.updated()).isAfterOrEqualTo(changed.created());
            assertThat(users.setEnabled("carol", false)).isFalse();

            assertThat(users.list()).extracting(UserRow::name).containsExactly("alice", "bob");
            assertThat(users.remove("bob")).isTrue();
            assertThat(users.remove("bob")).isFalse();
            assertThat(users.list()).extracting(UserRow::name).containsExactly("alice");

            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (heard.size() < 7 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            // add, add, passwd, disable, rights, remove: one each, in commit order; nothing for what changed nothing
            assertThat(heard).containsExactly("alice", "bob", "alice", "alice", "alice", "bob");
        }
    }

    @Test
    void aFailedChangeSendsNoNotification() throws Exception {
        DatabaseSettings s = fresh();
        try (Database db = Database.open(s, LOG); Connection c = db.connection(); Statement st = c.createStatement()) {
            UserTable users = new UserTable(db);
            st.execute("LISTEN " + UserTable.CHANNEL);
            assertThatThrownBy(() -> users.add(UserRow.of("bad name!", "$h", null, true))).isInstanceOf(SQLException.class);
            st.execute("SELECT 1");
            org.postgresql.PGNotification[] got = c.unwrap(org.postgresql.PGConnection.class).getNotifications(200);
            assertThat(got == null ? 0 : got.length).isZero();
        }
    }

    /** A refused row (here a name the CHECK refuses) is not quoted in the error: its password hash would be. */
    @Test
    void aRefusedRowsHashIsNotInTheError() throws Exception {
        try (Database db = Database.open(fresh(), LOG)) {
            assertThatThrownBy(() -> new UserTable(db).add(UserRow.of("jos\u00e9", "$argon2id$not-to-be-shown", null, true)))
                    .isInstanceOf(SQLException.class).hasMessageContaining("ferry_users")
                    .hasMessageNotContaining("not-to-be-shown");
        }
    }
}
