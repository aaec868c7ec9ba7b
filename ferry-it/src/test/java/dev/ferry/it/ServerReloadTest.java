package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.tls.TlsIdentity;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link FtpServer#reload}: what SIGHUP applies to a running server. New TLS handshakes get the new
 * certificate while sessions already in TLS keep theirs, data connections included; accounts change for new
 * logins; a certificate that does not load changes nothing; settings that need a restart are named.
 */
class ServerReloadTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private Path cert;
    private Path key;
    private ServerSettings settings;
    private FtpServer server;

    @BeforeEach
    void startWithFirstCertificate() throws IOException {
        Path dir = Files.createTempDirectory("ferry-reload");
        cert = dir.resolve("cert.pem");
        key = dir.resolve("key.pem");
        install(TestIdentities.of(TestCertificates.fresh("EC")));
        settings = ferry.settings().withListen(new InetSocketAddress("127.0.0.1", 0))
                .withTls(ferry.settings().tls().withCertificate(cert, key));
        server = FtpServer.start(settings);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void newHandshakesGetTheNewCertificateAndSessionsInTlsKeepTheirs() throws Exception {
        Certificate first = server.tls().identity().certificate();
        try (RawFtp before = RawFtp.greeted(server.port())) {
            before.command("AUTH TLS", 234);
            assertThat(before.startTls().getPeerCertificates()[0]).isEqualTo(first);
            before.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);

            TlsIdentity second = TestIdentities.of(TestCertificates.fresh("EC"));
            install(second);
            assertThat(server.reload(settings)).isEmpty();

            try (RawFtp after = RawFtp.greeted(server.port())) {
                after.command("AUTH TLS", 234);
                assertThat(after.startTls().getPeerCertificates()[0]).isEqualTo(second.certificate());
            }
            // The session that started before the reload: its protected data connection still shows its certificate.
            assertThat(protectedListingCertificate(before)).isEqualTo(first);
        }
    }

    @Test
    void aCertificateThatDoesNotLoadChangesNothing() throws Exception {
        Certificate first = server.tls().identity().certificate();
        Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");

        assertThatThrownBy(() -> server.reload(settings)).hasMessageContaining(cert.toString());
        try (RawFtp ftp = RawFtp.greeted(server.port())) {
            ftp.command("AUTH TLS", 234);
            assertThat(ftp.startTls().getPeerCertificates()[0]).isEqualTo(first);
        }
    }

    @Test
    void accountsChangeForNewLoginsOnly() throws Exception {
        try (RawFtp alice = RawFtp.loggedIn(server.port(), FerryServerExtension.USER, FerryServerExtension.PASSWORD)) {
            ServerSettings onlyBob = settings.withUsers(List.of(new ServerSettings.UserAccount("bob",
                    FerryServerExtension.hash("bob-secret"), null, true, true)), null);
            server.reload(onlyBob);

            assertThat(alice.command("PWD").code()).as("logged in before the reload").isEqualTo(257);
            try (RawFtp again = RawFtp.greeted(server.port())) {
                again.command("USER " + FerryServerExtension.USER, 331);
                assertThat(again.command("PASS " + FerryServerExtension.PASSWORD).code()).isEqualTo(530);
            }
            try (RawFtp bob = RawFtp.loggedIn(server.port(), "bob", "bob-secret")) {
                assertThat(bob.command("PWD").code()).isEqualTo(257);
            }
        }
    }

    @Test
    void settingsThatNeedARestartAreNamedAndKeepTheirRunningValues() throws Exception {
        ServerSettings next = settings.withServerName("Another name")
                .withTls(settings.tls().withPolicy(TlsPolicy.REQUIRED));

        assertThat(server.reload(next)).containsExactly("server-name", "tls.require");
        try (RawFtp ftp = RawFtp.greeted(server.port())) {
            assertThat(ftp.command("USER " + FerryServerExtension.USER).code()).as("policy still optional").isEqualTo(331);
        }
    }

    /** PROT P, PASV, NLST: the certificate the data connection's TLS handshake presents. */
    private static Certificate protectedListingCertificate(RawFtp ftp) throws IOException {
        ftp.command("PBSZ 0", 200);
        ftp.command("PROT P", 200);
        InetSocketAddress data = ftp.pasv();
        try (Socket raw = new Socket(data.getAddress(), data.getPort())) {
            raw.setSoTimeout((int) Duration.ofSeconds(10).toMillis());
            ftp.send("NLST");
            ftp.expect(150);
            try (SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory()
                    .createSocket(raw, "127.0.0.1", data.getPort(), true)) {
                tls.setUseClientMode(true);
                tls.startHandshake();
                Certificate presented = tls.getSession().getPeerCertificates()[0];
                try (InputStream in = tls.getInputStream()) {
                    in.readAllBytes();
                }
                ftp.expect(226);
                return presented;
            }
        }
    }

    private void install(TlsIdentity identity) throws IOException {
        TestCertificates.writeCertificate(cert, identity.certificate());
        TestCertificates.writePkcs8(key, identity.key());
    }
}
