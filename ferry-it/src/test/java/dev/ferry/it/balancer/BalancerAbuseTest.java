package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.it.ExternalCommand;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The balancer under abuse: nobody locked out. Every party has an address of its own, so that "one
 * address" means something: the balancer on 127.0.0.5, its servers on 127.0.0.2 and 127.0.0.3, a
 * flooding host on 127.0.0.7 (or several on 127.0.0.10 and up), and a real client on 127.0.0.8 that
 * must get its work done meanwhile. Floods are a few dozen sockets, each read with a timeout.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BalancerAbuseTest {

    private static final InetAddress BALANCER = address("127.0.0.5");
    private static final InetAddress FLOOD = address("127.0.0.7");
    private static final InetAddress CLIENT = address("127.0.0.8");
    private static final String[] SERVERS = {"127.0.0.2", "127.0.0.3"};
    private static final BalancerSettings.Timeouts TIMEOUTS = BalancerSettings.Timeouts.DEFAULTS;

    private BalancerCluster cluster;
    /** Flood sockets, closed after each test. */
    private final List<RawFtp> held = new ArrayList<>();

    @BeforeEach
    void loopbackAddresses() throws IOException {
        // Linux routes all of 127/8 to lo; elsewhere the test is skipped.
        TestData.secondLoopback();
    }

    @AfterEach
    void stop() throws IOException {
        for (RawFtp f : held) {
            f.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aFloodFromOneAddressIsRefusedOverItsShareAtOnceWhileAClientFromAnotherAddressWorks() throws Exception {
        start(s -> s.withMaxSessions(20).withQueue(new BalancerSettings.Queue(5, Duration.ofSeconds(20))));
        Admission admission = cluster.balancer().status().admission();
        assertThat(cluster.balancer().status().settings().perAddressLimit()).as("by default half of max-sessions").isEqualTo(10);

        for (int i = 0; i < 10; i++) {
            hold(FLOOD).expect(220);
        }
        for (int i = 0; i < 5; i++) {
            try (RawFtp over = RawFtp.connect(FLOOD, BALANCER, port())) {
                RawFtp.Reply refused = over.reply();
                assertThat(refused.code()).isEqualTo(421);
                assertThat(refused.text()).isEqualTo("Too many connections from your address; try again later.");
                assertThat(over.closedByServer()).isTrue();
            }
        }
        assertThat(admission.queued()).as("refused at once, never queued though the queue has room").isZero();
        assertThat(admission.count(Admission.Outcome.TOO_MANY_FROM_ADDRESS)).isEqualTo(5);

        // Meanwhile a real client from another address downloads and uploads (PASV, its data connections from 127.0.0.8 too).
        byte[] report = TestData.randomFile(cluster.root().resolve("report.bin"), 1024 * 1024 + 7, 1);
        byte[] upload = TestData.randomFile(cluster.clientDir().resolve("upload.bin"), 256 * 1024 + 3, 2);
        curlFrom(CLIENT, "-o", "report.bin", url("/report.bin")).assertSuccess();
        curlFrom(CLIENT, "--disable-epsv", "-T", "upload.bin", url("/upload.bin")).assertSuccess();
        assertThat(TestData.sha256(cluster.clientDir().resolve("report.bin"))).isEqualTo(TestData.sha256(report));
        assertThat(TestData.sha256(cluster.root().resolve("upload.bin"))).isEqualTo(TestData.sha256(upload));

        assertThat(cluster.logLines()).filteredOn(l -> l.matches("node=\\S+ session=b\\w+ event=refused client=127\\.0\\.0\\.7:\\d+ user=- reason=max-per-address"))
                .hasSize(5);
        assertThat(cluster.balancer().status().metrics().text())
                .contains("ferry_balancer_sessions_refused_total{reason=\"max-per-address\"} 5.0");

        // The flood's address is forgotten with its last connection (the map holds only addresses with connections).
        assertThat(admission.fromAddress(FLOOD)).isEqualTo(10);
        closeHeld();
        TestData.await("every connection ended", () -> admission.addresses() == 0 && admission.active() == 0);
        hold(FLOOD).expect(220);
    }

    @Test
    void aReloadAppliesANewPerAddressLimitToTheNextConnections() throws Exception {
        start(s -> s.withMaxSessions(20).withMaxSessionsPerAddress(2));
        hold(FLOOD).expect(220);
        hold(FLOOD).expect(220);
        assertThat(hold(FLOOD).reply().code()).isEqualTo(421);

        BalancerSettings running = cluster.balancer().status().settings();
        assertThat(cluster.balancer().reload(running.withMaxSessionsPerAddress(3)).needRestart()).isEmpty();

        hold(FLOOD).expect(220);
        assertThat(hold(FLOOD).reply().code()).as("the fourth, over the new limit").isEqualTo(421);
        assertThat(cluster.balancer().status().metrics().text()).contains("ferry_balancer_sessions_per_address_max 3.0");
    }

    @Test
    void aPreLoginFloodFromManyAddressesIsClosedByTheLoginTimeoutAndTheRealClientIsServedThen() throws Exception {
        // Long enough for the refusal below to happen while the flood is in, on a busy machine.
        Duration login = Duration.ofSeconds(3);
        start(s -> s.withMaxSessions(20).withQueue(new BalancerSettings.Queue(0, Duration.ofSeconds(10)))
                .withTimeouts(TIMEOUTS.withLogin(login)));
        byte[] report = TestData.randomFile(cluster.root().resolve("report.bin"), 512 * 1024 + 5, 3);

        // Four hosts, five connections each: under the per-address limit (10), and the balancer is full.
        List<RawFtp> flood = new ArrayList<>();
        for (int host = 10; host < 14; host++) {
            for (int i = 0; i < 5; i++) {
                RawFtp f = hold(address("127.0.0." + host));
                f.expect(220);
                flood.add(f);
            }
        }
        assertThat(cluster.balancer().status().admission().active()).isEqualTo(20);

        try (RawFtp refused = RawFtp.connect(CLIENT, BALANCER, port())) {
            RawFtp.Reply reply = refused.reply();
            assertThat(reply.code()).isEqualTo(421);
            assertThat(reply.text()).isEqualTo("Too many users connected; try again later.");
        }

        for (RawFtp f : flood) {
            RawFtp.Reply reply = f.reply();
            assertThat(reply.code()).isEqualTo(421);
            assertThat(reply.text()).isEqualTo("Login timeout; closing the connection.");
            assertThat(f.closedByServer()).isTrue();
        }
        FTPClient client = commonsNetFrom(CLIENT);
        try {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            assertThat(client.retrieveFile("report.bin", got)).as(client.getReplyString()).isTrue();
            assertThat(got.toByteArray()).isEqualTo(report);
            assertThat(client.storeFile("copy.bin", new ByteArrayInputStream(report))).as(client.getReplyString()).isTrue();
            assertThat(client.logout()).isTrue();
        } finally {
            client.disconnect();
        }
        assertThat(Files.readAllBytes(cluster.root().resolve("copy.bin"))).isEqualTo(report);
        assertThat(cluster.balancer().status().metrics().timeouts(BalancerMetrics.Timeout.LOGIN)).isEqualTo(20);
        TestData.await("the flood's session lines", () -> cluster.logLines().stream()
                .filter(l -> l.contains(" event=session ") && l.endsWith(" end=login-timeout")).count() == 20);
    }

    @Test
    void theLoginTimeoutRunsFromTheGreetingWhateverTheClientSendsAndEndsWithTheLogin() throws Exception {
        start(s -> s.withTimeouts(TIMEOUTS.withLogin(Duration.ofSeconds(2))));
        RawFtp nooping = hold(address("127.0.0.10"));
        nooping.expect(220);
        RawFtp betweenUserAndPass = hold(address("127.0.0.11"));
        betweenUserAndPass.expect(220);
        betweenUserAndPass.command("USER " + BalancerCluster.USER, 331);
        RawFtp inTime = hold(CLIENT);
        inTime.expect(220);
        inTime.login(BalancerCluster.USER, BalancerCluster.PASSWORD);

        // A NOOP every 0.5 s, each answered, until the login timeout: they do not extend it.
        int answered = 0;
        RawFtp.Reply reply;
        while (true) {
            Thread.sleep(500);
            nooping.send("NOOP");
            reply = nooping.reply();
            if (reply.code() != 200 || answered == 20) {
                break;
            }
            answered++;
        }
        assertThat(reply.code()).as("after %d NOOPs", answered).isEqualTo(421);
        assertThat(reply.text()).isEqualTo("Login timeout; closing the connection.");
        assertThat(answered).as("NOOPs answered before the timeout").isPositive();
        assertThat(nooping.closedByServer()).isTrue();

        // Silent after USER: cut too, and its connection to the server closed.
        RawFtp.Reply cut = betweenUserAndPass.reply();
        assertThat(cut.code()).isEqualTo(421);
        assertThat(cut.text()).isEqualTo("Login timeout; closing the connection.");
        assertThat(betweenUserAndPass.closedByServer()).isTrue();
        TestData.await("only the logged-in client has a session on a server", () ->
                cluster.server(0).context().sessions().count() + cluster.server(1).context().sessions().count() == 1);

        // Logged in within the timeout: unaffected, well after it.
        inTime.command("NOOP", 200);
        inTime.command("PWD", 257);
        assertThat(cluster.logLines()).anyMatch(l -> l.matches("node=\\S+ session=b\\w+ event=timeout client=\\S+ user=- kind=login"))
                .anyMatch(l -> l.matches("node=\\S+ session=b\\w+ event=timeout client=\\S+ user=" + BalancerCluster.USER + " kind=login"));
        assertThat(cluster.balancer().status().metrics().timeouts(BalancerMetrics.Timeout.LOGIN)).isEqualTo(2);
    }

    @Test
    void theClientIdleTimeoutEndsASessionWith421BeforeAndAfterLogin() throws Exception {
        // The login timeout stays at its minute: before login, the shorter idle timeout ends the session.
        start(s -> s.withTimeouts(new BalancerSettings.Timeouts(TIMEOUTS.connect(), Duration.ofSeconds(2), TIMEOUTS.serverIdle(),
                TIMEOUTS.data(), TIMEOUTS.grace(), TIMEOUTS.login())));
        RawFtp greetedOnly = hold(FLOOD);
        greetedOnly.expect(220);
        RawFtp loggedIn = hold(CLIENT);
        loggedIn.expect(220);
        loggedIn.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
        loggedIn.command("PWD", 257);

        for (RawFtp idle : List.of(greetedOnly, loggedIn)) {
            RawFtp.Reply reply = idle.reply();
            assertThat(reply.code()).isEqualTo(421);
            assertThat(reply.text()).isEqualTo("Idle timeout; closing the connection.");
            assertThat(idle.closedByServer()).isTrue();
        }
        assertThat(cluster.logLines()).anyMatch(l -> l.matches("node=\\S+ session=b\\w+ event=timeout client=\\S+ user=- kind=client-idle"))
                .anyMatch(l -> l.matches("node=\\S+ session=b\\w+ event=timeout client=\\S+ user=" + BalancerCluster.USER + " kind=client-idle"));
        assertThat(cluster.balancer().status().metrics().timeouts(BalancerMetrics.Timeout.CLIENT_IDLE)).isEqualTo(2);
        TestData.await("both session lines", () -> cluster.logLines().stream()
                .filter(l -> l.contains(" event=session ") && l.endsWith(" end=client-idle-timeout")).count() == 2);
    }

    // ---- the cluster and its clients ----------------------------------------------------------

    private void start(UnaryOperator<BalancerSettings> configure) throws IOException {
        cluster = BalancerCluster.startEach((index, s) -> s.withListen(new InetSocketAddress(SERVERS[index], 0)),
                s -> configure.apply(s.withListen(new InetSocketAddress(BALANCER, 0))));
    }

    private int port() {
        return cluster.port();
    }

    private String url(String path) {
        return "ftp://" + BALANCER.getHostAddress() + ":" + port() + path;
    }

    /** A connection from {@code from} to the balancer, closed after the test; the greeting is not read. */
    private RawFtp hold(InetAddress from) throws IOException {
        RawFtp f = RawFtp.connect(from, BALANCER, port());
        held.add(f);
        return f;
    }

    private void closeHeld() throws IOException {
        for (RawFtp f : held) {
            f.close();
        }
        held.clear();
    }

    /** curl with its control and data connections from {@code from}. */
    private ExternalCommand.Result curlFrom(InetAddress from, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "--interface", from.getHostAddress(),
                "-u", BalancerCluster.USER + ":" + BalancerCluster.PASSWORD));
        command.addAll(Arrays.asList(args));
        return ExternalCommand.run(cluster.clientDir(), Duration.ofSeconds(40), Map.of(), command);
    }

    /** Commons Net logged in from {@code from}, passive data connections from there too (the balancer checks). */
    private FTPClient commonsNetFrom(InetAddress from) throws IOException {
        FTPClient client = new FTPClient();
        client.setConnectTimeout(5000);
        client.setDefaultTimeout(10_000);
        client.connect(BALANCER, port(), from, 0);
        assertThat(client.login(BalancerCluster.USER, BalancerCluster.PASSWORD)).as(client.getReplyString()).isTrue();
        client.enterLocalPassiveMode();
        client.setPassiveLocalIPAddress(from);
        client.setFileType(FTP.BINARY_FILE_TYPE);
        return client;
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(literal, e);
        }
    }
}
