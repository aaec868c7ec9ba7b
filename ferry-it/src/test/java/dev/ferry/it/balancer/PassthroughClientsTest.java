package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.it.FtpsClients;
import dev.ferry.it.TestData;
import dev.ferry.testkit.TestCertificates;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPFile;
import org.apache.commons.net.ftp.FTPSClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TLS passthrough (docs/tls-passthrough.md) with real FTPS clients: a balancer on 127.0.0.1 that holds
 * no key, in front of two ferry servers with their own self-signed certificates, each on a loopback
 * address of its own (s1 on 127.0.0.2, s2 on 127.0.0.3) with a passive range of its own, announcing
 * the balancer's address 127.0.0.1 and trusting its PROXY v2 header. The balancer listens on both
 * ranges on 127.0.0.1 (the servers bind their passive ports to their own address, so the same port
 * numbers are free on 127.0.0.1) and relays a port to the backend that owns it. Balancing is
 * roundrobin, so consecutive sessions alternate between the servers.
 */
class PassthroughClientsTest {

    private static final int BIG = 3 * 1024 * 1024 + 17;
    private static final int RANGE = 20;
    private static final String[] SERVER_ADDRESSES = {"127.0.0.2", "127.0.0.3"};

    private BalancerCluster cluster;
    /** s1's range is low .. low+19, s2's low+20 .. low+39. */
    private int low;

    @BeforeEach
    void start() throws Exception {
        TestData.secondLoopback();
        low = BalancerCluster.freePortRange(2 * RANGE);
        cluster = BalancerCluster.startEach((index, s) -> s
                        .withListen(new InetSocketAddress(SERVER_ADDRESSES[index], 0))
                        .withPassive(s.passive().withPorts(low(index), high(index)).withPublicAddress("127.0.0.1"))
                        .withTrustedProxies(List.of("127.0.0.1/32")),
                b -> b.withTls(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.PASSTHROUGH))
                        .withProxyProtocol(BalancerSettings.ProxyProtocol.V2)
                        .withBalance(BalancerSettings.Balance.ROUNDROBIN)
                        .withBackends(List.of(b.backends().get(0).withPassivePorts(low(0), high(0)),
                                b.backends().get(1).withPassivePorts(low(1), high(1)))));
    }

    private int low(int index) {
        return low + index * RANGE;
    }

    private int high(int index) {
        return low(index) + RANGE - 1;
    }

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
    }

    private Path clientDir() {
        return cluster.clientDir();
    }

    // ---- the clients -------------------------------------------------------------------------

    @Test
    void curlDownloadsUploadsListsAndResumesOverEpsvAndPasv() throws Exception {
        byte[] down = TestData.randomFile(cluster.root().resolve("down.bin"), BIG, 1);
        byte[] up = TestData.randomFile(clientDir().resolve("up.bin"), BIG, 2);
        Files.write(clientDir().resolve("partial.bin"), Arrays.copyOf(down, 1_000_003));

        FtpsClients.curl(clientDir(), "--ssl-reqd", "-k", "-o", "down.bin", cluster.url() + "/down.bin").assertSuccess();
        FtpsClients.curl(clientDir(), "--ssl-reqd", "-k", "--disable-epsv", "-T", "up.bin",
                cluster.url() + "/up.bin").assertSuccess();
        String listing = FtpsClients.curl(clientDir(), "--ssl-reqd", "-k", cluster.url() + "/").assertSuccess().stdout();
        String resumed = FtpsClients.curl(clientDir(), "-v", "--ssl-reqd", "-k", "-C", "-", "-o", "partial.bin",
                cluster.url() + "/down.bin").assertSuccess().stderr();

        assertThat(TestData.sha256(clientDir().resolve("down.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(cluster.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
        assertThat(listing.lines()).anyMatch(l -> l.startsWith("-") && l.endsWith(" down.bin"));
        assertThat(resumed).contains("> AUTH SSL", "> PROT P", "> REST 1000003");
        assertThat(TestData.sha256(clientDir().resolve("partial.bin"))).isEqualTo(TestData.sha256(down));
        TestData.await("both backends relayed transfers", () -> cluster.backend(0).transfers() == 2
                && cluster.backend(1).transfers() == 2);
    }

    @Test
    void lftpGetsPutsAndListsOverProtectedData() throws Exception {
        byte[] down = TestData.randomFile(cluster.root().resolve("down.bin"), BIG, 3);
        byte[] up = TestData.randomFile(clientDir().resolve("up.bin"), BIG, 4);

        String out = FtpsClients.lftp(clientDir(), cluster.port(), "get down.bin -o got.bin; put up.bin -o up.bin; cls -l")
                .assertSuccess().stdout();

        assertThat(TestData.sha256(clientDir().resolve("got.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(cluster.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
        assertThat(out).contains("down.bin", "up.bin");
    }

    @Test
    void pythonFtpTlsTransfersListsAndResumes() throws Exception {
        byte[] down = TestData.randomFile(cluster.root().resolve("down.bin"), BIG, 5);

        Map<String, String> v = FtpsClients.pythonTransfers(clientDir(), cluster.port());

        FtpsClients.assertPythonTransfers(v, down, cluster.root().resolve("up.bin"));
        assertThat(v).containsEntry("mlsd", "['down.bin:file', 'up.bin:file']")
                .containsEntry("prot_c", "200 Protection level set to C (data connections in clear text).")
                .containsEntry("nlst", "['down.bin', 'up.bin']");
    }

    /**
     * TLS 1.3 uploads: Commons Net (like curl and lftp) closes the data connection without reading from
     * it; ferry server sends no session ticket there, so nothing unread makes the client's kernel reset
     * the connection and drop the end of the upload (it did in 2 of 30 runs when it sent one).
     */
    @Test
    void commonsNetSessionsAlternateAndEachStaysOnItsBackend() throws Exception {
        byte[] content = TestData.random(BIG, 6);
        FTPSClient[] clients = {FtpsClients.commonsNet(cluster.port(), false),
                FtpsClients.commonsNet(cluster.port(), false)};
        try {
            for (int i = 0; i < 2; i++) {
                FTPSClient client = clients[i];
                assertThat(client.storeFile("up" + i + ".bin", new ByteArrayInputStream(content))).as(client::getReplyString).isTrue();
                ByteArrayOutputStream back = new ByteArrayOutputStream();
                client.setRestartOffset(BIG - 1000);
                assertThat(client.retrieveFile("up" + i + ".bin", back)).as(client::getReplyString).isTrue();
                FTPFile[] mlsd = client.mlistDir();

                assertThat(back.toByteArray()).isEqualTo(Arrays.copyOfRange(content, BIG - 1000, BIG));
                assertThat(mlsd).extracting(FTPFile::getName).contains("up" + i + ".bin");
                assertThat(client.listNames()).contains("up" + i + ".bin");
            }
            // One session each, and every data connection of a session went to its own backend's host.
            TestData.await("each backend relayed its session's four transfers", () ->
                    cluster.backend(0).transfers() == 4 && cluster.backend(1).transfers() == 4);
            assertThat(cluster.backend(0).totalSessions()).isEqualTo(1);
            assertThat(cluster.backend(1).totalSessions()).isEqualTo(1);
            // TLS records: a little more than the file.
            assertThat(cluster.backend(0).bytesUp()).isGreaterThan(BIG);
            assertThat(cluster.backend(1).bytesUp()).isGreaterThan(BIG);
        } finally {
            for (FTPSClient c : clients) {
                c.disconnect();
            }
        }
        assertThat(TestData.sha256(cluster.root().resolve("up0.bin"))).isEqualTo(TestData.sha256(content));
    }

    // ---- the data ports ------------------------------------------------------------------------

    @Test
    void aDataPortRefusesAnAddressWithoutASessionOnItsBackend() throws Exception {
        FTPSClient client = FtpsClients.commonsNet(cluster.port(), false);
        try {
            int mine = sessionBackend();
            int other = 1 - mine;

            assertThat(refused(InetAddress.getByName("127.0.0.1"), low(other)))
                    .as("the client's address has a session, but on the other backend").isTrue();
            assertThat(refused(InetAddress.getByName("127.0.0.5"), low(mine))).as("a stranger").isTrue();
            assertThat(client.listNames()).as("the session's own data connections still work").isNotNull();
        } finally {
            client.disconnect();
        }
        assertThat(cluster.logLines())
                .anyMatch(l -> l.matches("node=\\S+ event=data-refused client=127\\.0\\.0\\.1:\\d+ port=(" + low(0) + "|" + low(1)
                        + ") reason=no-session"))
                .anyMatch(l -> l.matches("node=\\S+ event=data-refused client=127\\.0\\.0\\.5:\\d+ port=\\d+ reason=no-session"));
    }

    @Test
    void theBalancerNamesTheBackendsRangesAsItsPassivePorts() {
        assertThat(cluster.balancer().status().passivePortsText())
                .isEqualTo("s1:" + low(0) + "-" + high(0) + ",s2:" + low(1) + "-" + high(1));
        assertThat(cluster.balancer().status().passivePortCount()).isEqualTo(high(0) - low(0) + 1 + high(1) - low(1) + 1);
    }

    /** Index of the backend serving the balancer's only session. */
    private int sessionBackend() {
        List<ClientSession> sessions = List.copyOf(cluster.balancer().status().sessions());
        assertThat(sessions).hasSize(1);
        return sessions.get(0).backend() == cluster.backend(0) ? 0 : 1;
    }

    /** True when a connection from {@code from} to the balancer's data port is closed without a byte. */
    private static boolean refused(InetAddress from, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            return in.read() == -1;
        } catch (SocketException reset) {
            return true;
        }
    }

    // ---- what the balancer can know --------------------------------------------------------------

    @Test
    void theSessionShowsClientBackendAndBytesButNoUserOrCommand() throws Exception {
        TestData.randomFile(cluster.root().resolve("down.bin"), BIG, 7);
        FTPSClient client = FtpsClients.commonsNet(cluster.port(), false);
        try {
            assertThat(client.retrieveFile("down.bin", new ByteArrayOutputStream())).isTrue();
            ClientSession session = List.copyOf(cluster.balancer().status().sessions()).get(0);
            TestData.await("the transfer is counted", () -> session.transfers() == 1 && session.transferBytes() == -1);

            assertThat(session.clientAddress().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            assertThat(session.backend()).isNotNull();
            assertThat(session.user()).isNull();
            assertThat(session.lastVerb()).isNull();
            assertThat(session.bytesDown()).isGreaterThanOrEqualTo(BIG);
            assertThat(session.backend().bytesDown()).isEqualTo(session.bytesDown());
        } finally {
            client.disconnect();
        }
        TestData.await("the session ended", () -> cluster.balancer().status().sessions().isEmpty());
        assertThat(cluster.logLines()).anyMatch(l -> l.matches("node=\\S+ session=b\\w+ event=session client=127\\.0\\.0\\.1:\\d+ user=- mode=passthrough "
                + "backend=s[12] connect_ms=\\d+ total_ms=\\d+ bytes_up=\\d+ bytes_down=\\d+ transfers=1 control_up=\\d+ "
                + "control_down=\\d+ end=.*"));
    }

    /**
     * Active mode: the client's PORT names its own address, and a ferry server behind the PROXY
     * protocol takes data connections only from where its control connection comes from: the balancer.
     * So the backend refuses PORT (here the client has an address of its own, 127.0.0.5, as any real
     * client has).
     */
    @Test
    void activeModeIsRefusedByTheBackendSinceItsDataPeerIsTheBalancer() throws Exception {
        FTPSClient client = new FTPSClient(false, TestCertificates.trustAll());
        client.setDefaultTimeout(10_000);
        client.connect(InetAddress.getByName("127.0.0.1"), cluster.port(), InetAddress.getByName("127.0.0.5"), 0);
        try {
            assertThat(client.login(BalancerCluster.USER, BalancerCluster.PASSWORD)).isTrue();
            client.execPBSZ(0);
            client.execPROT("P");
            client.setFileType(FTP.BINARY_FILE_TYPE);
            client.enterLocalActiveMode();

            assertThat(client.listNames()).isNull();
            assertThat(client.getReplyCode()).isEqualTo(501);
            assertThat(client.getReplyString()).contains("data connections go only to your own address");
        } finally {
            client.disconnect();
        }
    }

    // ---- backends ------------------------------------------------------------------------------

    @Test
    void withABackendDownNewSessionsGoToTheOther() throws Exception {
        Files.writeString(cluster.root().resolve("hello.txt"), "hello\n");
        cluster.stopServer(0);
        Backend s2 = cluster.backend(1);

        for (int i = 0; i < 4; i++) {
            assertThat(FtpsClients.curl(clientDir(), "--ssl-reqd", "-k", cluster.url() + "/hello.txt").assertSuccess().stdout())
                    .isEqualTo("hello\n");
        }

        assertThat(s2.totalSessions()).isEqualTo(4);
        assertThat(cluster.backend(0).totalSessions()).isZero();
    }

    @Test
    void withEveryBackendDownTheClientIsToldInClearTextAndTheBackendsGreetingPassesAsSent() throws Exception {
        try (dev.ferry.it.RawFtp ftp = dev.ferry.it.RawFtp.connect(cluster.port())) {
            assertThat(ftp.reply().lines()).containsExactly("220 Ferry FTP server ready.");
        }
        cluster.stopServer(0);
        cluster.stopServer(1);

        try (dev.ferry.it.RawFtp ftp = dev.ferry.it.RawFtp.connect(cluster.port())) {
            dev.ferry.it.RawFtp.Reply refused = ftp.reply();

            assertThat(refused.code()).isEqualTo(421);
            assertThat(refused.text()).isEqualTo("No server available; try again later.");
        }
        // The session's line comes after the reply: it is written when the session has closed.
        TestData.await("the session's line", () -> cluster.logLines().stream()
                .anyMatch(l -> l.matches(".* event=session .* mode=passthrough .*") && l.endsWith("end=no-backend")));
        // tried=2 when both stopped servers refused before the checks marked them down; tried=1 when the checks
        // marked one down while the session tried the other (a connect that waits, for example on a port another
        // test has taken since, lasts up to the connect timeout): CI saw both.
        assertThat(cluster.logLines()).anyMatch(l -> l.matches("node=\\S+ session=b\\w+ event=no-backend client=127\\.0\\.0\\.1:\\d+ user=- tried=[12]"));
    }

    /**
     * The per-address limit holds in passthrough too (the login timeout cannot: the login is inside TLS). Set by a
     * reload here, which applies it to the next connections.
     */
    @Test
    void anAddressOverItsLimitIsToldInClearTextWhileAnotherAddressGetsItsBackendsGreeting() throws Exception {
        // The class shares one balancer: a session of an earlier test may still be leaving it, and would hold the one
        // place this address gets below. Its departure is awaited first.
        java.net.InetAddress loopback = java.net.InetAddress.getByName("127.0.0.1");
        TestData.await("earlier sessions gone", () -> cluster.balancer().status().admission().fromAddress(loopback) == 0);
        BalancerSettings running = cluster.balancer().status().settings();
        cluster.balancer().reload(running.withMaxSessionsPerAddress(1));
        java.net.InetAddress other = java.net.InetAddress.getByName("127.0.0.8");
        try (dev.ferry.it.RawFtp first = dev.ferry.it.RawFtp.connect(cluster.port());
             dev.ferry.it.RawFtp second = dev.ferry.it.RawFtp.connect(cluster.port());
             dev.ferry.it.RawFtp elsewhere = dev.ferry.it.RawFtp.connect(other, java.net.InetAddress.getByName("127.0.0.1"), cluster.port())) {
            assertThat(first.reply().lines()).containsExactly("220 Ferry FTP server ready.");
            dev.ferry.it.RawFtp.Reply refused = second.reply();
            assertThat(refused.code()).isEqualTo(421);
            assertThat(refused.text()).isEqualTo("Too many connections from your address; try again later.");
            assertThat(second.closedByServer()).isTrue();
            assertThat(elsewhere.reply().lines()).containsExactly("220 Ferry FTP server ready.");
        }
        TestData.await("the refused session's line", () -> cluster.logLines().stream()
                .anyMatch(l -> l.matches(".* event=session .* mode=passthrough .*") && l.endsWith("end=refused-max-per-address")));
        assertThat(cluster.logLines()).anyMatch(l -> l.matches("node=\\S+ session=b\\w+ event=refused client=127\\.0\\.0\\.1:\\d+ user=- reason=max-per-address"));
        TestData.await("both addresses forgotten", () -> cluster.balancer().status().admission().addresses() == 0);
    }

    @Test
    void aBackendRetiredByAReloadKeepsItsSessionAndItsDataPortsWhileNewSessionsGoElsewhere() throws Exception {
        byte[] content = TestData.randomFile(cluster.root().resolve("down.bin"), BIG, 8);
        FTPSClient client = FtpsClients.commonsNet(cluster.port(), false);
        try {
            int mine = sessionBackend();
            BalancerSettings running = cluster.balancer().status().settings();
            cluster.balancer().reload(running.withBackends(List.of(running.backends().get(1 - mine))));

            ByteArrayOutputStream back = new ByteArrayOutputStream();
            assertThat(client.retrieveFile("down.bin", back)).as(client::getReplyString).isTrue();
            assertThat(back.toByteArray()).isEqualTo(content);
            assertThat(FtpsClients.curl(clientDir(), "--ssl-reqd", "-k", cluster.url() + "/down.bin", "-o", "got.bin")
                    .assertSuccess().exitCode()).isZero();
            assertThat(cluster.balancer().status().retiringBackends()).extracting(Backend::name).containsExactly("s" + (mine + 1));
            assertThat(cluster.balancer().status().backends()).singleElement().satisfies(b -> assertThat(b.totalSessions()).isEqualTo(1));
        } finally {
            client.disconnect();
        }
        TestData.await("the retired backend left", () -> cluster.balancer().status().retiringBackends().isEmpty());
    }

    @Test
    void aReloadWithOverlappingRangesIsRefusedAndChangesNothing() {
        BalancerSettings running = cluster.balancer().status().settings();
        BalancerSettings overlapping = running.withBackends(List.of(running.backends().get(0),
                running.backends().get(1).withPassivePorts(high(0), high(1))));

        assertThatThrownBy(() -> cluster.balancer().reload(overlapping))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the passive-ports of backends s1 (" + low(0) + "-" + high(0) + ") and s2 ("
                        + high(0) + "-" + high(1) + ") overlap");
        assertThat(cluster.balancer().status().settings()).isSameAs(running);
    }

    @Test
    void aSessionFinishesWithinTheGracePeriodAndTheRestAreClosed() throws Exception {
        FTPSClient client = FtpsClients.commonsNet(cluster.port(), false);
        try {
            cluster.balancer().stop(java.time.Duration.ofMillis(300));

            assertThat(cluster.balancer().status().sessions()).isEmpty();
            assertThat(cluster.balancer().status().admission().active()).isZero();
            assertThatThrownBy(client::listNames).isInstanceOf(IOException.class);
        } finally {
            client.disconnect();
        }
        assertThat(cluster.logLines()).anyMatch(l -> l.matches(".* event=session .* mode=passthrough .*") && l.endsWith("end=balancer-stop"));
    }
}
