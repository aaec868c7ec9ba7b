package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.it.ExternalCommand;
import dev.ferry.it.Launcher;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.testkit.FakeBackend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Peers killed with SIGKILL in the middle of an upload over an existing file, round after round, through the
 * balancer: the client's process, and the balancer's. A killed process's kernel ends its data connection with
 * the same FIN as a finished upload, so only the control connections tell the two apart; whatever the race
 * between them, the old file must stay exactly as it was and no transfer may be logged as ok. The backends
 * listen on their own addresses (127.0.0.2, 127.0.0.3), the balancer on 127.0.0.5.
 */
class KilledPeersTest {

    private static final int ROUNDS = 8;
    private static final int FILE = 50 << 20;
    private static final int KILL_AFTER = 20 << 20;
    private static final byte[] OLD = TestData.random(1 << 20, 21);

    /** Uploads FILE bytes in 1 MiB pieces, 10 ms apart, printing the count after each piece was sent. */
    private static final String SLOW_UPLOAD = """
            import ftplib, os, sys, time
            host, port, user, password, name, total = sys.argv[1:7]
            piece = os.urandom(1 << 20)
            class Slow:
                sent = 0
                def read(self, n):
                    print(self.sent, flush=True)
                    if self.sent >= int(total):
                        return b''
                    time.sleep(0.01)
                    self.sent += len(piece)
                    return piece
            f = ftplib.FTP()
            f.connect(host, int(port), timeout=30)
            f.login(user, password)
            f.storbinary('STOR ' + name, Slow(), blocksize=1 << 20)
            print('stored', flush=True)
            """;

    private BalancerCluster cluster;
    private Path keep;

    @BeforeEach
    void start() throws Exception {
        ExternalCommand.requireInstalled("python3");
        cluster = BalancerCluster.start(BalancerCluster.Addresses.SEPARATE, (i, s) -> s, b -> b);
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
    void aClientKilledMidUploadNeverReplacesTheOldFile() throws Exception {
        Path script = cluster.clientDir().resolve("slow_upload.py");
        Files.writeString(script, SLOW_UPLOAD);
        for (int round = 1; round <= ROUNDS; round++) {
            int transfersBefore = storLines().size();
            killMidUpload(script, cluster.port(), round);
            TestData.await("round " + round + ": the server's transfer line", () -> storLines().size() > transfersBefore);
            assertThat(TestData.sha256(keep)).as("round %d: the old file; log: %s", round, cluster.logLines()).isEqualTo(TestData.sha256(OLD));
        }
        assertThat(storLines()).hasSize(ROUNDS).noneMatch(l -> l.contains("result=ok"));
        assertThat(TestData.names(cluster.root())).as("no temp file left").containsExactly("keep.bin");
        // A clean relay is DEBUG on the balancer; one that a killed peer ended is INFO, for the operator.
        TestData.await("the balancer's transfer lines", () -> balancerTransferLines().size() == ROUNDS);
        assertThat(balancerTransferLines()).allMatch(l -> l.contains(" cmd=STOR ") && !l.contains("result=clean"));
    }

    /**
     * The balancer's own part, without a Ferry backend's check behind it: a backend that commits on any clean
     * end (as vsftpd does) must see every killed client's upload end as a reset.
     */
    @Test
    void aClientKilledMidUploadReachesABackendAsAReset() throws Exception {
        Path script = cluster.clientDir().resolve("slow_upload.py");
        Files.writeString(script, SLOW_UPLOAD);
        try (FakeBackend backend = new FakeBackend(InetAddress.getByName("127.0.0.3"), FakeBackend.Fault.NONE);
             FtpBalancer lb = FtpBalancer.start(BalancerSettings.defaults()
                     .withListen(new InetSocketAddress(cluster.host(), 0))
                     .withBackends(List.of(new BalancerSettings.BackendSpec("fault", backend.address(), 1)))
                     .withPassivePorts(0, 0)
                     .withCheck(new BalancerSettings.Check(BalancerSettings.CheckType.TCP, Duration.ofSeconds(30),
                             Duration.ofSeconds(1), 1, 1, null, null)))) {
            for (int round = 1; round <= ROUNDS; round++) {
                killMidUpload(script, lb.port(), round);
                int expected = round;
                TestData.await("round " + round + ": the backend saw the upload end", () -> backend.uploadEnds().size() == expected);
            }
            assertThat(backend.uploadEnds()).as("how each killed client's upload reached the backend").containsOnly(FakeBackend.UploadEnd.RESET);
        }
    }

    /** Starts SLOW_UPLOAD against the balancer's {@code port} and kills it (SIGKILL) once KILL_AFTER bytes are sent. */
    private void killMidUpload(Path script, int port, int round) throws Exception {
        Process client = new ProcessBuilder("python3", script.toString(), cluster.host(), Integer.toString(port),
                BalancerCluster.USER, BalancerCluster.PASSWORD, "keep.bin", Integer.toString(FILE))
                .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.equals("stored") && Long.parseLong(line) < KILL_AFTER) {
                // reading progress
            }
            assertThat(line).as("round %d: the upload was under way", round).isNotNull().isNotEqualTo("stored");
            client.destroyForcibly(); // SIGKILL
        } finally {
            client.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theBalancerKilledMidUploadNeverReplacesTheOldFile() throws Exception {
        Path dir = cluster.clientDir();
        InetSocketAddress backend = cluster.server(0).address();
        for (int round = 1; round <= ROUNDS; round++) {
            int port = TestData.freePort();
            int transfersBefore = storLines().size();
            Launcher.Started balancer = Launcher.start(dir, dir.resolve("balancer-" + round + ".err"), Duration.ofSeconds(120),
                    "balancer", "--listen", cluster.host() + ":" + port, "--backend", "s1=" + backend.getHostString() + ":" + backend.getPort(),
                    "--check", "tcp");
            try (RawFtp ftp = RawFtp.connect(InetAddress.getByName("127.0.0.1"), InetAddress.getByName(cluster.host()), port)) {
                ftp.expect(220);
                ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
                ftp.command("TYPE I", 200);
                InetSocketAddress target = ftp.pasv();
                try (Socket data = new Socket(target.getAddress(), target.getPort())) {
                    ftp.send("STOR keep.bin");
                    ftp.expect(150);
                    OutputStream out = data.getOutputStream();
                    byte[] piece = TestData.random(1 << 20, round);
                    for (int sent = 0; sent < KILL_AFTER; sent += piece.length) {
                        out.write(piece);
                    }
                    out.flush();
                    balancer.process().destroyForcibly(); // SIGKILL
                    assertThat(balancer.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
                    try {
                        for (int sent = 0; sent < FILE - KILL_AFTER; sent += piece.length) {
                            out.write(piece);
                        }
                    } catch (IOException expected) {
                        // the balancer is gone
                    }
                }
            } catch (IOException expected) {
                // the balancer died under the control connection
            } finally {
                Launcher.stop(balancer.process());
            }
            TestData.await("round " + round + ": the server's transfer line", () -> storLines().size() > transfersBefore);
            assertThat(TestData.sha256(keep)).as("round %d: the old file; log: %s", round, cluster.logLines()).isEqualTo(TestData.sha256(OLD));
        }
        assertThat(storLines()).hasSize(ROUNDS).noneMatch(l -> l.contains("result=ok"));
    }

    private List<String> balancerTransferLines() {
        return cluster.logLines().stream().filter(l -> l.startsWith("node=lb ") && l.contains(" event=transfer ")).toList();
    }

    private List<String> storLines() {
        return cluster.serverTransferLines("STOR");
    }
}
