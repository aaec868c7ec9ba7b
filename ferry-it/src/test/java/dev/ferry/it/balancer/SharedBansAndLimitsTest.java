package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.database.DatabaseSettings;
import dev.ferry.it.FerryServerExtension;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.runtime.limits.BanRules;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.testkit.PostgresServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPConnectionClosedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A fleet on one PostgreSQL, over real sockets: two balancers (127.0.0.21, 127.0.0.22) in front of two servers
 * (127.0.0.23, 127.0.0.24). Wrong passwords through one balancer ban the client address on the other at connect,
 * a ban lifted through the other's admin API lets it in at once, and a user's max-sessions holds across servers.
 * Clients act as different addresses by binding their sockets to 127.0.0.31 and 127.0.0.32.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SharedBansAndLimitsTest {

    private static final String BANNED = "421 Too many failed logins from your address; try again later.";
    private static final String TOO_MANY_SESSIONS = "421 Too many sessions for this user; try again later.";
    private static final String ADMIN = "ops";
    private static final String ADMIN_PASSWORD = "ops-Pa55word";
    private static final String USER = FerryServerExtension.USER;
    private static final String PASSWORD = FerryServerExtension.PASSWORD;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<FTPClient> clients = new ArrayList<>();
    private PostgresServer pg;
    private Path root;
    private final FtpServer[] servers = new FtpServer[2];
    private final FtpBalancer[] balancers = new FtpBalancer[2];
    private AdminServer admin2;
    private InetAddress guesser;
    private InetAddress other;

    private static InetAddress bindable(String address) throws IOException {
        InetAddress a = InetAddress.getByName(address);
        try (Socket probe = new Socket()) {
            probe.bind(new InetSocketAddress(a, 0));
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort(address + " cannot be bound here: " + e.getMessage());
        }
        return a;
    }

    @BeforeEach
    void start() throws Exception {
        guesser = bindable("127.0.0.31");
        other = bindable("127.0.0.32");
        pg = PostgresServer.create();
        DatabaseSettings db = new DatabaseSettings(pg.url(), pg.user(), pg.passwordFile(), 4, Duration.ofSeconds(3),
                Duration.ofSeconds(5));
        root = Files.createTempDirectory("ferry-it-shared-");
        List<InetSocketAddress> backends = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ServerSettings s = FerryServerExtension.defaults(root)
                    .withListen(new InetSocketAddress(bindable("127.0.0." + (23 + i)), 0))
                    .withNode("s" + (i + 1))
                    .withDatabase(db);
            // the servers ban nobody here (FAST_LOGIN_POLICY): they see the balancers' addresses
            s = s.withUsers(s.users().stream()
                    .map(u -> u.name().equals(USER) ? u.withPolicy(AccountPolicy.NONE.withMaxSessions(2)) : u)
                    .toList(), s.usersFile());
            servers[i] = FtpServer.start(s);
            backends.add(servers[i].address());
        }
        for (int i = 0; i < 2; i++) {
            BalancerSettings b = BalancerSettings.defaults()
                    .withListen(new InetSocketAddress(bindable("127.0.0." + (21 + i)), 0))
                    .withBackends(List.of(new BalancerSettings.BackendSpec("s1", backends.get(0), 1),
                            new BalancerSettings.BackendSpec("s2", backends.get(1), 1)))
                    .withPassivePorts(0, 0)
                    .withCheck(BalancerCluster.FAST_CHECK)
                    .withNode("lb" + (i + 1))
                    .withBans(new BanRules(2, Duration.ofMinutes(1), Duration.ofMinutes(10)))
                    .withDatabase(db);
            balancers[i] = FtpBalancer.start(b);
        }
        for (FtpBalancer b : balancers) {
            TestData.await("both backends up", () -> b.status().backends().stream()
                    .allMatch(x -> x.checkState() == CheckState.UP));
        }
        admin2 = AdminServer.start(balancers[1].status(), new AdminSettings(new InetSocketAddress("127.0.0.22", 0),
                List.of(new AdminSettings.User(ADMIN, PasswordHasher.hash(ADMIN_PASSWORD.toCharArray()),
                        AdminSettings.Role.ADMIN))), Map.of());
    }

    @AfterEach
    void stop() throws IOException {
        for (FTPClient c : clients) {
            try {
                c.disconnect();
            } catch (IOException ignored) {
                // closed already
            }
        }
        if (admin2 != null) {
            admin2.close();
        }
        for (FtpBalancer b : balancers) {
            if (b != null) {
                b.close();
            }
        }
        for (FtpServer s : servers) {
            if (s != null) {
                s.close();
            }
        }
        if (pg != null) {
            pg.close();
        }
        if (root != null) {
            TestData.deleteTree(root);
        }
    }

    private FTPClient connect(InetAddress from, InetSocketAddress to) throws IOException {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.setConnectTimeout(10_000);
        clients.add(c);
        c.connect(to.getAddress(), to.getPort(), from, 0);
        c.setSoTimeout(10_000);
        return c;
    }

    private long backendSessions(FtpBalancer b) {
        long n = 0;
        for (Backend x : b.status().backends()) {
            n += x.totalSessions();
        }
        return n;
    }

    private void assertRefusedAtConnect(FtpBalancer b, InetAddress from) throws IOException {
        long before = backendSessions(b);
        try (RawFtp ftp = RawFtp.connect(from, b.address().getAddress(), b.port())) {
            assertThat(ftp.reply().toString()).isEqualTo(BANNED);
            assertThat(ftp.closedByServer()).isTrue();
        }
        assertThat(backendSessions(b)).as("no backend was dialled").isEqualTo(before);
    }

    private void assertServed(FtpBalancer b, InetAddress from) throws IOException {
        FTPClient c = connect(from, b.address());
        assertThat(c.login(USER, PASSWORD)).isTrue();
        assertThat(c.sendNoOp()).isTrue();
        c.logout();
        c.disconnect();
    }

    private HttpResponse<String> deleteBan(String address) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.22:" + admin2.address().getPort()
                        + "/api/bans/" + address))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (ADMIN + ":" + ADMIN_PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .DELETE().build();
        return http.send(r, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void wrongPasswordsThroughOneBalancerBanTheAddressOnTheOtherAndALiftThereLetsItInAtOnce() throws Exception {
        FTPClient c = connect(guesser, balancers[0].address());
        assertThat(c.login(USER, "wrong-1")).isFalse();
        assertThat(c.login(USER, "wrong-2")).as("the second failure starts the ban").isFalse();
        long banned = System.nanoTime();

        // balancer 2 heard the ban (NOTIFY): the address is refused there at connect, no backend dialled
        TestData.await("balancer 2 knows the ban", () -> balancers[1].status().bans().isBanned(guesser));
        System.out.printf("ban made through balancer 1 known to balancer 2 after %d ms%n",
                (System.nanoTime() - banned) / 1_000_000);
        assertRefusedAtConnect(balancers[1], guesser);
        assertRefusedAtConnect(balancers[0], guesser);
        assertServed(balancers[1], other);
        assertThat(balancers[1].status().bans().bans()).singleElement().satisfies(b -> {
            assertThat(b.display()).isEqualTo("127.0.0.31");
            assertThat(b.origin()).isEqualTo("lb1");
            assertThat(b.failures()).isEqualTo(2);
        });

        // lifted through balancer 2's API: balancer 1 lets the address in at once
        HttpResponse<String> lifted = deleteBan("127.0.0.31");
        assertThat(lifted.statusCode()).as(lifted.body()).isEqualTo(200);
        long liftedAt = System.nanoTime();
        TestData.await("balancer 1 heard the lift", () -> !balancers[0].status().bans().isBanned(guesser));
        System.out.printf("lift through balancer 2's API known to balancer 1 after %d ms%n",
                (System.nanoTime() - liftedAt) / 1_000_000);
        assertServed(balancers[0], guesser);
        assertThat(deleteBan("127.0.0.31").statusCode()).as("nothing left to lift").isEqualTo(404);
    }

    /** A start that fails after the database is open (here: the address is taken) leaves no connection behind. */
    @Test
    void aBalancerThatCannotStartClosesItsDatabaseConnections() throws Exception {
        String count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ferry'";
        String before = pg.psql(PostgresServer.DATABASE, count).strip();
        BalancerSettings taken = BalancerSettings.defaults()
                .withListen(balancers[0].address())
                .withBackends(List.of(new BalancerSettings.BackendSpec("s1", servers[0].address(), 1)))
                .withPassivePorts(0, 0)
                .withNode("lb3")
                .withDatabase(new DatabaseSettings(pg.url(), pg.user(), pg.passwordFile(), 4, Duration.ofSeconds(3),
                        Duration.ofSeconds(5)));
        assertThatThrownBy(() -> FtpBalancer.start(taken)).isInstanceOf(IOException.class);
        TestData.await("the failed start's connections are closed",
                () -> pg.psql(PostgresServer.DATABASE, count).strip().equals(before));
    }

    @Test
    void aUserWithTwoSessionsHoldsOneOnEachServerAndAThirdLoginThroughEitherBalancerIsRefused() throws Exception {
        // one session on each server (straight to them)
        FTPClient onS1 = connect(other, servers[0].address());
        FTPClient onS2 = connect(other, servers[1].address());
        assertThat(onS1.login(USER, PASSWORD)).isTrue();
        assertThat(onS2.login(USER, PASSWORD)).isTrue();
        for (FtpBalancer b : balancers) {
            FTPClient third = connect(guesser, b.address());
            assertThatThrownBy(() -> third.login(USER, PASSWORD)).isInstanceOf(FTPConnectionClosedException.class);
            assertThat(third.getReplyString().strip()).isEqualTo(TOO_MANY_SESSIONS);
        }
        // a 421 for too many sessions is no failed guess: the address is not banned
        assertThat(balancers[0].status().bans().isBanned(guesser)).isFalse();

        // one place given back: a login through balancer 1 takes it, and balancer 2's is refused again
        onS1.logout();
        onS1.disconnect();
        FTPClient[] through = new FTPClient[1];
        TestData.await("the place is free", () -> {
            FTPClient c = connect(guesser, balancers[0].address());
            try {
                if (c.login(USER, PASSWORD)) {
                    through[0] = c;
                    return true;
                }
            } catch (FTPConnectionClosedException e) {
                // the logout's lease not released yet: try again
            }
            return false;
        });
        FTPClient through1 = through[0];
        FTPClient through2 = connect(guesser, balancers[1].address());
        assertThatThrownBy(() -> through2.login(USER, PASSWORD)).isInstanceOf(FTPConnectionClosedException.class);
        assertThat(through2.getReplyString().strip()).isEqualTo(TOO_MANY_SESSIONS);
        assertThat(onS2.sendNoOp()).as("the sessions within the limit go on").isTrue();
        assertThat(through1.sendNoOp()).isTrue();
    }
}
