package dev.ferry.balancer.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings.CheckType;
import dev.ferry.balancer.BalancerSettings.ProxyProtocol;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.FakeBackend;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Checks when the balancer sends the PROXY protocol to backends (HAProxy's check-send-proxy): each
 * check connection starts with a header saying it is the balancer's own, so that a backend that
 * requires the header still answers checks and keeps the balancer's real address for them.
 */
@Timeout(30)
class ProxyProtocolCheckTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    static Path root;
    /** A Ferry server that requires a PROXY header from 127.0.0.1. */
    private static FtpServer server;

    @BeforeAll
    static void startServer() throws IOException {
        Files.writeString(root.resolve("hello.txt"), "hello\n");
        server = FtpServer.start(ServerSettings.defaults(root)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withUsers(List.of(new ServerSettings.UserAccount("check",
                        PasswordHasher.hash("pw".toCharArray(), 8, 1, 1), null, false, true)), null)
                .withTrustedProxies(List.of("127.0.0.1/32")));
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private static CheckResult runOnce(CheckType type, ProxyProtocol version, InetSocketAddress target, Duration timeout) {
        BalancerSettings.Check check = new BalancerSettings.Check(type, Duration.ofSeconds(10), timeout, 2, 2, "check", "pw");
        return HealthChecker.runOnce(Probe.of(check, version, null), target, timeout, "pw");
    }

    @ParameterizedTest
    @CsvSource({"TCP, V1", "TCP, V2", "FTP, V1", "FTP, V2", "FTP_LOGIN, V1", "FTP_LOGIN, V2"})
    void everyCheckPassesAgainstAServerThatRequiresTheHeader(CheckType type, ProxyProtocol version) {
        CheckResult r = runOnce(type, version, server.address(), TIMEOUT);

        assertThat(r.ok()).as(r.detail()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"TCP, V1", "TCP, V2", "TCP, OFF", "FTP, V2", "FTP_LOGIN, V1"})
    void theChecksLearnTheFeaturesOfAServerThatRequiresTheHeader(CheckType type, ProxyProtocol version) {
        // The tcp check's feature probe sends the header as the check does: without it this server never greets.
        Backend backend = new Backend(new BalancerSettings.BackendSpec("s1", server.address(), 1), 2, 2);
        BalancerSettings.Check check = new BalancerSettings.Check(type, Duration.ofSeconds(10), Duration.ofMillis(1500), 2, 2, "check", "pw");
        try (HealthChecker checker = new HealthChecker(List.of(backend), check, version)) {
            checker.checkNow();
        }

        assertThat(backend.lastCheck().ok()).as(backend.lastCheck().detail()).isTrue();
        if (version == ProxyProtocol.OFF) {
            assertThat(backend.features()).as("no feature probe answered without the header").isNull();
        } else {
            assertThat(backend.features()).contains("MFMT", "SIZE");
        }
    }

    @Test
    void withoutTheHeaderTheServerNeverGreetsTheCheck() {
        CheckResult r = runOnce(CheckType.FTP, ProxyProtocol.OFF, server.address(), Duration.ofMillis(300));

        assertThat(r.ok()).isFalse();
        assertThat(r.detail()).isEqualTo("timeout awaiting greeting");
    }

    @ParameterizedTest
    @CsvSource({"TCP, OFF", "TCP, V1", "TCP, V2", "FTP, OFF", "FTP, V1", "FTP, V2"})
    void theHeaderIsTheFirstThingACheckSends(CheckType type, ProxyProtocol version) throws Exception {
        try (FakeBackend backend = new FakeBackend(FakeBackend.Fault.NONE)) {
            CheckResult r = runOnce(type, version, backend.address(), TIMEOUT);
            assertThat(r.ok()).as(r.detail()).isTrue();

            FakeBackend.Session got = backend.awaitSessions(1).get(0);
            String after = type == CheckType.FTP ? "FEAT\r\nQUIT\r\n" : "";
            String expected = switch (version) {
                case OFF -> after;
                // Spec §2.1: a v1 check names its own endpoints rather than UNKNOWN, which some receivers reject.
                case V1 -> "PROXY TCP4 127.0.0.1 127.0.0.1 " + got.peer().getPort() + " " + got.local().getPort() + "\r\n" + after;
                // Spec §2.2: LOCAL, the proxy's own connection.
                case V2 -> new String(dev.ferry.protocol.proxy.ProxyProtocol.encodeV2(ProxyHeader.local()),
                        StandardCharsets.ISO_8859_1) + after;
            };
            assertThat(new String(got.sent(), StandardCharsets.ISO_8859_1)).isEqualTo(expected);
            assertThat(got.proxyHeader() != null).as("read as a PROXY header by the backend").isEqualTo(version != ProxyProtocol.OFF);
        }
    }
}
