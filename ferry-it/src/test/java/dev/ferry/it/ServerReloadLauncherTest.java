package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.runtime.tls.TlsIdentity;
import dev.ferry.testkit.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./ferry server} as an operator runs it: the certificate is renewed and a user added in place, then
 * SIGHUP (systemd's ExecReload) applies both without a restart; a broken certificate is refused with one log
 * line and the running one stays.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class ServerReloadLauncherTest {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);

    private Path work;
    private Process process;

    @AfterEach
    void stop() throws Exception {
        if (process != null) {
            Launcher.stop(process);
        }
        TestData.deleteTree(work);
    }

    @Test
    void sighupRenewsTheCertificateAndTheAccounts() throws Exception {
        work = Files.createTempDirectory("ferry-it-server-reload-");
        Path root = Files.createDirectories(work.resolve("root"));
        Path cert = work.resolve("cert.pem");
        Path key = work.resolve("key.pem");
        Path users = work.resolve("users.yaml");
        TlsIdentity first = TestIdentities.of(TestCertificates.fresh("EC"));
        install(first, cert, key);
        Files.writeString(users, usersFile("alice"));
        int port = TestData.freePort();
        Launcher.Started started = Launcher.start(work, work.resolve("stderr.txt"), START_TIMEOUT, "server",
                "--listen", "127.0.0.1:" + port, "--root", root.toString(), "--users-file", users.toString(),
                "--tls-cert", cert.toString(), "--tls-key", key.toString());
        process = started.process();
        assertThat(String.join("\n", started.stdout())).contains(first.fingerprint());
        assertThat(certificateAt(port)).isEqualTo(first.certificate());

        TlsIdentity second = TestIdentities.of(TestCertificates.fresh("EC"));
        install(second, cert, key);
        Files.writeString(users, usersFile("alice", "bob"));
        hangUp();
        TestData.within(Duration.ofSeconds(20), "the reload is logged", () -> log().stream()
                .anyMatch(l -> l.contains("event=reloaded users=2 certificate=" + second.fingerprint())));
        assertThat(certificateAt(port)).isEqualTo(second.certificate());
        try (RawFtp bob = RawFtp.loggedIn(port, "bob", "bob-secret")) {
            bob.command("PWD", 257);
        }

        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        hangUp();
        TestData.within(Duration.ofSeconds(20), "the refused reload is logged", () -> log().stream()
                .anyMatch(l -> l.contains("event=reload-failed") && l.contains(key.toString())));
        assertThat(certificateAt(port)).isEqualTo(second.certificate());
    }

    private static String usersFile(String... names) {
        StringBuilder b = new StringBuilder("users:\n");
        for (String name : names) {
            b.append("  - name: ").append(name).append("\n    password: \"")
                    .append(PasswordHasher.hash((name + "-secret").toCharArray())).append("\"\n");
        }
        return b.toString();
    }

    private static Certificate certificateAt(int port) throws IOException {
        try (RawFtp ftp = RawFtp.greeted(port)) {
            ftp.command("AUTH TLS", 234);
            return ftp.startTls().getPeerCertificates()[0];
        }
    }

    private static void install(TlsIdentity identity, Path cert, Path key) throws IOException {
        TestCertificates.writeCertificate(cert, identity.certificate());
        TestCertificates.writePkcs8(key, identity.key());
    }

    private List<String> log() throws IOException {
        return Files.readAllLines(work.resolve("stderr.txt"));
    }

    private void hangUp() throws Exception {
        Launcher.hangUp(process);
    }
}
