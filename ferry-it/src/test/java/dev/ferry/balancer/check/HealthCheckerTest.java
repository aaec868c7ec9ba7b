package dev.ferry.balancer.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings.CheckType;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.FakeBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
import org.junit.jupiter.params.provider.EnumSource;

/** Checks against a real in-process Ferry server and against fake backends that fail in chosen ways. */
@Timeout(30)
class HealthCheckerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    static Path root;
    private static FtpServer server;

    @BeforeAll
    static void startServer() throws IOException {
        Files.writeString(root.resolve("hello.txt"), "hello\n");
        ServerSettings settings = ServerSettings.defaults(root)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withUsers(List.of(new ServerSettings.UserAccount("check",
                        PasswordHasher.hash("pw".toCharArray()), null, false, true)), null);
        server = FtpServer.start(settings);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private static BalancerSettings.Check check(CheckType type, String password) {
        return new BalancerSettings.Check(type, Duration.ofSeconds(10), TIMEOUT, 2, 2, "check", password);
    }

    private static CheckResult runOnce(CheckType type, InetSocketAddress target, String password) {
        return HealthChecker.runOnce(Probe.of(check(type, password), BalancerSettings.ProxyProtocol.OFF, null), target, TIMEOUT, password);
    }

    @ParameterizedTest
    @EnumSource(CheckType.class)
    void everyCheckPassesAgainstAFerryServer(CheckType type) {
        CheckResult r = runOnce(type, server.address(), "pw");
        assertThat(r.ok()).as(r.detail()).isTrue();
        assertThat(r.latency()).isPositive().isLessThan(TIMEOUT);
    }

    @Test
    void ftpDetailIsTheGreetingAndLoginDetailCountsTheListing() {
        assertThat(runOnce(CheckType.FTP, server.address(), null).detail()).startsWith("220 ");
        assertThat(runOnce(CheckType.FTP_LOGIN, server.address(), "pw").detail())
                .startsWith("230 login, LIST ").doesNotContain("LIST 0 bytes").contains("226");
    }

    @ParameterizedTest
    @EnumSource(CheckType.class)
    void everyCheckFailsAgainstAClosedPort(CheckType type) throws IOException {
        InetSocketAddress closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
        CheckResult r = runOnce(type, closed, "pw");
        assertThat(r.ok()).isFalse();
        assertThat(r.detail()).isEqualTo("connect refused");
    }

    @Test
    void aListenerThatNeverGreetsTimesOutTheFtpCheck() throws IOException {
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.NEVER_GREETS)) {
            CheckResult r = HealthChecker.runOnce(new FtpProbe(CheckHeader.NONE), fake.address(), Duration.ofMillis(300), null);
            assertThat(r.ok()).isFalse();
            assertThat(r.detail()).isEqualTo("timeout awaiting greeting");
            assertThat(r.latency()).isGreaterThanOrEqualTo(Duration.ofMillis(250));
            // A TCP check only proves the port accepts.
            assertThat(HealthChecker.runOnce(new TcpProbe(CheckHeader.NONE), fake.address(), TIMEOUT, null).ok()).isTrue();
        }
    }

    @Test
    void aBackendThatGreetsAndThenNeverAnswersFailsTheFtpCheck() throws IOException {
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.GREETS_THEN_SILENT)) {
            CheckResult r = HealthChecker.runOnce(new FtpProbe(CheckHeader.NONE), fake.address(), Duration.ofMillis(300), null);
            assertThat(r.ok()).isFalse();
            assertThat(r.detail()).isEqualTo("timeout awaiting reply to FEAT");
            assertThat(r.latency()).isGreaterThanOrEqualTo(Duration.ofMillis(250)).isLessThan(TIMEOUT);
            assertThat(HealthChecker.runOnce(new TcpProbe(CheckHeader.NONE), fake.address(), TIMEOUT, null).ok()).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(CheckType.class)
    void everyCheckLearnsTheBackendsFeatures(CheckType type) {
        Backend backend = new Backend(new BalancerSettings.BackendSpec("s1", server.address(), 1), 2, 2);
        try (HealthChecker checker = new HealthChecker(List.of(backend), check(type, "pw"), BalancerSettings.ProxyProtocol.OFF)) {
            checker.checkNow();
        }
        // As the Ferry server lists them (what clients are told is Features' business).
        assertThat(backend.features()).contains("AUTH TLS", "MFMT", "HASH SHA-256*;SHA-1;MD5", "SIZE");
    }

    @Test
    void theFeaturesOfAMultiLineFeatAreRead() throws IOException {
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.MULTILINE_GREETING)) {
            Backend backend = new Backend(new BalancerSettings.BackendSpec("fake", fake.address(), 1), 2, 2);
            try (HealthChecker checker = new HealthChecker(List.of(backend), check(CheckType.FTP, null), BalancerSettings.ProxyProtocol.OFF)) {
                checker.checkNow();
            }
            assertThat(backend.lastCheck().ok()).as(backend.lastCheck().detail()).isTrue();
            assertThat(backend.features()).containsExactly("MDTM", "SIZE");
        }
    }

    @Test
    void theTcpCheckAsksFeaturesWhenUnknownAndWhenTheBackendIsDownNotOtherwise() {
        Backend backend = new Backend(new BalancerSettings.BackendSpec("s1", server.address(), 1), 2, 2);
        try (HealthChecker checker = new HealthChecker(List.of(backend), check(CheckType.TCP, null), BalancerSettings.ProxyProtocol.OFF)) {
            checker.checkNow();
            assertThat(backend.features()).as("first seen").contains("MFMT");

            backend.learnFeatures(List.of("STALE"));
            checker.checkNow();
            assertThat(backend.features()).as("up and known: not asked again").containsExactly("STALE");

            for (int i = 0; i < 2; i++) {
                backend.recordCheck(new CheckResult(false, "connect refused", Duration.ZERO, java.time.Instant.now()));
            }
            assertThat(backend.checkState()).isEqualTo(CheckState.DOWN);
            checker.checkNow();
            assertThat(backend.features()).as("down, maybe coming back upgraded: asked again").contains("MFMT");
        }
    }

    @Test
    void theTcpCheckPassesWhenTheFeatureProbeGetsNoAnswer() throws IOException {
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.GREETS_THEN_SILENT)) {
            Backend backend = new Backend(new BalancerSettings.BackendSpec("fake", fake.address(), 1), 1, 1);
            BalancerSettings.Check tcp = new BalancerSettings.Check(CheckType.TCP, Duration.ofSeconds(10), Duration.ofMillis(300), 1, 1, null, null);
            try (HealthChecker checker = new HealthChecker(List.of(backend), tcp, BalancerSettings.ProxyProtocol.OFF)) {
                checker.checkNow();
            }
            // The tcp check says what it says: the port accepts. The features stay unknown.
            assertThat(backend.lastCheck().ok()).isTrue();
            assertThat(backend.checkState()).isEqualTo(CheckState.UP);
            assertThat(backend.features()).isNull();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ANSWERS_421     | greeting 421 Too many connections, try later.",
            "GREETS_THEN_421 | FEAT 421 Service shutting down."})
    void a421FailsTheFtpCheck(FakeBackend.Fault fault, String detail) throws IOException {
        try (FakeBackend fake = new FakeBackend(fault)) {
            CheckResult r = runOnce(CheckType.FTP, fake.address(), null);
            assertThat(r.ok()).isFalse();
            assertThat(r.detail()).isEqualTo(detail);
        }
    }

    @Test
    void aMultiLineGreetingIsReadToItsEnd() throws IOException {
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.MULTILINE_GREETING)) {
            CheckResult r = runOnce(CheckType.FTP, fake.address(), null);
            assertThat(r.ok()).as(r.detail()).isTrue();
            assertThat(r.detail()).isEqualTo("220 Welcome");
        }
    }

    @Test
    void aWrongPasswordFailsTheLoginCheckWithoutShowingIt() {
        String wrong = "not-the-password-42";
        CheckResult r = runOnce(CheckType.FTP_LOGIN, server.address(), wrong);
        assertThat(r.ok()).isFalse();
        assertThat(r.detail()).startsWith("login 530").doesNotContain(wrong);
    }

    @Test
    void aPasswordEchoedByTheBackendIsRedacted() throws IOException {
        String secret = "s3cret-check-pass";
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.ECHOES_PASSWORD)) {
            CheckResult r = runOnce(CheckType.FTP_LOGIN, fake.address(), secret);
            assertThat(r.ok()).isFalse();
            assertThat(r.detail()).isEqualTo("login 530 Wrong password: ***");
        }
    }

    @Test
    void checkNowFeedsEveryBackend() throws IOException {
        InetSocketAddress closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
        Backend good = new Backend(new BalancerSettings.BackendSpec("good", server.address(), 1), 2, 2);
        Backend bad = new Backend(new BalancerSettings.BackendSpec("bad", closed, 1), 2, 2);
        try (HealthChecker checker = new HealthChecker(List.of(good, bad), check(CheckType.FTP, null), BalancerSettings.ProxyProtocol.OFF)) {
            checker.checkNow();
            assertThat(good.lastCheck().ok()).isTrue();
            assertThat(bad.lastCheck().ok()).isFalse();
            assertThat(bad.checkState()).isEqualTo(CheckState.UP);   // fall 2: one failure is not enough
            checker.checkNow();
            assertThat(bad.checkState()).isEqualTo(CheckState.DOWN);
            assertThat(good.checkState()).isEqualTo(CheckState.UP);
        }
    }

    @Test
    void startRunsChecksOnTheSchedule() throws Exception {
        Backend good = new Backend(new BalancerSettings.BackendSpec("good", server.address(), 1), 2, 2);
        BalancerSettings.Check fast = new BalancerSettings.Check(CheckType.TCP, Duration.ofMillis(20), TIMEOUT, 2, 2, null, null);
        try (HealthChecker checker = new HealthChecker(List.of(good), fast, BalancerSettings.ProxyProtocol.OFF)) {
            checker.start();
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (good.lastCheck() == null && System.nanoTime() < until) {
                Thread.sleep(10);
            }
        }
        assertThat(good.lastCheck()).isNotNull();
        assertThat(good.lastCheck().ok()).isTrue();
    }
}
