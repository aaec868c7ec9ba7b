package dev.ferry.balancer.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/**
 * {@link ProxySession} in memory ({@link ProxyHarness}): the control path without sockets, exact replies. Data
 * connections, where a rule needs one, are loopback sockets.
 */
class ProxySessionTest {

    private static final Pattern PASV_227 = Pattern.compile("227 Entering Passive Mode \\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)\\.");

    private ProxyHarness h;

    @AfterEach
    void close() {
        if (h != null) {
            h.close();
        }
    }

    private ProxyHarness start(ScriptedBackend backend) throws IOException {
        h = new ProxyHarness(backend);
        return h;
    }

    @Test
    void beforeLoginTheBalancerAnswersAsTheServerWouldAndTheBackendHearsNothing() throws Exception {
        ProxyHarness p = start(new ScriptedBackend());
        p.command("HELP RETR", "214 RETR <file>: download");
        p.command("ACCT billing", "202 ACCT not needed at this site.");
        p.command("OPTS UTF8 OFF", "504 UTF8 mode cannot be turned off.");
        p.command("HOST bad_name!", "501 HOST needs a domain name or an address literal.");
        p.command("REIN", "220 Service ready for new user.");
        p.command("LIST", "530 Please log in with USER and PASS first.");
        p.command("PASS secret", "503 Login with USER first.");
        p.command("AUTH TLS", "502 TLS is not available on this server.");
        p.command("XYZZ", "500 'XYZZ': command not understood.");
        p.command("QUIT", "221 Goodbye.");
        p.awaitEnd();
        assertThat(p.backend.received).isEmpty();
    }

    @Test
    void theBackendsVerdictOnEachLoginIsLoggedWithTheUserOfThatLoginAndNeverThePassword() throws Exception {
        ListAppender<ILoggingEvent> log = captureBalancerLog();
        try {
            ScriptedBackend backend = new ScriptedBackend();
            backend.on("PASS", (b, l) -> b.reply(l.equals("PASS right") ? "230 Logged in." : "530 Login incorrect."));
            h = new ProxyHarness(backend, s -> s.withNode("lb"));
            h.command("USER alice", "331 Password required for alice.");
            h.command("PASS wrong-one", "530 Login incorrect.");
            h.command("USER bob", "331 Password required for bob.");
            h.command("PASS right", "230 Logged in.");
            String id = h.session.id();
            String prefix = "node=lb session=" + id;
            assertThat(lines(log))
                    .contains(prefix + " event=login-failed client=127.0.0.1:50000 user=alice backend=s1 reason=530",
                            prefix + " event=login client=127.0.0.1:50000 user=bob backend=s1")
                    .noneMatch(l -> l.contains("wrong-one") || l.contains("right"));
            // proxy-protocol.txt §2.2.5: what the backend's PROXY v2 header carries, and the server then logs.
            assertThat(backend.header.uniqueId()).isEqualTo("lb/" + id);
            assertThat(backend.header.source()).isEqualTo(ProxyHarness.CLIENT);
        } finally {
            releaseBalancerLog(log);
        }
    }

    private static ListAppender<ILoggingEvent> captureBalancerLog() {
        Logger logger = (Logger) LoggerFactory.getLogger("ferry.balancer");
        logger.setLevel(Level.INFO);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        return log;
    }

    private static void releaseBalancerLog(ListAppender<ILoggingEvent> log) {
        Logger logger = (Logger) LoggerFactory.getLogger("ferry.balancer");
        logger.detachAppender(log);
        logger.setLevel(null);
    }

    private static java.util.List<String> lines(ListAppender<ILoggingEvent> log) {
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Test
    void hostAndUtf8AreReplayedToTheBackendBeforeTheUser() throws Exception {
        ProxyHarness p = start(new ScriptedBackend()
                .on("HOST", (b, l) -> b.reply("220 Host accepted."))
                .on("OPTS", (b, l) -> b.reply("200 UTF8 mode is always on.")));
        p.command("HOST ftp.example.com", "220 Host accepted.");
        p.command("OPTS UTF8 ON", "200 UTF8 mode is always on.");
        p.command("USER alice", "331 Password required for alice.");
        assertThat(p.backend.nextReceived()).isEqualTo("HOST ftp.example.com");
        assertThat(p.backend.nextReceived()).isEqualTo("OPTS UTF8 ON");
        assertThat(p.backend.nextReceived()).isEqualTo("USER alice");
    }

    @Test
    void reinBeforeLoginForgetsTheHost() throws Exception {
        ProxyHarness p = start(new ScriptedBackend());
        p.command("HOST ftp.example.com", "220 Host accepted.");
        p.command("REIN", "220 Service ready for new user.");
        p.command("USER alice", "331 Password required for alice.");
        assertThat(p.backend.nextReceived()).isEqualTo("USER alice");
    }

    @Test
    void featAfterLoginIsTheBackendsAsTheBalancerShapesIt() throws Exception {
        ProxyHarness p = start(new ScriptedBackend()
                .on("FEAT", (b, l) -> b.reply("211-Features:\r\n AUTH TLS\r\n MFMT\r\n SIZE\r\n211 End")));
        p.login();
        // No TLS here: the backend's AUTH TLS is dropped; EPRT is the balancer's own (it serves PORT/EPRT).
        p.command("FEAT", "211-Features:| EPRT| MFMT| SIZE|211 End");
    }

    @Test
    void pasvIsRewrittenToAPortOfTheBalancersOwn() throws Exception {
        ScriptedBackend backend = new ScriptedBackend();
        ProxyHarness p = start(backend);
        p.login();
        int port = pasv(p);
        assertThat(port).isNotEqualTo(backend.passive());
        assertThat(p.dataPorts.portsInUse()).isEqualTo(1);
        p.send("EPSV");
        assertThat(p.reply()).matches("229 Entering Extended Passive Mode \\(\\|\\|\\|\\d+\\|\\)")
                .doesNotContain("|" + backend.passive() + "|");
        assertThat(p.dataPorts.portsInUse()).as("the PASV's port was given back").isEqualTo(1);
    }

    @Test
    void repliesOfTheBalancersOwnWaitForTheBackendsEarlierOnes() throws Exception {
        ProxyHarness p = start(new ScriptedBackend().on("NOOP", (b, l) -> {
            Thread.sleep(150);
            b.reply("200 NOOP ok.");
        }));
        p.login();
        // Pipelined: the PORT is refused by the balancer at once, but its 501 must come after the first NOOP's 200.
        p.send("NOOP", "PORT 10,9,8,7,195,80", "PBSZ 0", "NOOP");
        p.assertReply("200 NOOP ok.");
        p.assertReply("501 PORT refused: data connections go only to your own address.");
        p.assertReply("503 Security data exchange not completed (send AUTH first).");
        p.assertReply("200 NOOP ok.");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = "=>", value = {
            "PORT 127,0,0,1,0,21 => 501 PORT refused: port 21 is below 1024.",
            "PORT 10,0,0,1,195,80 => 501 PORT refused: data connections go only to your own address.",
            "PORT 1,2,3 => 501 Syntax: PORT h1,h2,h3,h4,p1,p2 (each 0-255).",
            "EPRT |3|::1|5000| => 522 Network protocol not supported, use (1,2)",
            "EPRT |1|127.0.0.1|80| => 501 EPRT refused: port 80 is below 1024.",
            "EPRT |1|127.0.0.1|50001| => 200 EPRT command successful.",
            "PORT 127,0,0,1,195,81 => 200 PORT command successful."})
    void portAndEprtFollowTheServersRules(String command, String reply) throws Exception {
        ProxyHarness p = start(new ScriptedBackend());
        p.login();
        p.command(command, reply);
        if (reply.startsWith("200")) {
            // Served by putting the backend in passive mode: it never connects out.
            p.backend.nextReceived();
            p.backend.nextReceived();
            assertThat(p.backend.nextReceived()).isEqualTo("PASV");
        }
    }

    @Test
    void afterEpsvAllPortAndEprtAreRefusedAsTheServerRefusesThem() throws Exception {
        ProxyHarness p = start(new ScriptedBackend());
        p.login();
        p.command("EPSV ALL", "200 EPSV ALL accepted.");
        p.command("PORT 127,0,0,1,195,81", "501 PORT refused: EPSV ALL is in effect (RFC 2428 §4).");
        p.command("EPRT |1|127.0.0.1|50001|", "501 EPRT refused: EPSV ALL is in effect (RFC 2428 §4).");
    }

    @Test
    void aTransferWithoutADataCommandIsNotConfirmed() throws Exception {
        ProxyHarness p = start(new ScriptedBackend().on("RETR", (b, l) -> b.reply("150 Opening.\r\n226 Done.")));
        p.login();
        p.command("RETR f", "150 Opening.");
        p.assertReply("425 No data connection was made; transfer not done.");
    }

    @Test
    void aTransferRefusedBeforeItBeganIsPassedOnAndItsPortFreed() throws Exception {
        ProxyHarness p = start(new ScriptedBackend().on("RETR", (b, l) -> b.reply("550 No such file.")));
        p.login();
        pasv(p);
        assertThat(p.dataPorts.portsInUse()).isEqualTo(1);
        p.command("RETR missing", "550 No such file.");
        assertThat(p.dataPorts.portsInUse()).isZero();
    }

    @Test
    void aCleanRelayIsConfirmedWith226() throws Exception {
        ProxyHarness p = start(new ScriptedBackend().on("RETR", ProxySessionTest::sendsHello));
        p.login();
        int port = pasv(p);
        try (SocketChannel data = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            p.command("RETR f", "150 Opening.");
            assertThat(readAll(data)).isEqualTo("hello\n");
            p.assertReply("226 Transfer complete.");
        }
        assertThat(p.session.transfers()).isEqualTo(1);
        assertThat(p.session.bytesDown()).isEqualTo(6);
    }

    @Test
    void aRelayCutByTheBackendIsNeverConfirmedWhateverTheBackendSays() throws Exception {
        CountDownLatch clientHasBytes = new CountDownLatch(1);
        ProxyHarness p = start(new ScriptedBackend().on("RETR", (b, l) -> {
            b.reply("150 Opening.");
            SocketChannel data = b.acceptData();
            data.write(ByteBuffer.wrap("hel".getBytes(StandardCharsets.US_ASCII)));
            clientHasBytes.await(5, TimeUnit.SECONDS);
            // A reset, not a FIN: the data did not end; the backend then claims success anyway.
            data.setOption(StandardSocketOptions.SO_LINGER, 0);
            data.close();
            b.reply("226 Transfer complete.");
        }));
        p.login();
        int port = pasv(p);
        try (SocketChannel data = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            p.command("RETR f", "150 Opening.");
            ByteBuffer first = ByteBuffer.allocate(3);
            while (first.hasRemaining() && data.read(first) >= 0) {
                // the relay is running
            }
            clientHasBytes.countDown();
            p.assertReply("426 Data connection lost; transfer aborted.");
        }
    }

    @Test
    void anActiveTransferIsBridgedFromTheBackendsPassivePortToTheClientsPort() throws Exception {
        ProxyHarness p = start(new ScriptedBackend().on("RETR", ProxySessionTest::sendsHello));
        p.login();
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = listener.socket().getLocalPort();
            p.command("PORT 127,0,0,1," + (port >> 8) + "," + (port & 0xff), "200 PORT command successful.");
            p.send("RETR f");
            try (SocketChannel data = listener.accept()) {
                p.assertReply("150 Opening.");
                assertThat(readAll(data)).isEqualTo("hello\n");
            }
            p.assertReply("226 Transfer complete.");
        }
        assertThat(p.session.transfers()).isEqualTo(1);
    }

    @Test
    void aPendingDataRouteIsGivenBackWhenTheSessionAsksForAnotherOrEnds() throws Exception {
        ProxyHarness p = start(new ScriptedBackend());
        p.login();
        pasv(p);
        pasv(p);
        assertThat(p.dataPorts.portsInUse()).as("the first PASV's port was given back").isEqualTo(1);
        p.command("QUIT", "221 Goodbye.");
        p.awaitEnd();
        assertThat(p.dataPorts.portsInUse()).as("not held until the data timeout").isZero();
    }

    /** A RETR the backend serves in full: 150, "hello\n" on its data connection, 226. */
    private static void sendsHello(ScriptedBackend b, String line) throws Exception {
        b.reply("150 Opening.");
        try (SocketChannel data = b.acceptData()) {
            data.write(ByteBuffer.wrap("hello\n".getBytes(StandardCharsets.US_ASCII)));
        }
        b.reply("226 Transfer complete.");
    }

    /** PASV through the balancer; the balancer's port the client was told. */
    private static int pasv(ProxyHarness p) throws IOException {
        p.send("PASV");
        String reply = p.reply();
        Matcher m = PASV_227.matcher(reply);
        assertThat(m.matches()).as(reply).isTrue();
        assertThat(m.group(1) + "." + m.group(2) + "." + m.group(3) + "." + m.group(4)).isEqualTo("127.0.0.1");
        return Integer.parseInt(m.group(5)) * 256 + Integer.parseInt(m.group(6));
    }

    private static String readAll(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1024);
        while (c.read(b) >= 0) {
            // until the relay ends the download
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
    }
}
