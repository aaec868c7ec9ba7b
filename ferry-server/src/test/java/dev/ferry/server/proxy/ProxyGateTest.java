package dev.ferry.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.proxy.ProxyProtocol;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.session.Session;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * The server's PROXY gate ({@link ProxyGate}) and what sessions make of its outcome: {@code ferry server}
 * behind a PROXY protocol sender, over real loopback sockets. The server trusts 127.0.0.1/32, so a test
 * peer connecting from 127.0.0.1 plays the balancer and one bound to another 127.0.0.x address is an
 * untrusted client. Clients named in headers are 192.0.2.x (RFC 5737), or a loopback address when a test
 * must connect from the named client itself. (ferry-protocol's ProxyProtocolTest tests the header codec.)
 */
@Timeout(30)
class ProxyGateTest {

    private static final String PASSWORD = "secret";
    // Cheap Argon2id parameters: these tests are about addresses, not about hashing cost.
    private static final String HASH = PasswordHasher.hash(PASSWORD.toCharArray(), 8, 1, 1);
    private static final InetAddress BALANCER = address("127.0.0.1");
    private static final InetAddress OUTSIDER = address("127.0.0.3");
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    /** How a test balancer writes a header: the two versions of the protocol. */
    enum Version {
        V1(ProxyProtocol::encodeV1), V2(ProxyProtocol::encodeV2);

        private final Function<ProxyHeader, byte[]> encoder;

        Version(Function<ProxyHeader, byte[]> encoder) {
            this.encoder = encoder;
        }

        byte[] header(String client, int port) {
            return encoder.apply(new ProxyHeader(new InetSocketAddress(address(client), port),
                    new InetSocketAddress(BALANCER, 2121)));
        }

        byte[] local() {
            return encoder.apply(ProxyHeader.local());
        }
    }

    @TempDir
    Path root;
    private FtpServer server;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger sessionLog = (Logger) LoggerFactory.getLogger("ferry.session");

    @BeforeEach
    void captureSessionLog() {
        log.start();
        sessionLog.addAppender(log);
        sessionLog.setLevel(Level.INFO);
        sessionLog.setAdditive(false);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        sessionLog.detachAppender(log);
        sessionLog.setLevel(null);
        sessionLog.setAdditive(true);
    }

    private void start(UnaryOperator<ServerSettings> configure) throws IOException {
        ServerSettings s = ServerSettings.defaults(root)
                .withListen(new InetSocketAddress(BALANCER, 0))
                .withUsers(List.of(new ServerSettings.UserAccount("alice", HASH, null, true, true)), null)
                .withLoginPolicy(new ServerSettings.LoginPolicy(Duration.ZERO, 3, 0, Duration.ofMinutes(5),
                        Duration.ofMinutes(15), Duration.ofMinutes(15)))
                .withTrustedProxies(List.of("127.0.0.1/32"));
        server = FtpServer.start(configure.apply(s));
    }

    private void start() throws IOException {
        start(s -> s);
    }

    private Peer connect(InetAddress from) throws IOException {
        return Peer.connect(from, server.port());
    }

    /** A peer from the trusted address that sends {@code header} and reads the greeting. */
    private Peer proxied(byte[] header) throws IOException {
        Peer p = connect(BALANCER);
        p.send(header);
        return p;
    }

    private Session onlySession() {
        assertThat(server.context().sessions().sessions()).hasSize(1);
        return server.context().sessions().sessions().iterator().next();
    }

    private List<String> logLines(String containing) {
        // Logback appends under the appender's lock while sessions still run: copy under the same lock.
        List<ILoggingEvent> events;
        synchronized (log) {
            events = List.copyOf(log.list);
        }
        return events.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(containing)).toList();
    }

    // ---- the client named in the header is the session's client ------------------------------------------

    @ParameterizedTest
    @EnumSource(Version.class)
    void theHeadersSourceIsTheClientForThePerAddressLimit(Version version) throws Exception {
        start(s -> s.withLimits(s.limits().withMaxSessionsPerAddress(1)));

        try (Peer first = proxied(version.header("192.0.2.1", 50001))) {
            assertThat(first.line()).startsWith("220 ");
            try (Peer second = proxied(version.header("192.0.2.2", 50002))) {
                assertThat(second.line()).as("another client behind the same balancer").startsWith("220 ");
                try (Peer again = proxied(version.header("192.0.2.1", 50003))) {
                    assertThat(again.line()).isEqualTo("421 Too many connections from your address; try again later.");
                }
                assertThat(server.context().sessions().sessions())
                        .extracting(Session::clientAddress)
                        .containsExactlyInAnyOrder(address("192.0.2.1"), address("192.0.2.2"));
                assertThat(server.context().sessions().sessions())
                        .extracting(session -> session.via().getAddress())
                        .containsOnly(BALANCER);
            }
        }
        assertThat(logLines("event=connect client=192.0.2.1:50001 user=- via=127.0.0.1:")).hasSize(1);
        assertThat(logLines("event=refused client=192.0.2.1:50003 ")).singleElement().asString()
                .contains(" reason=refused-max-per-address via=127.0.0.1:");
    }

    @Test
    void anIpv6ClientBehindAnIpv4Balancer() throws Exception {
        start();
        byte[] header = ProxyProtocol.encodeV2(new ProxyHeader(new InetSocketAddress(address("2001:db8::7"), 50001),
                new InetSocketAddress(BALANCER, 2121)));

        try (Peer p = proxied(header)) {
            assertThat(p.line()).startsWith("220 ");
            assertThat(onlySession().clientAddress()).isEqualTo(address("2001:db8::7"));
        }
        assertThat(logLines("event=connect client=[2001:db8::7]:50001 user=- via=127.0.0.1:")).hasSize(1);
    }

    @ParameterizedTest
    @EnumSource(Version.class)
    void aBanAppliesToTheProxiedClientNotToTheBalancer(Version version) throws Exception {
        start(s -> s.withLoginPolicy(new ServerSettings.LoginPolicy(Duration.ZERO, 3, 1, Duration.ofMinutes(5),
                Duration.ofMinutes(15), Duration.ofMinutes(15))));

        try (Peer guesser = proxied(version.header("192.0.2.7", 50001))) {
            assertThat(guesser.line()).startsWith("220 ");
            assertThat(guesser.command("USER alice")).startsWith("331 ");
            assertThat(guesser.command("PASS wrong")).isEqualTo("421 Too many failed logins; closing the connection.");
        }
        assertThat(server.context().bans().isBanned(address("192.0.2.7"))).isTrue();
        assertThat(server.context().bans().isBanned(BALANCER)).isFalse();

        try (Peer banned = proxied(version.header("192.0.2.7", 50002));
             Peer other = proxied(version.header("192.0.2.8", 50003));
             Peer check = proxied(version.local())) {
            assertThat(banned.line()).isEqualTo("421 Too many failed logins from your address; try again later.");
            assertThat(other.line()).startsWith("220 ");
            assertThat(check.line()).as("the balancer's own health check").startsWith("220 ");
        }
    }

    @ParameterizedTest
    @EnumSource(Version.class)
    void localOrUnknownKeepsTheRealEndpoints(Version version) throws Exception {
        start();

        try (Peer check = proxied(version.local())) {
            assertThat(check.line()).startsWith("220 ");
            Session session = onlySession();
            assertThat(session.clientAddress()).isEqualTo(BALANCER);
            assertThat(session.via()).isNull();
            assertThat(check.command("QUIT")).startsWith("221 ");
        }
        awaitNoSessions();
        assertThat(logLines("client=127.0.0.1:")).as("a health check is silent at INFO").isEmpty();
    }

    /**
     * Spec §2.1: a v1 sender's health check names its own endpoints rather than UNKNOWN (the balancer's v1
     * checks do). A header naming the socket's very peer is the proxy's own connection: silent, exempt.
     */
    @Test
    void aV1HeaderNamingTheConnectionItselfIsTheProxysOwn() throws Exception {
        start();
        Peer check = connect(BALANCER);
        try (check) {
            InetSocketAddress self = new InetSocketAddress(BALANCER, check.localPort());
            check.send(ProxyProtocol.encodeV1(new ProxyHeader(self, new InetSocketAddress(BALANCER, server.port()))));
            assertThat(check.line()).startsWith("220 ");
            assertThat(onlySession().via()).isNull();
            assertThat(check.command("QUIT")).startsWith("221 ");
        }
        awaitNoSessions();
        assertThat(logLines("client=127.0.0.1:")).as("a health check is silent at INFO").isEmpty();
    }

    /**
     * A balancer's checks log in (its ftp-login check) and may transfer: every line of a proxy-own session is
     * DEBUG, marked proxy=own on its connect and disconnect, and it writes no xferlog line.
     */
    @ParameterizedTest
    @EnumSource(Version.class)
    void aProxyOwnSessionLogsEverythingAtDebugAndNoXferlog(Version version) throws Exception {
        sessionLog.setLevel(Level.DEBUG);
        Logger xferlog = (Logger) LoggerFactory.getLogger("ferry.xferlog");
        ListAppender<ILoggingEvent> transfers = new ListAppender<>();
        transfers.start();
        xferlog.addAppender(transfers);
        start();
        Files.writeString(root.resolve("probe.txt"), "ok\n");
        try (Peer own = proxied(version.local())) {
            assertThat(own.line()).startsWith("220 ");
            own.login();
            int port = own.passivePort("EPSV");
            try (Socket data = dataConnection(BALANCER, port)) {
                assertThat(own.command("RETR probe.txt")).startsWith("150 ");
                assertThat(data.getInputStream().readAllBytes()).hasSize(3);
            }
            assertThat(own.line()).startsWith("226 ");
            assertThat(own.command("QUIT")).startsWith("221 ");
        } finally {
            xferlog.detachAppender(transfers);
        }
        awaitNoSessions();
        awaitLogLine("event=disconnect");

        List<ILoggingEvent> lines;
        synchronized (log) {
            lines = List.copyOf(log.list);
        }
        assertThat(lines).extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.contains("event=connect ") && m.endsWith(" proxy=own"))
                .anyMatch(m -> m.contains("event=login ") && m.contains(" user=alice "))
                .anyMatch(m -> m.contains("event=transfer ") && m.contains(" cmd=RETR "))
                .anyMatch(m -> m.contains("event=disconnect ") && m.endsWith(" proxy=own"))
                .anyMatch(m -> m.contains("event=command ") && m.contains("cmd=\"PASS ****\""))
                .noneMatch(m -> m.contains(PASSWORD));
        assertThat(lines).as("no line of a health check's session at INFO").extracting(ILoggingEvent::getLevel)
                .containsOnly(Level.DEBUG);
        assertThat(transfers.list).as("a check's transfer is no one's file: no xferlog line").isEmpty();
    }

    /** PROXY v2 unique ID (spec §2.2.5): the balancer's id of the session is on every line of the server's. */
    @Test
    void theBalancersSessionIdIsOnEveryLineOfTheSession() throws Exception {
        start();
        byte[] header = ProxyProtocol.encodeV2(new ProxyHeader(new InetSocketAddress(address("192.0.2.9"), 50009),
                new InetSocketAddress(BALANCER, 2121)).withUniqueId("lb/c42"));

        try (Peer p = proxied(header)) {
            assertThat(p.line()).startsWith("220 ");
            assertThat(p.command("USER alice")).startsWith("331 ");
            assertThat(p.command("PASS wrong")).startsWith("530 ");
            p.login();
            assertThat(p.command("QUIT")).startsWith("221 ");
        }
        awaitLogLine("event=disconnect client=192.0.2.9:50009");

        List<String> lines = logLines("client=192.0.2.9:50009 ");
        assertThat(lines).extracting(line -> line.replaceAll(".* event=(\\S+) .*", "$1"))
                .containsExactly("connect", "login-failed", "login", "disconnect");
        assertThat(lines).allSatisfy(line -> assertThat(line).contains(" proxy_session=lb/c42"));
        assertThat(lines.get(1)).contains(" user=alice ", " reason=bad_password ");
    }

    private void awaitNoSessions() throws InterruptedException {
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (!server.context().sessions().sessions().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(server.context().sessions().sessions()).isEmpty();
    }

    /**
     * A balancer on the clients' own host (ferry cluster on loopback): its clients are named 127.0.0.1 in their
     * headers, like the balancer's health checks. A client holding that address's limit, or banned there, must
     * not make the checks fail: they would take the server out of the balancer for everyone.
     */
    @ParameterizedTest
    @EnumSource(Version.class)
    void healthChecksAreExemptFromTheClientsPerAddressLimitAndBans(Version version) throws Exception {
        start(s -> s.withLimits(s.limits().withMaxSessionsPerAddress(1))
                .withLoginPolicy(new ServerSettings.LoginPolicy(Duration.ZERO, 3, 1, Duration.ofMinutes(5),
                        Duration.ofMinutes(15), Duration.ofMinutes(15))));

        try (Peer client = proxied(version.header("127.0.0.1", 50001))) {
            assertThat(client.line()).startsWith("220 ");
            try (Peer check = proxied(version.local())) {
                assertThat(check.line()).as("a check while a client holds the address's only slot").startsWith("220 ");
                assertThat(check.command("USER alice")).startsWith("331 ");
                assertThat(check.command("PASS wrong")).as("a check's failed login bans no one").startsWith("530 ");
            }
            assertThat(server.context().bans().isBanned(BALANCER)).isFalse();
            assertThat(client.command("USER alice")).startsWith("331 ");
            assertThat(client.command("PASS wrong")).isEqualTo("421 Too many failed logins; closing the connection.");
        }
        assertThat(server.context().bans().isBanned(BALANCER)).as("the client is banned").isTrue();
        try (Peer check = proxied(version.local())) {
            assertThat(check.line()).as("a check from the banned address").startsWith("220 ");
        }
        try (Peer client = proxied(version.header("127.0.0.1", 50002))) {
            assertThat(client.line()).startsWith("421 ");
        }
    }

    @ParameterizedTest
    @EnumSource(Version.class)
    void aCommandRightBehindTheHeaderIsNotLost(Version version) throws Exception {
        start();
        byte[] header = version.header("192.0.2.1", 50001);
        byte[] command = "USER alice\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] both = Arrays.copyOf(header, header.length + command.length);
        System.arraycopy(command, 0, both, header.length, command.length);

        try (Peer p = proxied(both)) {
            assertThat(p.line()).startsWith("220 ");
            assertThat(p.line()).isEqualTo("331 Password required for alice.");
        }
    }

    // ---- a trusted peer without a valid header is dropped --------------------------------------------------

    static List<byte[]> notAHeader() {
        byte[] v2 = Version.V2.header("192.0.2.1", 50001);
        return List.of(
                "USER alice\r\n".getBytes(StandardCharsets.US_ASCII),
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP4 192.0.2.1 127.0.0.1 50001\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP4 example.com 127.0.0.1 50001 2121\r\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP4 192.0.2.1 127.0.0.1 50001 2121\n".getBytes(StandardCharsets.US_ASCII),
                "PROXY TCP4 \u001b[31m\r\n".getBytes(StandardCharsets.ISO_8859_1),
                Arrays.copyOf(v2, 20),   // truncated: the client closes after 20 of 28 bytes
                "PROXY TCP4 192.0.2.1".getBytes(StandardCharsets.US_ASCII));
    }

    @ParameterizedTest
    @MethodSource("notAHeader")
    void aTrustedPeerWithoutAValidHeaderIsDroppedWithoutAGreeting(byte[] sent) throws Exception {
        start();

        try (Peer p = proxied(sent)) {
            p.finishSending();
            assertThat(p.readUntilClosed()).as("bytes before the close").isEmpty();
        }
        awaitLogLine("reason=proxy-protocol");
        List<String> refused = logLines("event=refused client=127.0.0.1:");
        assertThat(refused).singleElement().asString().contains("reason=proxy-protocol error=")
                .doesNotContain("\u001b").doesNotContain("\r").doesNotContain("\n");
        assertThat(server.context().sessions().count()).isZero();
    }

    @Test
    void aSilentTrustedPeerIsDroppedAfterTheLoginTimeout() throws Exception {
        start(s -> s.withLimits(new ServerSettings.Limits(100, 10, Duration.ofMinutes(5), Duration.ofMinutes(1),
                4096, Duration.ofMillis(500))));

        try (Peer silent = connect(BALANCER)) {
            // READ_TIMEOUT (10 s) is far above the 500 ms bound: a peer held open would fail here.
            assertThat(silent.readUntilClosed()).isEmpty();
        }
        awaitLogLine("no complete PROXY header within 500 ms");
    }

    // ---- untrusted peers are never parsed -------------------------------------------------------------------

    @Test
    void anUntrustedPeersProxyLineIsAnUnknownCommand() throws Exception {
        start();

        try (Peer p = connect(OUTSIDER)) {
            assertThat(p.line()).startsWith("220 ");
            // Not the connection's first line: that one would be a PROXY header sent by mistake (below).
            assertThat(p.command("NOOP")).startsWith("200 ");
            assertThat(p.command("PROXY TCP4 192.0.2.1 127.0.0.1 50001 2121"))
                    .isEqualTo("500 'PROXY': command not understood.");
            Session session = onlySession();
            assertThat(session.clientAddress()).isEqualTo(OUTSIDER);
            assertThat(session.via()).isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(Version.class)
    void aHeaderFromAnUntrustedPeerIsRefusedClearlyAndWarnedAboutOncePerAddress(Version version) throws Exception {
        start();

        for (int i = 0; i < 3; i++) {
            try (Peer p = connect(OUTSIDER)) {
                p.send(version.header("192.0.2.1", 50001));
                p.send("USER alice");
                assertThat(p.line()).startsWith("220 ");
                assertThat(p.line()).isEqualTo("421 PROXY protocol header refused: 127.0.0.3 is not a trusted proxy of"
                        + " this server (proxy-protocol.trusted); closing.");
                assertThat(readAllOrReset(p.in)).as("nothing more: the header's pieces are not commands").isEmpty();
            }
        }
        awaitLogLine("reason=proxy-header-untrusted");
        awaitNoSessions();
        List<ILoggingEvent> warnings;
        synchronized (log) {
            warnings = log.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
        }
        assertThat(warnings).as("one WARN for three connections from one address").hasSize(1);
        assertThat(warnings.get(0).getFormattedMessage())
                .contains("event=proxy-header-untrusted client=127.0.0.3:", "version=" + version.name().toLowerCase(),
                        "setting=proxy-protocol.trusted flag=--proxy-protocol-from", "suppressed=0");
        assertThat(logLines("192.0.2.1")).as("the header is not believed").isEmpty();
    }

    @Test
    void withoutTrustedNetworksAHeaderIsRefusedToo() throws Exception {
        start(s -> s.withTrustedProxies(List.of()));

        try (Peer p = connect(BALANCER)) {
            p.send(Version.V2.local());
            assertThat(p.line()).startsWith("220 ");
            assertThat(p.line()).startsWith("421 PROXY protocol header refused: 127.0.0.1 is not a trusted proxy");
        }
        awaitLogLine("event=proxy-header-untrusted client=127.0.0.1:");
    }

    @Test
    void withoutTrustedNetworksNoPeerIsAskedForAHeader() throws Exception {
        start(s -> s.withTrustedProxies(List.of()));

        try (Peer p = connect(BALANCER)) {
            assertThat(p.line()).startsWith("220 ");
            assertThat(p.command("NOOP")).startsWith("200 ");
        }
    }

    // ---- data connections come from the balancer ----------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"PASV", "EPSV"})
    void aProxiedSessionsDataConnectionComesFromTheBalancerAndNoOneElse(String mode) throws Exception {
        start();
        byte[] content = new byte[200_000];
        new Random(5).nextBytes(content);
        Files.write(root.resolve("data.bin"), content);
        // The header names 127.0.0.9, so that the client itself can try to connect directly.
        InetAddress client = address("127.0.0.9");

        try (Peer p = proxied(Version.V2.header("127.0.0.9", 50001))) {
            assertThat(p.line()).startsWith("220 ");
            p.login();
            assertThat(p.command("TYPE I")).startsWith("200 ");
            int port = p.passivePort(mode);

            // SECURITY: neither another address nor the real client connecting around the balancer gets the
            // data; they connect first, so the server meets them before the balancer's connection.
            List<Socket> thieves = List.of(dataConnection(address("127.0.0.7"), port), dataConnection(client, port));
            try (Socket data = dataConnection(BALANCER, port)) {
                data.setSoTimeout((int) READ_TIMEOUT.toMillis());
                assertThat(p.command("RETR data.bin")).startsWith("150 ");
                assertThat(data.getInputStream().readAllBytes()).isEqualTo(content);
                assertThat(p.line()).startsWith("226 ");
            }
            for (Socket thief : thieves) {
                try (thief) {
                    thief.setSoTimeout((int) READ_TIMEOUT.toMillis());
                    assertThat(readAllOrReset(thief.getInputStream())).as("bytes %s got", thief).isEmpty();
                }
            }
        }
        assertThat(logLines("event=data-refused")).hasSize(2);
    }

    @Test
    void aProxiedSessionsPortMustNameTheBalancer() throws Exception {
        start();
        byte[] content = "active through the balancer\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(root.resolve("a.txt"), content);

        try (Peer p = proxied(Version.V1.header("127.0.0.9", 50001));
             ServerSocket listener = new ServerSocket(0, 1, BALANCER)) {
            assertThat(p.line()).startsWith("220 ");
            p.login();
            int port = listener.getLocalPort();
            // SECURITY: the client's own address is not where the balancer relays from (FTP bounce, RFC 2577 §3).
            assertThat(p.command("PORT 127,0,0,9," + port / 256 + "," + port % 256))
                    .isEqualTo("501 PORT refused: data connections go only to your own address.");
            assertThat(p.command("EPRT |1|127.0.0.9|" + port + "|"))
                    .isEqualTo("501 EPRT refused: data connections go only to your own address.");

            assertThat(p.command("EPRT |1|127.0.0.1|" + port + "|")).isEqualTo("200 EPRT command successful.");
            listener.setSoTimeout((int) READ_TIMEOUT.toMillis());
            p.send("RETR a.txt");
            try (Socket data = listener.accept()) {
                assertThat(data.getInputStream().readAllBytes()).isEqualTo(content);
            }
            assertThat(p.line()).startsWith("150 ");
            assertThat(p.line()).startsWith("226 ");
        }
    }

    /**
     * A balancer killed mid-upload ends the control and the data connection at once: the proxied session asks
     * the balancer's socket, not the client the header named, and commits nothing.
     */
    @Test
    void aProxiedUploadWhoseControlConnectionEndsWithItsDataIsNotCommitted() throws Exception {
        start();
        Files.writeString(root.resolve("doc.txt"), "old");

        try (Peer p = proxied(Version.V2.header("192.0.2.7", 50001))) {
            assertThat(p.line()).startsWith("220 ");
            p.login();
            int port = p.passivePort("EPSV");
            try (Socket data = dataConnection(BALANCER, port)) {
                assertThat(p.command("STOR doc.txt")).startsWith("150 ");
                data.getOutputStream().write(new byte[100_000]);
                data.getOutputStream().flush();
                p.close();
            }
        }
        awaitLogLine("event=transfer");

        assertThat(logLines("event=transfer")).singleElement().asString().endsWith("result=control-closed");
        assertThat(root.resolve("doc.txt")).hasContent("old");
    }

    /**
     * Active mode on a multi-homed server behind a balancer: the data connection leaves from the control
     * socket's own local address (127.0.4.2 here, where the balancer connected), not from the destination the
     * PROXY header names (the balancer's own listener, 127.0.0.1:2121) and not from the routing table's choice.
     */
    @Test
    void aProxiedSessionsActiveDataConnectionLeavesFromTheSocketsOwnAddress() throws Exception {
        InetAddress multiHomed = address("127.0.4.2");
        start(s -> s.withListen(new InetSocketAddress(multiHomed, 0)));
        Files.writeString(root.resolve("a.txt"), "hello\n");

        try (Peer p = Peer.connect(BALANCER, multiHomed, server.port());
             ServerSocket listener = new ServerSocket(0, 1, BALANCER)) {
            p.send(Version.V2.header("192.0.2.7", 50001));
            assertThat(p.line()).startsWith("220 ");
            p.login();
            assertThat(p.command("EPRT |1|127.0.0.1|" + listener.getLocalPort() + "|")).isEqualTo("200 EPRT command successful.");
            listener.setSoTimeout((int) READ_TIMEOUT.toMillis());
            p.send("RETR a.txt");
            try (Socket data = listener.accept()) {
                assertThat(data.getInetAddress()).isEqualTo(multiHomed);
                assertThat(data.getInputStream().readAllBytes()).isEqualTo("hello\n".getBytes(StandardCharsets.US_ASCII));
            }
            assertThat(p.line()).startsWith("150 ");
            assertThat(p.line()).startsWith("226 ");
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private void awaitLogLine(String containing) throws InterruptedException {
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (logLines(containing).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(logLines(containing)).as("a log line containing '%s' in %s", containing, logLines("")).isNotEmpty();
    }

    private static Socket dataConnection(InetAddress from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress(BALANCER, port), (int) READ_TIMEOUT.toMillis());
        return s;
    }

    /** What arrives before the peer closes; a reset counts as closed; a connection held open fails the test. */
    private static byte[] readAllOrReset(InputStream in) throws IOException {
        try {
            return in.readAllBytes();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection was left open", e);
        } catch (IOException reset) {
            return new byte[0];
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A control connection from a chosen loopback address, read line by line with a bounded wait. */
    private static final class Peer implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        private Peer(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        static Peer connect(InetAddress from, int port) throws IOException {
            return connect(from, BALANCER, port);
        }

        static Peer connect(InetAddress from, InetAddress server, int port) throws IOException {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress(server, port), (int) READ_TIMEOUT.toMillis());
            s.setSoTimeout((int) READ_TIMEOUT.toMillis());
            return new Peer(s);
        }

        int localPort() {
            return socket.getLocalPort();
        }

        void send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        void send(String line) throws IOException {
            send((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        }

        /** The client has nothing more to say (a truncated header stays truncated). */
        void finishSending() throws IOException {
            socket.shutdownOutput();
        }

        String line() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new AssertionError("connection closed; line so far: " + line.toString(StandardCharsets.UTF_8));
                }
                if (b == '\n') {
                    String text = line.toString(StandardCharsets.UTF_8);
                    assertThat(text).as("line ends in CRLF").endsWith("\r");
                    return text.substring(0, text.length() - 1);
                }
                line.write(b);
            }
        }

        String command(String line) throws IOException {
            send(line);
            return line();
        }

        void login() throws IOException {
            assertThat(command("USER alice")).startsWith("331 ");
            assertThat(command("PASS " + PASSWORD)).startsWith("230 ");
        }

        int passivePort(String mode) throws IOException {
            String reply = command(mode);
            if (mode.equals("PASV")) {
                assertThat(reply).startsWith("227 ");
                return HostPort.parse227(reply.substring(4)).port();
            }
            assertThat(reply).startsWith("229 ");
            return HostPort.parse229(reply);
        }

        /** Everything until the server closes; a timeout (the server kept the connection) fails the test. */
        byte[] readUntilClosed() throws IOException {
            return readAllOrReset(in);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
