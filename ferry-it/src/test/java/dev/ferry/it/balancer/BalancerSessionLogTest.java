package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.testkit.FakeBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What the balancer's log says of a session, read by an operator and by fail2ban on the balancer's host (the one
 * facing the internet): a refused login names the client's address and the user as the server's own line does,
 * never the password; and the session's id reaches the backend in the PROXY v2 header (spec §2.2.5), so the
 * server's lines of the session lead back to the balancer's.
 */
class BalancerSessionLogTest {

    private static final InetAddress CLIENT = address("127.0.0.9");
    private static final InetAddress BALANCER = address("127.0.0.5");
    private static final String PASSWORD = "hunter2-not-logged";

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private Logger balancerLogger;
    private Level levelBefore;

    @BeforeEach
    void capture() {
        balancerLogger = (Logger) LoggerFactory.getLogger("ferry.balancer");
        levelBefore = balancerLogger.getLevel();
        balancerLogger.setLevel(Level.INFO);
        log.start();
        balancerLogger.addAppender(log);
    }

    @AfterEach
    void release() {
        balancerLogger.detachAppender(log);
        balancerLogger.setLevel(levelBefore);
    }

    @Test
    void aLoginTheBackendRefusesIsLoggedWithTheClientsAddressAndUserAndNeverThePassword() throws Exception {
        try (FakeBackend backend = new FakeBackend(address("127.0.0.3"), FakeBackend.Fault.ECHOES_PASSWORD);
             FtpBalancer lb = balancerFor(backend);
             RawFtp ftp = RawFtp.connect(CLIENT, BALANCER, lb.port())) {
            ftp.expect(220);
            ftp.command("USER mallory", 331);
            ftp.command("PASS " + PASSWORD, 530);
            ftp.command("QUIT", 221);
        }
        Pattern failed = Pattern.compile(
                "node=lb session=(b\\w+) event=login-failed client=127\\.0\\.0\\.9:\\d+ user=mallory backend=fault reason=530");
        String line = awaitLine(failed);
        String session = match(failed, line).group(1);
        assertThat(lines()).as("the password, anywhere").noneMatch(l -> l.contains(PASSWORD))
                .as("no success logged").noneMatch(l -> l.contains("event=login "))
                .anyMatch(l -> l.startsWith("node=lb session=" + session + " event=session client=127.0.0.9:")
                        && l.contains(" user=mallory backend=fault "));
    }

    @Test
    void aSessionsBackendConnectionCarriesItsIdInTheProxyHeaderAndChecksCarryNone() throws Exception {
        try (FakeBackend backend = new FakeBackend(address("127.0.0.3"), FakeBackend.Fault.NONE);
             FtpBalancer lb = balancerFor(backend)) {
            try (RawFtp ftp = RawFtp.connect(CLIENT, BALANCER, lb.port())) {
                ftp.expect(220);
                ftp.command("USER alice", 331);
                ftp.command("PASS secret", 230);
                ftp.command("QUIT", 221);
            }
            Pattern login = Pattern.compile("node=lb session=(b\\w+) event=login client=127\\.0\\.0\\.9:\\d+ user=alice backend=fault");
            String session = match(login, awaitLine(login)).group(1);

            // The checks at start (a connect, and the FTP probe that learns the features) and the session, in any order.
            TestData.await("the session's backend connection ended",
                    () -> backend.awaitSessions(1).stream().anyMatch(BalancerSessionLogTest::fromAClient));
            List<FakeBackend.Session> seen = backend.awaitSessions(1);
            Optional<FakeBackend.Session> proxied = seen.stream()
                    .filter(BalancerSessionLogTest::fromAClient).findFirst();
            assertThat(proxied).as("the session's connection, with the client's address").isPresent();
            assertThat(proxied.get().proxyHeader().source().getAddress()).isEqualTo(CLIENT);
            assertThat(proxied.get().proxyHeader().uniqueId()).as("PROXY v2 unique ID: node/session").isEqualTo("lb/" + session);
            assertThat(seen).filteredOn(s -> s.proxyHeader() != null && s.proxyHeader().isLocal())
                    .as("the checks' LOCAL headers").isNotEmpty()
                    .allSatisfy(s -> assertThat(s.proxyHeader().uniqueId()).as("a check is no session").isNull());
            assertThat(lines()).filteredOn(l -> l.contains(" session=" + session + " "))
                    .as("the balancer's lines of that session").isNotEmpty()
                    .allMatch(l -> l.startsWith("node=lb session=" + session + " event=") && l.contains(" client=127.0.0.9:"));
        }
    }

    private static boolean fromAClient(FakeBackend.Session s) {
        return s.proxyHeader() != null && !s.proxyHeader().isLocal();
    }

    /** A balancer on 127.0.0.5 named lb, sending PROXY v2, in front of one backend checked by connecting (once, at start). */
    private static FtpBalancer balancerFor(FakeBackend backend) throws IOException {
        return FtpBalancer.start(BalancerSettings.defaults()
                .withListen(new InetSocketAddress(BALANCER, 0))
                .withBackends(List.of(new BalancerSettings.BackendSpec("fault", backend.address(), 1)))
                .withPassivePorts(0, 0)
                .withProxyProtocol(BalancerSettings.ProxyProtocol.V2)
                .withCheck(new BalancerSettings.Check(BalancerSettings.CheckType.TCP, Duration.ofSeconds(60),
                        Duration.ofSeconds(1), 1, 1, null, null))
                .withNode("lb"));
    }

    private String awaitLine(Pattern pattern) throws Exception {
        TestData.await("a line matching " + pattern, () -> lines().stream().anyMatch(l -> pattern.matcher(l).matches()));
        return lines().stream().filter(l -> pattern.matcher(l).matches()).findFirst().orElseThrow();
    }

    private static Matcher match(Pattern pattern, String line) {
        Matcher m = pattern.matcher(line);
        assertThat(m.matches()).isTrue();
        return m;
    }

    private List<String> lines() {
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    private static InetAddress address(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
