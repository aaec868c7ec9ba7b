package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.protocol.address.HostPort;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.FreePorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PORT, EPRT, PASV, EPSV and a few transfers. The control connection is in memory (client
 * 127.0.0.1, server 127.0.0.1:21); passive listeners and data connections are real loopback
 * sockets, since a data connection is one by definition.
 */
@Timeout(20)
class SessionDataEndpointTest {

    private static final Pattern PASV_REPLY = Pattern.compile("227 Entering Passive Mode \\(127,0,0,1,\\d+,\\d+\\)\\.");
    private static final Pattern EPSV_REPLY = Pattern.compile("229 Entering Extended Passive Mode \\(\\|\\|\\|(\\d+)\\|\\)");

    @TempDir
    Path root;
    private InMemoryServer server;
    private ControlClient c;

    @BeforeEach
    void start() throws Exception {
        Files.writeString(root.resolve("a.txt"), "hello");
        server = new InMemoryServer(settings());
        c = server.loggedIn("alice");
    }

    /** A passive range below the ephemeral ports: round robin, so a closed listener's port stays closed. */
    private ServerSettings settings() throws IOException {
        int base = FreePorts.range(8);
        ServerSettings s = InMemoryServer.settings(root);
        return s.withPassive(s.passive().withPorts(base, base + 7));
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.close();
    }

    private int pasv() throws Exception {
        String reply = c.command("PASV");
        assertThat(reply).matches(PASV_REPLY);
        return HostPort.parse227(reply.substring(4)).port();
    }

    private int epsv(String command) throws Exception {
        String reply = c.command(command);
        Matcher m = EPSV_REPLY.matcher(reply);
        assertThat(m.matches()).as(reply).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static SocketChannel connectData(InetAddress from, int port) throws IOException {
        SocketChannel data = SocketChannel.open();
        data.bind(new InetSocketAddress(from, 0));
        data.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return data;
    }

    private static String readAll(SocketChannel data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(1024);
        while (data.read(buf) >= 0) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    // ---- active mode ---------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '^', value = {
            "PORT 127,0,0,1,4,1               ^ 200 PORT command successful.",
            "EPRT |1|127.0.0.1|2121|          ^ 200 EPRT command successful.",
            "EPRT |2|::ffff:127.0.0.1|2121|   ^ 200 EPRT command successful.",
            // SECURITY: RFC 2577 §3 (FTP bounce): never connect to a third party.
            "PORT 10,0,0,1,4,1                ^ 501 PORT refused: data connections go only to your own address.",
            "PORT 127,0,0,2,4,1               ^ 501 PORT refused: data connections go only to your own address.",
            "EPRT |1|192.0.2.1|2121|          ^ 501 EPRT refused: data connections go only to your own address.",
            "EPRT |2|::1|2121|                ^ 501 EPRT refused: data connections go only to your own address.",
            "PORT 127,0,0,1,0,21              ^ 501 PORT refused: port 21 is below 1024.",
            "EPRT |1|127.0.0.1|1023|          ^ 501 EPRT refused: port 1023 is below 1024.",
            "PORT 127,0,0,1,4                 ^ 501 Syntax: PORT h1,h2,h3,h4,p1,p2 (each 0-255).",
            "PORT 127,0,0,1,4,256             ^ 501 Syntax: PORT h1,h2,h3,h4,p1,p2 (each 0-255).",
            "EPRT |1|localhost|2121|          ^ 501 Syntax: EPRT |1|a.b.c.d|port| or EPRT |2|ipv6|port|.",
            "EPRT |3|127.0.0.1|2121|          ^ 522 Network protocol not supported, use (1,2)",
    })
    void activeModeGoesOnlyToTheClientsOwnAddress(String command, String reply) throws Exception {
        assertThat(c.command(command)).isEqualTo(reply);
    }

    /**
     * A data connection in active mode leaves from the address the client reached the server at (as vsftpd
     * does), not from whatever source the routing table picks (for 127.0.4.2 on loopback: 127.0.0.1).
     */
    @Test
    void activeDataConnectionsLeaveFromTheControlConnectionsLocalAddress() throws Exception {
        InetSocketAddress local = new InetSocketAddress(InetAddress.getByName("127.0.4.2"), 21);
        ControlClient multiHomed = server.connect(local, InMemoryServer.CLIENT_ADDRESS);
        multiHomed.replyLine();
        multiHomed.login("alice", InMemoryServer.PASSWORD);
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            assertThat(multiHomed.command("PORT 127,0,0,1," + (port >> 8) + "," + (port & 0xFF))).startsWith("200 ");
            multiHomed.send("RETR a.txt");
            try (SocketChannel data = listener.accept()) {
                assertThat(((InetSocketAddress) data.getRemoteAddress()).getAddress().getHostAddress()).isEqualTo("127.0.4.2");
                assertThat(multiHomed.replyLine()).startsWith("150 ");
                assertThat(readAll(data)).isEqualTo("hello");
            }
            assertThat(multiHomed.replyLine()).isEqualTo("226 Transfer complete (5 bytes).");
        }
    }

    @Test
    void statShowsTheActiveTarget() throws Exception {
        c.command("PORT 127,0,0,1,4,1");

        assertThat(c.commandLines("STAT")).contains(" Active mode: will connect to /127.0.0.1:1025.");
    }

    @Test
    void activeModeCanBeSwitchedOff() throws Exception {
        server.close();
        server = new InMemoryServer(settings().withAllowActiveMode(false));
        c = server.loggedIn("alice");

        assertThat(c.command("PORT 127,0,0,1,4,1")).isEqualTo("502 Active mode is disabled on this server; use PASV or EPSV.");
        assertThat(c.command("EPRT |1|127.0.0.1|2121|")).isEqualTo("502 Active mode is disabled on this server; use PASV or EPSV.");
        assertThat(c.command("PASV")).matches(PASV_REPLY);
    }

    // ---- passive mode --------------------------------------------------------------------------

    @Test
    void pasvOpensAListenerOnTheControlConnectionsAddress() throws Exception {
        int port = pasv();

        assertThat(c.commandLines("STAT")).contains(" Passive mode: listening on port " + port + ".");
        try (SocketChannel data = connectData(InetAddress.getLoopbackAddress(), port)) {
            assertThat(data.isConnected()).isTrue();
        }
    }

    @Test
    void aNewPasvClosesThePreviousListener() throws Exception {
        int first = pasv();
        int second = pasv();

        assertThat(second).isNotEqualTo(first);
        assertThat(server.context.passivePorts().inUse()).isEqualTo(1);
        assertThatThrownBy(() -> connectData(InetAddress.getLoopbackAddress(), first).close())
                .isInstanceOf(ConnectException.class);
    }

    private void retrieveOver(int port) throws Exception {
        try (SocketChannel data = connectData(InetAddress.getLoopbackAddress(), port)) {
            c.send("RETR a.txt");
            assertThat(c.replyLine()).startsWith("150 ");
            assertThat(readAll(data)).isEqualTo("hello");
            assertThat(c.replyLine()).isEqualTo("226 Transfer complete (5 bytes).");
        }
    }

    /** PassiveListener.reuse: a listener that served its transfer serves the next PASV/EPSV, on the same port. */
    @Test
    void aPasvAfterAPassiveTransferReusesItsPort() throws Exception {
        int first = pasv();
        retrieveOver(first);

        int second = epsv("EPSV");
        assertThat(second).isEqualTo(first);
        retrieveOver(second);
        assertThat(pasv()).isEqualTo(first);
        assertThat(server.context.passivePorts().inUse()).isEqualTo(1);

        assertThat(c.command("QUIT")).isEqualTo("221 Goodbye.");
        assertThat(c.closedByServer()).isTrue();
        assertThat(server.context.passivePorts().inUse()).as("the session's end gives the port back").isZero();
    }

    @Test
    void aPasvWhoseListenerServedNothingIsNotReused() throws Exception {
        int first = pasv();
        retrieveOver(first);
        int unused = pasv();

        assertThat(pasv()).as("the unused listener may still get a late connection: not reused").isNotEqualTo(unused);
    }

    @Test
    void portAfterAPassiveTransferGivesItsPortBack() throws Exception {
        retrieveOver(pasv());
        assertThat(server.context.passivePorts().inUse()).isEqualTo(1);

        assertThat(c.command("PORT 127,0,0,1,4,1")).startsWith("200 ");
        assertThat(server.context.passivePorts().inUse()).isZero();
    }

    @Test
    void aborWithoutTransferDropsThePassiveListener() throws Exception {
        int port = pasv();

        assertThat(c.command("ABOR")).isEqualTo("225 No transfer to abort.");
        assertThat(server.context.passivePorts().inUse()).isZero();

        assertThat(c.commandLines("STAT")).contains(" No data connection set up.");
        assertThatThrownBy(() -> connectData(InetAddress.getLoopbackAddress(), port).close())
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void quitClosesThePassiveListener() throws Exception {
        int port = pasv();

        assertThat(c.command("QUIT")).isEqualTo("221 Goodbye.");
        assertThat(c.closedByServer()).isTrue();

        assertThat(server.context.passivePorts().inUse()).isZero();
        assertThatThrownBy(() -> connectData(InetAddress.getLoopbackAddress(), port).close())
                .isInstanceOf(ConnectException.class);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '^', value = {
            "EPSV 2    ^ 522 Network protocol not supported, use (1)",
            "EPSV 3    ^ 522 Network protocol not supported, use (1)",
            "EPSV x    ^ 501 Syntax: EPSV [1|2|ALL].",
            "EPSV 1 2  ^ 501 Syntax: EPSV [1|2|ALL].",
    })
    void epsvArgumentsOtherThanTheConnectionsFamily(String command, String reply) throws Exception {
        assertThat(c.command(command)).isEqualTo(reply);
    }

    @Test
    void epsvWithAndWithoutTheFamily() throws Exception {
        int port = epsv("EPSV");
        assertThat(epsv("EPSV 1")).isNotEqualTo(port);
    }

    // RFC 2428 §4: after EPSV ALL, every other data-connection setup command is refused.
    @Test
    void epsvAllRefusesPasvPortAndEprt() throws Exception {
        assertThat(c.command("EPSV ALL")).isEqualTo("200 EPSV ALL accepted.");

        assertThat(c.command("PASV")).isEqualTo("501 PASV refused: EPSV ALL is in effect (RFC 2428 §4).");
        assertThat(c.command("PORT 127,0,0,1,4,1")).isEqualTo("501 PORT refused: EPSV ALL is in effect (RFC 2428 §4).");
        assertThat(c.command("EPRT |1|127.0.0.1|2121|")).isEqualTo("501 EPRT refused: EPSV ALL is in effect (RFC 2428 §4).");
        epsv("EPSV");
    }

    @Test
    void reinEndsEpsvAll() throws Exception {
        c.command("EPSV ALL");
        c.command("REIN");
        c.login("alice", InMemoryServer.PASSWORD);

        assertThat(c.command("PASV")).matches(PASV_REPLY);
    }

    // ---- transfers -----------------------------------------------------------------------------

    @Test
    void aTransferWithoutADataConnectionSetUpIs425() throws Exception {
        assertThat(c.command("RETR a.txt")).isEqualTo("425 Use PORT, PASV, EPRT or EPSV first.");
        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
    }

    @Test
    void retrOverPasv() throws Exception {
        int port = pasv();
        try (SocketChannel data = connectData(InetAddress.getLoopbackAddress(), port)) {
            c.send("RETR a.txt");

            assertThat(c.replyLine()).isEqualTo("150 Opening BINARY mode data connection for /a.txt (5 bytes).");
            assertThat(readAll(data)).isEqualTo("hello");
            assertThat(c.replyLine()).isEqualTo("226 Transfer complete (5 bytes).");
        }
    }

    @Test
    void retrWithRestStartsAtTheOffset() throws Exception {
        assertThat(c.command("REST 2")).startsWith("350 ");
        int port = pasv();
        try (SocketChannel data = connectData(InetAddress.getLoopbackAddress(), port)) {
            c.send("RETR a.txt");

            assertThat(c.replyLine()).isEqualTo("150 Opening BINARY mode data connection for /a.txt (3 bytes).");
            assertThat(readAll(data)).isEqualTo("llo");
            assertThat(c.replyLine()).isEqualTo("226 Transfer complete (3 bytes).");
        }
    }

    @Test
    void restBeyondTheEndIs554() throws Exception {
        c.command("REST 6");

        assertThat(c.command("RETR a.txt")).isEqualTo("554 Restart offset 6 is beyond the end of the file (5 bytes).");
    }

    @Test
    void asciiStorConvertsCrlfToLf() throws Exception {
        c.command("TYPE A");
        int port = epsv("EPSV");
        try (SocketChannel data = connectData(InetAddress.getLoopbackAddress(), port)) {
            c.send("STOR up.txt");
            assertThat(c.replyLine()).isEqualTo("150 Opening ASCII mode data connection for /up.txt.");
            data.write(ByteBuffer.wrap("one\r\ntwo\r\nlone\rcr\r\n".getBytes(StandardCharsets.US_ASCII)));
        }

        assertThat(c.replyLine()).isEqualTo("226 Transfer complete (19 bytes).");
        assertThat(root.resolve("up.txt")).hasContent("one\ntwo\nlone\rcr\n");
    }

    @Test
    void nlstSendsNamesWithCrlf() throws Exception {
        int port = pasv();
        try (SocketChannel data = connectData(InetAddress.getLoopbackAddress(), port)) {
            c.send("NLST");

            assertThat(c.replyLine()).isEqualTo("150 Opening ASCII mode data connection for file list.");
            assertThat(readAll(data)).isEqualTo("a.txt\r\n");
            assertThat(c.replyLine()).isEqualTo("226 Transfer complete (7 bytes).");
        }
    }

    // SECURITY: RFC 2577 §6 (port stealing): another host connecting first gets nothing.
    @Test
    void aDataConnectionFromAnotherAddressIsRefusedAndTheClientsIsUsed() throws Exception {
        int port = pasv();
        try (SocketChannel stranger = connectData(InetAddress.getByAddress(new byte[] {127, 0, 0, 2}), port);
             SocketChannel data = connectData(InetAddress.getLoopbackAddress(), port)) {
            c.send("RETR a.txt");

            assertThat(c.replyLine()).isEqualTo("150 Opening BINARY mode data connection for /a.txt (5 bytes).");
            assertThat(readAll(data)).isEqualTo("hello");
            assertThat(c.replyLine()).isEqualTo("226 Transfer complete (5 bytes).");
            assertThat(readAll(stranger)).as("the stranger got nothing").isEmpty();
        }
    }

    @Test
    void repliesOfATransferComeBeforeTheNextCommandsReply() throws Exception {
        int port = pasv();
        try (SocketChannel data = connectData(InetAddress.getLoopbackAddress(), port)) {
            c.sendRaw("RETR a.txt\r\nNOOP\r\n".getBytes(StandardCharsets.US_ASCII));

            assertThat(c.replyLine()).startsWith("150 ");
            assertThat(readAll(data)).isEqualTo("hello");
            assertThat(List.of(c.replyLine(), c.replyLine())).containsExactly("226 Transfer complete (5 bytes).", "200 NOOP ok.");
        }
    }
}
