package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.tls.TlsIdentity;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The FTPS conversation itself (RFC 4217), TLS policies, clients that break TLS, and certificates that
 * stop the server from starting. Talks to the server with {@link RawFtp} and the JDK's TLS client.
 */
class FtpsProtocolTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private RawFtp tlsLoggedIn() throws IOException {
        RawFtp ftp = RawFtp.greeted(ferry.port()).authTls();
        ftp.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
        return ftp;
    }

    @Test
    void featListsAuthTlsPbszAndProt() throws Exception {
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            assertThat(ftp.command("FEAT", 211).lines()).contains(" AUTH TLS", " PBSZ", " PROT");
        }
    }

    @Test
    void pbszAndProtFollowTheRfc() throws Exception {
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            assertThat(ftp.command("PBSZ 0").code()).isEqualTo(503);
            assertThat(ftp.command("PROT P").code()).isEqualTo(503);
            assertThat(ftp.command("CCC").code()).as("RFC 4217 §5: not protected").isEqualTo(533);
            assertThat(ftp.command("AUTH KERBEROS_V4").code()).isEqualTo(504);
            ftp.authTls();
            assertThat(ftp.command("PROT P").text()).isEqualTo("PBSZ must come before PROT (send PBSZ 0).");
            assertThat(ftp.command("PBSZ x").code()).isEqualTo(501);
            assertThat(ftp.command("PBSZ 1024").text()).as("RFC 2228: the server's size").isEqualTo("PBSZ=0");
            assertThat(ftp.command("PROT S").code()).isEqualTo(536);
            assertThat(ftp.command("PROT E").code()).isEqualTo(536);
            assertThat(ftp.command("PROT Q").code()).isEqualTo(504);
            assertThat(ftp.command("PROT C").code()).isEqualTo(200);
            assertThat(ftp.command("PROT P").code()).isEqualTo(200);
            assertThat(ftp.command("AUTH TLS").code()).isEqualTo(503);
            assertThat(ftp.command("CCC").code()).as("RFC 4217 §5: refused").isEqualTo(534);
            ftp.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
            assertThat(ftp.command("PWD").code()).isEqualTo(257);
        }
    }

    @Test
    void authSslAndTlsCAreSynonymsOfTls() throws Exception {
        for (String mechanism : List.of("SSL", "tls-c", "tls")) {
            try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
                ftp.command("AUTH " + mechanism, 234);
                ftp.startTls();
                ftp.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
            }
        }
    }

    @Test
    void authResetsTheLoginAndReinKeepsTls() throws Exception {
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), FerryServerExtension.USER, FerryServerExtension.PASSWORD)) {
            ftp.authTls();
            // RFC 4217 §4: the user logs in again after AUTH.
            assertThat(ftp.command("PWD").code()).isEqualTo(530);
            ftp.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
            ftp.command("PBSZ 0", 200);
            ftp.command("PROT P", 200);
            ftp.command("REIN", 220);
            // Still over TLS (a clear-text reply would not decrypt); PROT is back to C, so PBSZ comes first again.
            assertThat(ftp.command("PROT P").code()).isEqualTo(503);
            ftp.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
            assertThat(ftp.command("PWD").code()).isEqualTo(257);
        }
    }

    @Test
    void commandsPipelinedBehindAuthAreNotTakenIntoTheProtectedSession() throws Exception {
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            ftp.sendRaw(("AUTH TLS\r\nUSER " + FerryServerExtension.USER + "\r\n").getBytes(StandardCharsets.US_ASCII));

            assertThat(ftp.reply().code()).isEqualTo(503);
            assertThat(ftp.reply().code()).as("USER, answered in clear text").isEqualTo(331);
        }
    }

    @Test
    void requiredTlsRefusesClearLoginsAndClearData() throws Exception {
        ferry.restart(s -> s.withTls(s.tls().withPolicy(TlsPolicy.REQUIRED)));
        try (RawFtp clear = RawFtp.greeted(ferry.port())) {
            assertThat(clear.command("USER " + FerryServerExtension.USER).text())
                    .isEqualTo("TLS required: send AUTH TLS before logging in.");
            assertThat(clear.command("PASS " + FerryServerExtension.PASSWORD).code()).isEqualTo(503);
        }
        try (RawFtp ftp = tlsLoggedIn()) {
            ftp.pasv();
            assertThat(ftp.command("LIST").code()).as("RFC 4217 §10.2").isEqualTo(521);
            ftp.command("PBSZ 0", 200);
            assertThat(ftp.command("PROT C").code()).isEqualTo(534);
            ftp.command("PROT P", 200);
        }
    }

    @Test
    void loginPolicyLetsClearDataThrough() throws Exception {
        ferry.restart(s -> s.withTls(s.tls().withPolicy(TlsPolicy.LOGIN)));
        Files.writeString(ferry.root().resolve("hello.txt"), "hello\n");
        try (RawFtp clear = RawFtp.greeted(ferry.port())) {
            assertThat(clear.command("USER " + FerryServerExtension.USER).code()).isEqualTo(530);
        }
        try (RawFtp ftp = tlsLoggedIn()) {
            InetSocketAddress data = ftp.pasv();
            ftp.send("RETR hello.txt");
            try (Socket s = new Socket(data.getAddress(), data.getPort())) {
                ftp.expect(150);
                assertThat(s.getInputStream().readAllBytes()).isEqualTo("hello\n".getBytes(StandardCharsets.US_ASCII));
            }
            ftp.expect(226);
        }
    }

    @Test
    void aUserOwnPolicyOverridesTheServers() throws Exception {
        ferry.restart(s -> s.withUsers(List.of(
                new ServerSettings.UserAccount(FerryServerExtension.USER, FerryServerExtension.hash(FerryServerExtension.PASSWORD),
                        null, true, true, TlsPolicy.REQUIRED),
                new ServerSettings.UserAccount(FerryServerExtension.READER,
                        FerryServerExtension.hash(FerryServerExtension.READER_PASSWORD), null, false, true)), null));
        try (RawFtp clear = RawFtp.greeted(ferry.port())) {
            assertThat(clear.command("USER " + FerryServerExtension.USER).code()).isEqualTo(530);
            clear.login(FerryServerExtension.READER, FerryServerExtension.READER_PASSWORD);
        }
    }

    @Test
    void protectedDataUnderProtP() throws Exception {
        Files.writeString(ferry.root().resolve("hello.txt"), "hello\n");
        try (RawFtp ftp = tlsLoggedIn()) {
            ftp.command("PBSZ 0", 200);
            ftp.command("PROT P", 200);
            InetSocketAddress data = ftp.pasv();
            ftp.send("RETR hello.txt");
            try (Socket raw = new Socket(data.getAddress(), data.getPort())) {
                ftp.expect(150);
                SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory().createSocket(raw, "127.0.0.1", data.getPort(), true);
                tls.startHandshake();
                assertThat(tls.getInputStream().readAllBytes()).isEqualTo("hello\n".getBytes(StandardCharsets.US_ASCII));
            }
            ftp.expect(226);
        }
    }

    @Test
    void aTlsSessionThatWasParkedWhileIdleGoesOn() throws Exception {
        Files.writeString(ferry.root().resolve("hello.txt"), "hello\n");
        try (RawFtp ftp = tlsLoggedIn()) {
            ftp.command("PBSZ 0", 200);
            ftp.command("PROT P", 200);
            // Longer than the parking grace: the session has given its thread back and dropped its TLS buffers.
            Thread.sleep(dev.ferry.runtime.net.IdleParker.PARK_AFTER_MILLIS + 500);
            assertThat(ftp.command("PWD").code()).isEqualTo(257);
            Thread.sleep(dev.ferry.runtime.net.IdleParker.PARK_AFTER_MILLIS + 500);
            InetSocketAddress data = ftp.pasv();
            ftp.send("RETR hello.txt");
            try (Socket raw = new Socket(data.getAddress(), data.getPort())) {
                ftp.expect(150);
                SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory().createSocket(raw, "127.0.0.1", data.getPort(), true);
                tls.startHandshake();
                assertThat(tls.getInputStream().readAllBytes()).isEqualTo("hello\n".getBytes(StandardCharsets.US_ASCII));
            }
            ftp.expect(226);
        }
    }

    @Test
    void anUploadCutWithoutCloseNotifyIsNotStored() throws Exception {
        try (RawFtp ftp = tlsLoggedIn()) {
            ftp.command("PBSZ 0", 200);
            ftp.command("PROT P", 200);
            InetSocketAddress data = ftp.pasv();
            ftp.send("STOR cut.bin");
            try (Socket raw = new Socket(data.getAddress(), data.getPort())) {
                ftp.expect(150);
                SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory().createSocket(raw, "127.0.0.1", data.getPort(), true);
                tls.startHandshake();
                tls.getOutputStream().write(new byte[10_000]);
                tls.getOutputStream().flush();
                // A FIN without close_notify, as an attacker cutting the connection would send.
                raw.shutdownOutput();
                assertThat(ftp.reply().code()).isEqualTo(426);
            }
        }
        assertThat(ferry.root().resolve("cut.bin")).doesNotExist();
    }

    @Test
    void aDataHandshakeThatFailsIsAnswered522() throws Exception {
        try (RawFtp ftp = tlsLoggedIn()) {
            ftp.command("PBSZ 0", 200);
            ftp.command("PROT P", 200);
            InetSocketAddress data = ftp.pasv();
            ftp.send("LIST");
            try (Socket raw = new Socket(data.getAddress(), data.getPort())) {
                ftp.expect(150);
                raw.getOutputStream().write("this is not TLS\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(ftp.reply().code()).as("RFC 4217 §10.2").isEqualTo(522);
            }
            assertThat(ftp.command("NOOP").code()).isEqualTo(200);
        }
    }

    // ---- clients that break TLS ----------------------------------------------------------------

    @Test
    void garbageInsteadOfAHandshakeEndsOnlyThatSession() throws Exception {
        try (RawFtp bad = RawFtp.greeted(ferry.port())) {
            bad.command("AUTH TLS", 234);
            bad.sendRaw("USER alice\r\nPASS secret\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(drainsToClose(bad.socket().getInputStream())).isTrue();
        }
        assertStillServes();
    }

    @Test
    void aClientThatStopsMidHandshakeIsDroppedAfterTheHandshakeTimeout() throws Exception {
        ferry.restart(s -> s.withTls(s.tls().withHandshakeTimeout(Duration.ofMillis(500))));
        try (RawFtp stalled = RawFtp.greeted(ferry.port())) {
            stalled.command("AUTH TLS", 234);
            // The first 5 bytes of a ClientHello record header, then nothing.
            stalled.sendRaw(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00});
            stalled.timeout(Duration.ofSeconds(10));
            assertThat(drainsToClose(stalled.socket().getInputStream())).isTrue();
        }
        assertStillServes();
    }

    @Test
    void aTls10OnlyClientIsRefusedWithAnAlert() throws Exception {
        try (RawFtp old = RawFtp.greeted(ferry.port())) {
            old.command("AUTH TLS", 234);
            old.sendRaw(tls10ClientHello());
            byte[] answer = old.socket().getInputStream().readAllBytes();
            // An alert record (content type 21), then the end of the connection.
            assertThat(answer).isNotEmpty();
            assertThat(answer[0]).isEqualTo((byte) 21);
        }
        assertThat(ferry.logLines()).anyMatch(l -> l.contains("event=tls-failed"));
        assertStillServes();
    }

    @Test
    void theImplicitListenerDropsAClientThatDoesNotSpeakTls() throws Exception {
        ferry.restart(s -> s.withTls(s.tls().withImplicitListen(new InetSocketAddress("127.0.0.1", 0))));
        try (RawFtp plain = RawFtp.connect(ferry.server().implicitTlsAddress().getPort())) {
            plain.send("USER alice");
            assertThat(drainsToClose(plain.socket().getInputStream())).isTrue();
        }
        try (RawFtp implicit = RawFtp.connect(ferry.server().implicitTlsAddress().getPort())) {
            implicit.startTls();
            implicit.expect(220);
            implicit.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
            // PROT P is implied: PROT needs no PBSZ first.
            assertThat(implicit.command("PROT P").code()).isEqualTo(200);
        }
    }

    /** Reads until the server closes; true when only TLS records or nothing came (never a clear-text reply). */
    private static boolean drainsToClose(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try {
            in.transferTo(all);
        } catch (IOException reset) {
            // closed with a reset: closed all the same
        }
        return !all.toString(StandardCharsets.ISO_8859_1).contains("230");
    }

    private void assertStillServes() throws IOException {
        try (RawFtp ftp = tlsLoggedIn()) {
            assertThat(ftp.command("PWD").code()).isEqualTo(257);
        }
    }

    /** A TLS 1.0 ClientHello with one cipher suite and no extensions (so no supported_versions either). */
    private static byte[] tls10ClientHello() {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(0x03);
        body.write(0x01);
        body.writeBytes(new byte[32]);          // random
        body.write(0);                          // session id
        body.writeBytes(new byte[] {0, 2, 0x00, 0x2F}); // TLS_RSA_WITH_AES_128_CBC_SHA
        body.writeBytes(new byte[] {1, 0});     // null compression
        byte[] hello = body.toByteArray();
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(new byte[] {0x16, 0x03, 0x01, 0, (byte) (hello.length + 4)});
        record.writeBytes(new byte[] {0x01, 0, 0, (byte) hello.length});
        record.writeBytes(hello);
        return record.toByteArray();
    }

    // ---- certificates that stop the start ------------------------------------------------------

    @Test
    void aKeyThatIsNotTheCertificatesStopsTheStart() throws Exception {
        Path cert = TestCertificates.writeCertificate(Files.createTempFile(ferry.clientDir(), "cert", ".pem"),
                TestCertificates.fresh("EC").certificate());
        Path key = TestCertificates.writePkcs8(Files.createTempFile(ferry.clientDir(), "key", ".pem"),
                TestCertificates.fresh("EC").key());

        assertThatThrownBy(() -> FtpServer.start(ferry.settings().withTls(ferry.settings().tls().withCertificate(cert, key))))
                .hasMessageStartingWith("tls: the private key does not belong to the certificate in " + cert);
    }

    @Test
    void anExpiredCertificateStopsTheStart() throws Exception {
        TlsIdentity expired = TestIdentities.of(TestCertificates.ec(Instant.now().minus(Duration.ofDays(400)), Duration.ofDays(365)));
        Path cert = TestCertificates.writeCertificate(Files.createTempFile(ferry.clientDir(), "cert", ".pem"), expired.certificate());
        Path key = TestCertificates.writePkcs8(Files.createTempFile(ferry.clientDir(), "key", ".pem"), expired.key());

        assertThatThrownBy(() -> FtpServer.start(ferry.settings().withTls(ferry.settings().tls().withCertificate(cert, key))))
                .hasMessageStartingWith("tls: the certificate in " + cert + " expired on ");
    }
}
