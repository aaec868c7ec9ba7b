package dev.ferry.balancer.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings.CheckType;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.tls.BackendTlsClient;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The login check against a backend that requires FTPS and TLS session reuse on data connections: the check
 * must speak FTPS (AUTH TLS, PBSZ 0, PROT P, the listing over TLS resuming the control session), or it would
 * mark every such backend down.
 */
class FtpsLoginCheckTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    static Path dir;
    private static FtpServer server;

    @BeforeAll
    static void startServer() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("listed.txt"), "x");
        ServerSettings settings = ServerSettings.defaults(root)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withUsers(List.of(new ServerSettings.UserAccount("check",
                        PasswordHasher.hash("pw".toCharArray(), 8, 1, 1), null, false, true)), null);
        server = FtpServer.start(settings.withTls(settings.tls().withSelfSignedDirectory(dir)
                .withPolicy(TlsPolicy.REQUIRED).withReuse(SessionReuse.REQUIRED)));
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private static CheckResult loginCheck(BackendTlsClient tls) {
        BalancerSettings.Check check = new BalancerSettings.Check(CheckType.FTP_LOGIN, Duration.ofSeconds(10), TIMEOUT, 2, 2,
                "check", "pw");
        return HealthChecker.runOnce(Probe.of(check, BalancerSettings.ProxyProtocol.OFF, tls), server.address(), TIMEOUT, "pw");
    }

    @Test
    void overFtpsTheLoginCheckPassesAndResumesOnItsDataConnection() throws IOException {
        CheckResult result = loginCheck(BackendTlsClient.create(null));

        assertThat(result.ok()).as(result.detail()).isTrue();
        assertThat(result.detail()).startsWith("230 login, LIST ").contains(" bytes, 226");
    }

    @Test
    void inClearTextTheSameBackendRefusesTheLogin() {
        CheckResult result = loginCheck(null);

        assertThat(result.ok()).isFalse();
        assertThat(result.detail()).isEqualTo("login 530 TLS required: send AUTH TLS before logging in.");
    }

    @Test
    void theBackendsCertificateIsVerifiedWhenTrustedCertificatesAreGiven() throws IOException {
        CheckResult trusted = loginCheck(BackendTlsClient.create(dir.resolve("ferry-selfsigned-cert.pem")));
        Path stranger = dir.resolve("stranger");
        Files.createDirectories(stranger);
        dev.ferry.runtime.tls.TlsIdentity.load(new dev.ferry.runtime.tls.IdentityFiles(null, null, null, stranger), new InetSocketAddress("127.0.0.1", 1), java.time.Clock.systemUTC());
        CheckResult untrusted = loginCheck(BackendTlsClient.create(stranger.resolve("ferry-selfsigned-cert.pem")));

        assertThat(trusted.ok()).as(trusted.detail()).isTrue();
        assertThat(untrusted.ok()).isFalse();
    }
}
