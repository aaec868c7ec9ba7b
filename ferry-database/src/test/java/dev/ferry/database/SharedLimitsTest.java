package dev.ferry.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.runtime.limits.Ban;
import dev.ferry.runtime.limits.BanRules;
import dev.ferry.runtime.limits.LimitsUnavailableException;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.testkit.PostgresServer;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes (two Database instances, each with its own pool and LISTEN connection) sharing bans and session counts
 * in a real PostgreSQL: what one does, the other sees, and within how long.
 */
class SharedLimitsTest {

    private static final BanRules RULES = new BanRules(4, Duration.ofMinutes(1), Duration.ofMinutes(10));
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

    private static DatabaseSettings fresh() throws Exception {
        String url = pg.createDatabase("l" + DATABASES.incrementAndGet());
        return new DatabaseSettings(url, pg.user(), pg.passwordFile(), 8, Duration.ofSeconds(2), Duration.ofSeconds(3));
    }

    private static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    /** Milliseconds until {@code condition} holds, polled every millisecond; fails after {@code limit}. */
    private static long within(Duration limit, BooleanSupplier condition) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + limit.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within %s", limit).isLessThan(deadline);
            Thread.sleep(1);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void aBanOrLiftOnOneNodeHoldsOnTheOtherAtOnce() throws Exception {
        DatabaseSettings s = fresh();
        try (Database dbA = Database.open(s, DatabaseTest.LOG); Database dbB = Database.open(s, DatabaseTest.LOG);
             DatabaseBanList a = DatabaseBanList.start(dbA, RULES, "a", Clock.systemUTC(), DatabaseTest.LOG);
             DatabaseBanList b = DatabaseBanList.start(dbB, RULES, "b", Clock.systemUTC(), DatabaseTest.LOG)) {
            List<Long> banDelays = new ArrayList<>();
            List<Long> liftDelays = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                InetAddress client = ip("192.0.2." + i);
                assertThat(b.isBanned(client)).isFalse();
                Ban made = a.ban(client, Duration.ofMinutes(5), "abuse report " + i, "ops@a");
                assertThat(a.isBanned(client)).isTrue();
                banDelays.add(within(Duration.ofSeconds(5), () -> b.isBanned(client)));
                assertThat(b.bans()).contains(made);
                assertThat(b.lift(client)).isTrue();
                assertThat(b.isBanned(client)).isFalse();
                liftDelays.add(within(Duration.ofSeconds(5), () -> !a.isBanned(client)));
            }
            assertThat(a.bans()).isEmpty();
            banDelays.sort(null);
            liftDelays.sort(null);
            System.out.printf("NOTIFY delay, ban seen by the other node: median %d ms, max %d ms; lift: median %d ms,"
                    + " max %d ms (20 each)%n", banDelays.get(10), banDelays.get(19), liftDelays.get(10), liftDelays.get(19));
            // IPv6: the /64 is the key on both nodes
            a.ban(ip("2001:db8:1:2::7"), Duration.ofMinutes(5), "v6", "ops@a");
            within(Duration.ofSeconds(5), () -> {
                try {
                    return b.isBanned(ip("2001:db8:1:2:ffff::1"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(b.isBanned(ip("2001:db8:1:3::7"))).isFalse();
        }
    }

    @Test
    void failuresCountedOnTwoNodesAddUpToOneBan() throws Exception {
        DatabaseSettings s = fresh();
        try (Database dbA = Database.open(s, DatabaseTest.LOG); Database dbB = Database.open(s, DatabaseTest.LOG);
             DatabaseBanList a = DatabaseBanList.start(dbA, RULES, "a", Clock.systemUTC(), DatabaseTest.LOG);
             DatabaseBanList b = DatabaseBanList.start(dbB, RULES, "b", Clock.systemUTC(), DatabaseTest.LOG)) {
            InetAddress guesser = ip("198.51.100.9");
            assertThat(a.recordFailure(guesser)).isFalse();
            assertThat(b.recordFailure(guesser)).isFalse();
            assertThat(a.recordFailure(guesser)).isFalse();
            assertThat(b.recordFailure(guesser)).as("the 4th failure, counted on b").isTrue();
            assertThat(b.isBanned(guesser)).isTrue();
            within(Duration.ofSeconds(5), () -> a.isBanned(guesser));
            Ban ban = a.bans().get(0);
            assertThat(ban.failures()).isEqualTo(4);
            assertThat(ban.reason()).isEqualTo(Ban.FAILED_LOGINS);
            assertThat(ban.origin()).isEqualTo("b");
            // a good login clears the count on every node
            InetAddress other = ip("198.51.100.10");
            for (int i = 0; i < 3; i++) {
                assertThat(a.recordFailure(other)).isFalse();
            }
            b.recordSuccess(other);
            assertThat(a.recordFailure(other)).isFalse();

            // concurrent failures from 8 threads on two nodes: exactly one of them starts the ban
            InetAddress flood = ip("198.51.100.11");
            AtomicInteger started = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                DatabaseBanList list = t % 2 == 0 ? a : b;
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (list.recordFailure(flood)) {
                        started.incrementAndGet();
                    }
                }));
            }
            go.countDown();
            for (Thread t : threads) {
                t.join(10_000);
            }
            assertThat(started.get()).isEqualTo(1);
        }
    }

    @Test
    void sessionLeasesOfTwoNodesNeverExceedTheLimit() throws Exception {
        DatabaseSettings s = fresh();
        try (Database dbA = Database.open(s, DatabaseTest.LOG); Database dbB = Database.open(s, DatabaseTest.LOG);
             DatabaseSessionLimits a = DatabaseSessionLimits.start(dbA, "a", DatabaseTest.LOG);
             DatabaseSessionLimits b = DatabaseSessionLimits.start(dbB, "b", DatabaseTest.LOG)) {
            for (int round = 0; round < 5; round++) {
                List<SessionLimits.Lease> granted = java.util.Collections.synchronizedList(new ArrayList<>());
                CountDownLatch go = new CountDownLatch(1);
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 16; t++) {
                    DatabaseSessionLimits node = t % 2 == 0 ? a : b;
                    String id = "s" + round + "-" + t;
                    threads.add(Thread.ofVirtual().start(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        SessionLimits.Lease l = node.acquire("alice", 3, id);
                        if (l != null) {
                            granted.add(l);
                        }
                    }));
                }
                go.countDown();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                assertThat(granted).hasSize(3);
                int localA = a.counts().getOrDefault("alice", 0);
                int localB = b.counts().getOrDefault("alice", 0);
                assertThat(localA + localB).isEqualTo(3);
                // one given back: one more place, anywhere
                granted.remove(0).close();
                SessionLimits.Lease again = b.acquire("alice", 3, "again" + round);
                assertThat(again).isNotNull();
                assertThat(a.acquire("alice", 3, "over" + round)).isNull();
                again.close();
                granted.forEach(SessionLimits.Lease::close);
            }
            // no limit: no query, counted locally
            SessionLimits.Lease free = a.acquire("bob", 0, "x");
            assertThat(a.counts()).containsEntry("bob", 1);
            free.close();
            assertThat(a.counts()).doesNotContainKey("bob");
        }
    }

    @Test
    void aDeadNodesLeasesStopCountingOnceItsHeartbeatIsStale() throws Exception {
        DatabaseSettings s = fresh();
        Duration beat = Duration.ofMillis(200);
        Duration stale = Duration.ofSeconds(1);
        try (Database dbA = Database.open(s, DatabaseTest.LOG); Database dbB = Database.open(s, DatabaseTest.LOG);
             DatabaseSessionLimits b = DatabaseSessionLimits.start(dbB, "b", beat, stale, DatabaseTest.LOG)) {
            DatabaseSessionLimits a = DatabaseSessionLimits.start(dbA, "a", beat, stale, DatabaseTest.LOG);
            assertThat(a.acquire("carol", 2, "1")).isNotNull();
            assertThat(a.acquire("carol", 2, "2")).isNotNull();
            assertThat(b.acquire("carol", 2, "3")).isNull();
            Thread.sleep(stale.toMillis());   // a is alive and beating: still counted
            assertThat(b.acquire("carol", 2, "3")).isNull();
            long died = System.nanoTime();
            a.halt();
            within(Duration.ofSeconds(5), () -> {
                SessionLimits.Lease l = b.acquire("carol", 2, "3");
                if (l == null) {
                    return false;
                }
                return true;
            });
            System.out.printf("a dead node's leases stopped counting %d ms after its last heartbeat (stale %d ms)%n",
                    (System.nanoTime() - died) / 1_000_000, stale.toMillis());
            // and are cleaned by the live node's heartbeat
            String left = pg.psql(s.url().substring(s.url().lastIndexOf('/') + 1),
                    "SELECT count(*) FROM ferry_session_leases WHERE node = 'a'");
            within(Duration.ofSeconds(5), () -> {
                try {
                    return pg.psql(s.url().substring(s.url().lastIndexOf('/') + 1),
                            "SELECT count(*) FROM ferry_session_leases WHERE node = 'a'").strip().equals("0");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(left).isNotNull();

            // a restart of the node (a new incarnation) drops its old leases at once
            DatabaseSessionLimits a2 = DatabaseSessionLimits.start(dbA, "a", beat, stale, DatabaseTest.LOG);
            assertThat(a2.acquire("dave", 1, "1")).isNotNull();
            a2.halt();
            DatabaseSessionLimits a3 = DatabaseSessionLimits.start(dbA, "a", beat, stale, DatabaseTest.LOG);
            assertThat(a3.acquire("dave", 1, "2")).as("the crashed incarnation's lease is gone").isNotNull();
            a3.close();
        }
    }

    @Test
    void aDatabaseRestartKeepsTheBansServedThenReloadsAndListensAgain() throws Exception {
        DatabaseSettings s = fresh();
        String dbName = s.url().substring(s.url().lastIndexOf('/') + 1);
        try (Database dbA = Database.open(s, DatabaseTest.LOG); Database dbB = Database.open(s, DatabaseTest.LOG);
             DatabaseBanList a = DatabaseBanList.start(dbA, RULES, "a", Clock.systemUTC(), DatabaseTest.LOG);
             DatabaseBanList b = DatabaseBanList.start(dbB, RULES, "b", Clock.systemUTC(), DatabaseTest.LOG);
             DatabaseSessionLimits limits = DatabaseSessionLimits.start(dbB, "b", DatabaseTest.LOG)) {
            InetAddress banned = ip("203.0.113.1");
            a.ban(banned, Duration.ofMinutes(5), "before", "ops@a");
            within(Duration.ofSeconds(5), () -> b.isBanned(banned));
            SessionLimits.Lease held = limits.acquire("erin", 1, "1");
            assertThat(held).isNotNull();

            // a ban made behind the nodes' backs (no NOTIFY): not seen, there is no polling...
            pg.psql(dbName, "INSERT INTO ferry_bans (address, until, reason, origin) VALUES ('203.0.113.4',"
                    + " now() + interval '5 minutes', 'quiet', 'psql')");
            InetAddress quiet = ip("203.0.113.4");
            Thread.sleep(500);
            assertThat(b.isBanned(quiet)).isFalse();

            pg.stop();
            try {
                // fail-safe: the bans known are still served
                assertThat(b.isBanned(banned)).isTrue();
                // failures are counted locally meanwhile
                InetAddress guesser = ip("203.0.113.2");
                boolean started = false;
                for (int i = 0; i < RULES.afterFailures(); i++) {
                    started = b.recordFailure(guesser);
                }
                assertThat(started).isTrue();
                assertThat(b.isBanned(guesser)).isTrue();
                // a limited login cannot be checked: refused; an unlimited one is not even asked
                assertThatThrownBy(() -> limits.acquire("frank", 2, "2")).isInstanceOf(LimitsUnavailableException.class);
                SessionLimits.Lease free = limits.acquire("grace", 0, "3");
                assertThat(free).isNotNull();
                free.close();
                assertThatThrownBy(() -> a.ban(ip("203.0.113.3"), Duration.ofMinutes(1), "x", "ops@a"))
                        .isInstanceOf(LimitsUnavailableException.class);
            } finally {
                pg.start();
            }
            // ...until the LISTEN connection is back and the copy is reloaded whole
            long reloaded = within(Duration.ofSeconds(30), () -> b.isBanned(quiet));
            System.out.printf("after the restart, the ban list reloaded within %d ms%n", reloaded);
            within(Duration.ofSeconds(30), () -> dbB.notifications().hearing(DatabaseBanList.CHANNEL));
            // and notifications are heard again
            InetAddress after = ip("203.0.113.5");
            within(Duration.ofSeconds(30), () -> {
                try {
                    a.ban(after, Duration.ofMinutes(5), "after", "ops@a");
                    return true;
                } catch (LimitsUnavailableException e) {
                    return false;
                }
            });
            within(Duration.ofSeconds(5), () -> b.isBanned(after));
            held.close();
            within(Duration.ofSeconds(10), () -> {
                try {
                    SessionLimits.Lease l = limits.acquire("erin", 1, "4");
                    if (l != null) {
                        l.close();
                    }
                    return l != null;
                } catch (LimitsUnavailableException e) {
                    return false;
                }
            });
        }
    }
}
