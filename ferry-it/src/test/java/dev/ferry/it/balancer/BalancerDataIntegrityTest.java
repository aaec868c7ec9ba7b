package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.it.ExternalCommand;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.testkit.FakeBackend;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * "A success reply is a promise", through the balancer, in the shape users deploy: backends on their own
 * addresses (127.0.0.2, 127.0.0.3), the balancer on 127.0.0.5, clients from 127.0.0.1. Active mode works
 * although the backends refuse PORT/EPRT themselves (the balancer puts them in passive mode); a transfer
 * whose data connection failed anywhere ends with 425/426 and leaves an existing file exactly as it was;
 * a backend that resets, lies or stalls cannot make a client wait or believe a cut transfer whole.
 */
class BalancerDataIntegrityTest {

    private static final InetAddress CLIENT = address("127.0.0.1");
    private static final InetAddress BALANCER = address(BalancerCluster.Addresses.SEPARATE.balancer());
    private static final byte[] OLD = TestData.random(1 << 20, 7);

    private BalancerCluster cluster;
    private Path keep;

    @BeforeEach
    void start() throws Exception {
        // The backends cannot do active mode at all: only the balancer's own connections can serve it.
        cluster = BalancerCluster.start(BalancerCluster.Addresses.SEPARATE, (i, s) -> s.withAllowActiveMode(false), b -> b);
        keep = cluster.root().resolve("keep.bin");
        Files.write(keep, OLD);
    }

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void activeModeStoresAppendsAndListsThroughTheBalancerWithPort() throws Exception {
        FTPClient ftp = commonsNet();
        try {
            byte[] fresh = TestData.random(3 << 20, 11);
            assertThat(ftp.storeFile("keep.bin", new ByteArrayInputStream(fresh))).as(ftp.getReplyString()).isTrue();
            assertThat(Files.readAllBytes(keep)).isEqualTo(fresh);

            byte[] more = TestData.random(100_000, 12);
            assertThat(ftp.appendFile("keep.bin", new ByteArrayInputStream(more))).as(ftp.getReplyString()).isTrue();
            assertThat(Files.size(keep)).isEqualTo(fresh.length + more.length);

            assertThat(ftp.storeUniqueFile(new ByteArrayInputStream(more))).as(ftp.getReplyString()).isTrue();
            assertThat(TestData.names(cluster.root())).hasSize(2);

            ByteArrayOutputStream got = new ByteArrayOutputStream();
            assertThat(ftp.retrieveFile("keep.bin", got)).as(ftp.getReplyString()).isTrue();
            assertThat(got.toByteArray()).isEqualTo(Files.readAllBytes(keep));
            assertThat(ftp.listNames()).contains("keep.bin");
        } finally {
            ftp.disconnect();
        }
        assertThat(cluster.logLines()).noneMatch(l -> l.contains("event=data-refused"));
    }

    @Test
    void activeModeWithEprtThroughTheBalancer() throws Exception {
        // curl tries EPRT first in active mode (Commons Net and ftplib send EPRT only over IPv6).
        Path local = cluster.clientDir().resolve("up.bin");
        byte[] fresh = TestData.random(2 << 20, 13);
        Files.write(local, fresh);
        String url = "ftp://" + BALANCER.getHostAddress() + ":" + cluster.port() + "/keep.bin";
        String user = BalancerCluster.USER + ":" + BalancerCluster.PASSWORD;
        ExternalCommand.Result up = ExternalCommand.run(cluster.clientDir(), Duration.ofSeconds(30),
                "curl", "-sS", "-v", "--max-time", "20", "-u", user, "--ftp-port", "127.0.0.1", "-T", "up.bin", url).assertSuccess();
        assertThat(up.stderr()).contains("EPRT |1|127.0.0.1|").contains("226");
        assertThat(Files.readAllBytes(keep)).isEqualTo(fresh);
        ExternalCommand.run(cluster.clientDir(), Duration.ofSeconds(30),
                "curl", "-sS", "--max-time", "20", "-u", user, "--ftp-port", "127.0.0.1", "-o", "down.bin", url).assertSuccess();
        assertThat(Files.readAllBytes(cluster.clientDir().resolve("down.bin"))).isEqualTo(fresh);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"PORT STOR", "PORT APPE", "PORT STOU", "EPRT STOR", "EPRT RETR", "PORT LIST"})
    void anActiveTransferToAClientPortNobodyListensOnIsRefusedAndChangesNothing(String commands) throws Exception {
        String[] c = commands.split(" ");
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, CLIENT)) {
            closedPort = probe.getLocalPort();
        }
        try (RawFtp ftp = loggedIn()) {
            ftp.command("TYPE I", 200);
            ftp.command(c[0].equals("PORT")
                    ? "PORT 127,0,0,1," + (closedPort >> 8) + "," + (closedPort & 255)
                    : "EPRT |1|127.0.0.1|" + closedPort + "|", 200);
            RawFtp.Reply reply = ftp.command(c[1] + (c[1].equals("STOU") || c[1].equals("LIST") ? "" : " keep.bin"));
            // No 150 first: nothing was opened, so nothing is promised.
            assertThat(reply.code()).as(reply.toString()).isEqualTo(425);
            ftp.command("NOOP", 200);
        }
        assertThat(Files.readAllBytes(keep)).isEqualTo(OLD);
        assertThat(TestData.names(cluster.root())).as("no file made by STOU").containsExactly("keep.bin");
    }

    @ParameterizedTest(name = "active={0}")
    @ValueSource(booleans = {false, true})
    void aClientThatResetsItsDataConnectionMidUploadGets426AndTheOldFile(boolean active) throws Exception {
        try (RawFtp ftp = loggedIn(); ServerSocket listener = new ServerSocket(0, 1, CLIENT)) {
            ftp.command("TYPE I", 200);
            Socket data;
            if (active) {
                int p = listener.getLocalPort();
                ftp.command("PORT 127,0,0,1," + (p >> 8) + "," + (p & 255), 200);
                ftp.send("STOR keep.bin");
                listener.setSoTimeout(10_000);
                data = listener.accept();
            } else {
                InetSocketAddress target = ftp.pasv();
                data = new Socket(target.getAddress(), target.getPort());
                ftp.send("STOR keep.bin");
            }
            assertThat(ftp.reply().code()).isEqualTo(150);
            OutputStream out = data.getOutputStream();
            out.write(TestData.random(2 << 20, 5));
            out.flush();
            data.setSoLinger(true, 0);
            data.close();
            assertThat(ftp.reply().code()).isEqualTo(426);
            ftp.command("NOOP", 200);
        }
        awaitTransferLogged();
        assertThat(Files.readAllBytes(keep)).isEqualTo(OLD);
        assertThat(cluster.logLines()).noneMatch(l -> l.contains("cmd=STOR") && l.contains("result=ok"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"RESET_MID_DOWNLOAD", "RESET_THEN_226"})
    void aBackendThatResetsMidDownloadGivesTheClientAResetAndNo2xx(FakeBackend.Fault fault) throws Exception {
        try (FakeBackend backend = new FakeBackend(address("127.0.0.3"), fault);
             FtpBalancer lb = balancerFor(backend, Duration.ofSeconds(30), Duration.ofSeconds(30));
             RawFtp ftp = loggedIn(lb.port())) {
            InetSocketAddress target = ftp.pasv();
            try (Socket data = new Socket(target.getAddress(), target.getPort())) {
                ftp.send("RETR big");
                assertThatThrownBy(() -> drain(data)).as("a reset, never an end of file").isInstanceOf(IOException.class);
            }
            RawFtp.Reply end = finalReply(ftp);
            // 426; 425 when the backend's reset beat the balancer's own connect to finish (the kernel reports it
            // there). Never the backend's 226 (RESET_THEN_226 lies).
            assertThat(end.code()).as(end.toString()).isIn(425, 426);
            ftp.command("NOOP", 200);
        }
    }

    @Test
    void aBackendThatStallsMidDownloadGivesTheClient426AtTheDataTimeoutThen421() throws Exception {
        try (FakeBackend fault = new FakeBackend(address("127.0.0.3"), FakeBackend.Fault.STALL_MID_DOWNLOAD);
             FtpBalancer lb = balancerFor(fault, Duration.ofSeconds(1), Duration.ofSeconds(2));
             RawFtp ftp = loggedIn(lb.port())) {
            ftp.timeout(Duration.ofSeconds(20));
            InetSocketAddress target = ftp.pasv();
            long errorsBefore = lb.status().backends().get(0).errors();
            try (Socket data = new Socket(target.getAddress(), target.getPort())) {
                data.setSoTimeout(20_000);
                ftp.send("RETR big");
                assertThat(ftp.reply().code()).isEqualTo(150);
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> drain(data)).isInstanceOf(IOException.class);
                RawFtp.Reply end = ftp.reply();
                assertThat(end.code()).as(end.toString()).isEqualTo(426);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("bounded by the data timeout").isLessThan(Duration.ofSeconds(10));
            }
            // The backend answers nothing any more: the next command is cut off by the server-idle timeout.
            ftp.send("NOOP");
            assertThat(ftp.reply().code()).isEqualTo(421);
            assertThat(lb.status().backends().get(0).errors()).as("the stall and the silence count against the backend")
                    .isGreaterThanOrEqualTo(errorsBefore + 2);
        }
    }

    @Test
    void aBackendThatGreetsThenNeverAnswersEndsTheSessionWith421() throws Exception {
        try (FakeBackend silent = new FakeBackend(address("127.0.0.3"), FakeBackend.Fault.GREETS_THEN_SILENT);
             FtpBalancer lb = balancerFor(silent.address(), Duration.ofSeconds(1), Duration.ofSeconds(1));
             RawFtp ftp = RawFtp.connect(CLIENT, BALANCER, lb.port())) {
            ftp.timeout(Duration.ofSeconds(20));
            ftp.expect(220);
            ftp.send("USER " + BalancerCluster.USER);
            assertThat(ftp.reply().code()).isEqualTo(421);
            assertThat(lb.status().backends().get(0).errors()).isPositive();
        }
    }

    @Test
    void eachNewPasvReplacesTheSessionsLastAndASessionsPortsEndWithIt() throws Exception {
        cluster.close();
        int low = BalancerCluster.freePortRange(3);
        cluster = BalancerCluster.start(BalancerCluster.Addresses.SEPARATE, (i, s) -> s, b -> b.withPassivePorts(low, low + 2));
        try (RawFtp a = loggedIn(); RawFtp b = loggedIn(); RawFtp c = loggedIn()) {
            for (int i = 0; i < 4; i++) {
                a.pasv();
            }
            assertThat(cluster.balancer().status().passivePortsInUse()).as("one port for a's four PASVs").isEqualTo(1);
            // Other sessions of the same address (users behind one NAT) still get ports.
            b.pasv();
            c.epsv();
            assertThat(cluster.balancer().status().passivePortsInUse()).isEqualTo(3);
            a.command("QUIT", 221);
            TestData.await("a's port freed", () -> cluster.balancer().status().passivePortsInUse() == 2);
            try (RawFtp d = loggedIn()) {
                d.pasv();
            }
            // A transfer refused before any data (550, no connection made) frees its port with its reply, not at
            // the route's deadline (the data timeout): else a few such commands lock a NAT's users out of the range.
            b.command("RETR no-such-file", 550);
            assertThat(cluster.balancer().status().passivePortsInUse()).as("b's port freed by its transfer's reply").isEqualTo(1);
            // And a transfer still waiting for its data connection (the backend waits up to its accept timeout)
            // frees its port when the session ends.
            c.send("RETR keep.bin");
            c.close();
            TestData.await("c's port freed with its session", () -> cluster.balancer().status().passivePortsInUse() == 0);
        }
    }

    private FtpBalancer balancerFor(FakeBackend fault, Duration data, Duration serverIdle) throws IOException {
        return balancerFor(fault.address(), data, serverIdle);
    }

    /** A balancer in front of one backend, checked by connecting only (a backend that never answers stays up). */
    private FtpBalancer balancerFor(InetSocketAddress backend, Duration data, Duration serverIdle) throws IOException {
        BalancerSettings.Timeouts t = BalancerSettings.Timeouts.DEFAULTS;
        return FtpBalancer.start(BalancerSettings.defaults()
                .withListen(new InetSocketAddress(BALANCER, 0))
                .withBackends(List.of(new BalancerSettings.BackendSpec("fault", backend, 1)))
                .withPassivePorts(0, 0)
                .withCheck(new BalancerSettings.Check(BalancerSettings.CheckType.TCP, Duration.ofSeconds(30),
                        Duration.ofSeconds(1), 1, 1, null, null))
                .withTimeouts(new BalancerSettings.Timeouts(t.connect(), t.clientIdle(), serverIdle, data, t.grace(), t.login())));
    }

    private FTPClient commonsNet() throws IOException {
        FTPClient ftp = new FTPClient();
        ftp.setDefaultTimeout(10_000);
        ftp.setDataTimeout(Duration.ofSeconds(10));
        ftp.connect(BALANCER, cluster.port(), CLIENT, 0);
        assertThat(ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD)).isTrue();
        ftp.setFileType(FTP.BINARY_FILE_TYPE);
        ftp.enterLocalActiveMode();
        return ftp;
    }

    private RawFtp loggedIn() throws IOException {
        return loggedIn(cluster.port());
    }

    private static RawFtp loggedIn(int port) throws IOException {
        RawFtp ftp = RawFtp.connect(CLIENT, BALANCER, port);
        ftp.expect(220);
        ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
        return ftp;
    }

    /** The next final reply, past any 1xx. */
    private static RawFtp.Reply finalReply(RawFtp ftp) throws IOException {
        RawFtp.Reply r = ftp.reply();
        while (r.code() < 200) {
            r = ftp.reply();
        }
        return r;
    }

    private void awaitTransferLogged() throws Exception {
        TestData.await("the server's transfer line", () -> cluster.logLines().stream().anyMatch(l -> (l.contains("event=transfer ") && l.contains(" cmd=STOR "))));
    }

    private static long drain(Socket data) throws IOException {
        InputStream in = data.getInputStream();
        byte[] b = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(b)) >= 0; ) {
            total += n;
        }
        return total;
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
