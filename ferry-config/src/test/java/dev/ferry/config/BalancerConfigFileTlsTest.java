package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.balancer.BalancerSettings.TlsMode;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@code balancer.tls} section: every key, its default mode, and each refusal with its FILE:LINE:COL. */
class BalancerConfigFileTlsTest {

    @TempDir
    Path dir;

    private final BalancerSettings base = BalancerSettings.defaults();

    @BeforeEach
    void files() throws IOException {
        Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\n");
        Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n");
        Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("ferry.yaml"), yaml, StandardCharsets.UTF_8);
    }

    @Test
    void readsEveryKeyWithFilesRelativeToTheConfigFile() throws Exception {
        BalancerSettings.Tls tls = BalancerConfigFile.load(write("""
                balancer:
                  tls:
                    certificate: cert.pem
                    key: key.pem
                    password-file: secret.txt
                    self-signed-directory: keep
                    require: login
                    session-reuse: required
                    implicit-listen: 127.0.0.1:990
                    handshake-timeout: 5s
                    backends: ftps
                    backend-ca: ca.pem
                """), base).tls();

        assertThat(tls.mode()).as("a certificate means terminate").isEqualTo(TlsMode.TERMINATE);
        assertThat(tls.certificate()).isEqualTo(dir.resolve("cert.pem"));
        assertThat(tls.key()).isEqualTo(dir.resolve("key.pem"));
        assertThat(tls.passwordFile()).isEqualTo(dir.resolve("secret.txt"));
        assertThat(tls.selfSignedDirectory()).isEqualTo(dir.resolve("keep"));
        assertThat(tls.require()).isEqualTo(TlsPolicy.LOGIN);
        assertThat(tls.reuse()).isEqualTo(SessionReuse.REQUIRED);
        assertThat(tls.implicitListen()).isEqualTo(new InetSocketAddress("127.0.0.1", 990));
        assertThat(tls.handshakeTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(tls.backends()).isEqualTo(new BalancerSettings.BackendTls(true, dir.resolve("ca.pem")));
    }

    @Test
    void withoutACertificateTheModeStaysOffAndPassthroughParses() throws Exception {
        assertThat(BalancerConfigFile.load(write("balancer:\n  tls:\n    session-reuse: off\n"), base).tls().mode())
                .isEqualTo(TlsMode.OFF);
        assertThat(BalancerConfigFile.load(write("balancer:\n  tls:\n    mode: passthrough\n"), base).tls().mode())
                .isEqualTo(TlsMode.PASSTHROUGH);
        assertThat(BalancerConfigFile.load(write("balancer:\n  tls:\n    mode: terminate\n    self-signed-directory: .\n"), base)
                .tls().selfSignedDirectory()).isEqualTo(dir);
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("tls:\n    cert: cert.pem", "3:5",
                        "balancer.tls: unknown key 'cert'; did you mean 'certificate'? Allowed keys in balancer.tls: mode, certificate, key, "
                                + "password-file, self-signed-directory, require, session-reuse, implicit-listen, handshake-timeout, backends, backend-ca"),
                Arguments.of("tls:\n    mode: on", "3:11", "balancer.tls.mode: expected one of off, terminate or passthrough, got 'on'"),
                Arguments.of("tls:\n    certificate: missing.pem", "3:18",
                        "balancer.tls.certificate: cannot read " + "DIR/missing.pem (no such file); expected a PEM certificate chain or a PKCS#12 keystore"),
                Arguments.of("tls:\n    key: key.pem", "3:5", "balancer.tls: missing key 'certificate' (the certificate file that goes with `key`)"),
                Arguments.of("tls:\n    certificate: cert.pem\n    require: always", "4:14",
                        "balancer.tls.require: expected optional, login or required, got 'always'"),
                Arguments.of("tls:\n    certificate: cert.pem\n    backends: tls", "4:15", "balancer.tls.backends: expected plain or ftps, got 'tls'"),
                Arguments.of("tls:\n    certificate: cert.pem\n    backend-ca: ca.pem", "4:17",
                        "balancer.tls.backend-ca: backend-ca checks the certificates of FTPS backends; set `backends: ftps` too"),
                Arguments.of("tls:\n    implicit-listen: 127.0.0.1:990", "3:22",
                        "balancer.tls.implicit-listen: an implicit-FTPS listener needs TLS termination: give a certificate (or mode: terminate)"),
                Arguments.of("tls:\n    require: required", "3:14",
                        "balancer.tls.require: requiring TLS needs TLS termination: give a certificate (or mode: terminate)"),
                Arguments.of("tls:\n    mode: terminate", "3:11",
                        "balancer.tls.mode: mode terminate needs a certificate (and its key), or a self-signed-directory where a self-signed one is kept"),
                Arguments.of("tls:\n    mode: passthrough\n    certificate: cert.pem", "3:11",
                        "balancer.tls.mode: mode passthrough holds no key: the certificate belongs on the backends (remove it, or use mode terminate)"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void reportsTheFirstProblemWithItsPosition(String section, String position, String problem) throws Exception {
        Path file = write("balancer:\n  " + section + "\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> BalancerConfigFile.load(file, base));
        assertThat(e).as("no error for:%n%s", section).isNotNull();
        assertThat(e.line() + ":" + e.column()).isEqualTo(position);
        assertThat(e.problem()).isEqualTo(problem.replace("DIR", dir.toString()));
    }
}
