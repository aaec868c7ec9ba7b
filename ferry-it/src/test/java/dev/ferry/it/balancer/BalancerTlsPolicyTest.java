package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.it.ExternalCommand;
import dev.ferry.it.FtpsClients;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.runtime.tls.TlsChannel;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.TestCertificates;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLEngine;
import org.apache.commons.net.ftp.FTPSClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a TLS-terminating balancer refuses, and that refusing one connection disturbs no other: the
 * require-tls policy (530 before AUTH, 521 for a transfer under PROT C, 534 for PROT C after login),
 * commands pipelined after AUTH (CVE-2011-0411), bad handshakes (garbage, a stalled client, TLS 1.0), an
 * upload cut without close_notify (not stored), and a certificate reload.
 */
class BalancerTlsPolicyTest {

    private BalancerCluster cluster;

    private BalancerCluster start(UnaryOperator<BalancerSettings.Tls> tls) throws Exception {
        cluster = BalancerCluster.start(s -> s.withTls(tls.apply(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.TERMINATE)
                .withImplicitListen(new InetSocketAddress("127.0.0.1", 0)))));
        return cluster;
    }

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void requireTlsRefusesAClearLoginAndClearDataButServesProtectedOnes() throws Exception {
        BalancerCluster c = start(t -> t.withRequire(TlsPolicy.REQUIRED));
        Files.writeString(c.root().resolve("hello.txt"), "hello\n");
        try (RawFtp ftp = RawFtp.greeted(c.port())) {
            assertThat(ftp.command("FEAT", 211).lines()).contains(" AUTH TLS", " PBSZ", " PROT");
            ftp.command("USER " + BalancerCluster.USER, 530);
            ftp.command("PBSZ 0", 503);
            ftp.command("CCC", 533);
            ftp.authTls();
            ftp.command("PROT P", 503);
            ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
            // RFC 4217 §10.2: the 521 goes to the transfer command, not to the PASV or PORT before it.
            ftp.command("PASV", 227);
            ftp.command("LIST", 521);
            ftp.command("EPRT |1|127.0.0.1|40000|", 200);
            ftp.command("RETR hello.txt", 521);
            ftp.command("PBSZ 0", 200);
            ftp.command("PROT C", 534);
            ftp.command("PROT S", 536);
            ftp.command("CCC", 534);
            ftp.command("AUTH TLS", 503);
            ftp.command("PROT P", 200);
            ftp.epsv();
        }
        assertThat(FtpsClients.curl(c.clientDir(), "--ssl-reqd", "-k", c.url() + "/hello.txt").assertSuccess().stdout())
                .isEqualTo("hello\n");
        assertThat(FtpsClients.curl(c.clientDir(), c.url() + "/hello.txt").exitCode()).as("plain FTP refused").isNotZero();
    }

    @Test
    void requiredSessionReuseRefusesFtplibWith522AndServesAClientThatResumes() throws Exception {
        BalancerCluster c = start(t -> t.withReuse(SessionReuse.REQUIRED));
        Files.writeString(c.root().resolve("hello.txt"), "hello\n");

        Map<String, String> v = FtpsClients.python(c.clientDir(), c.port(), FtpsClients.RETR_HELLO_WITHOUT_AND_WITH_REUSE);

        assertThat(v.get("FTP_TLS")).startsWith("522 The data connection must resume the control connection's TLS session");
        assertThat(v).containsEntry("ReusingFTP_TLS", "hello\\n");
    }

    @Test
    void commandsPipelinedAfterAuthAreRefusedNotExecuted() throws Exception {
        BalancerCluster c = start(t -> t);
        try (RawFtp ftp = RawFtp.greeted(c.port())) {
            ftp.sendRaw("AUTH TLS\r\nUSER injected\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(ftp.reply().code()).isEqualTo(503);
            assertThat(ftp.reply().code()).as("USER, sent in clear text, is a clear-text command (policy optional): never one of the TLS session").isEqualTo(331);
        }
        assertThat(c.logLines()).noneMatch(l -> l.contains("event=tls client="));
    }

    @Test
    void badHandshakesEndOnlyTheirConnection() throws Exception {
        BalancerCluster c = start(t -> t.withHandshakeTimeout(Duration.ofMillis(500)));
        byte[] content = TestData.randomFile(c.clientDir().resolve("src.bin"), 1 << 20, 1);
        FTPSClient client = FtpsClients.commonsNet(c.port(), false);
        try {
            assertThat(client.storeFile("before.bin", new ByteArrayInputStream(content))).isTrue();

            try (RawFtp garbage = RawFtp.greeted(c.port())) {
                garbage.command("AUTH TLS", 234);
                garbage.sendRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20).getBytes(StandardCharsets.US_ASCII));
                assertThat(garbage.socket().getInputStream().readAllBytes()).isNotNull();
            }
            try (RawFtp stalled = RawFtp.greeted(c.port())) {
                stalled.command("AUTH TLS", 234);
                stalled.sendRaw(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xc8});  // a record header, then nothing
                stalled.timeout(Duration.ofSeconds(10));
                stalled.socket().getInputStream().readAllBytes();  // ends when the handshake timeout closes it
            }
            ExternalCommand.Result tls10 = ExternalCommand.run(c.clientDir(), Duration.ofSeconds(20), Map.of(), List.of("openssl",
                    "s_client", "-connect", "127.0.0.1:" + c.balancer().implicitTlsAddress().getPort(), "-tls1", "-cipher", "DEFAULT@SECLEVEL=0"));
            assertThat(tls10.exitCode()).isNotZero();

            ByteArrayOutputStream back = new ByteArrayOutputStream();
            assertThat(client.retrieveFile("before.bin", back)).as("the other session goes on").isTrue();
            assertThat(back.toByteArray()).isEqualTo(content);
            assertThat(client.logout()).isTrue();
        } finally {
            client.disconnect();
        }
        TestData.within(Duration.ofSeconds(5), "three tls-failed lines", () ->
                c.logLines().stream().filter(l -> l.contains("event=tls-failed")).count() == 3);
    }

    @Test
    void anUploadCutWithoutCloseNotifyIsNotStored() throws Exception {
        BalancerCluster c = start(t -> t);
        try (RawFtp ftp = RawFtp.greeted(c.port())) {
            ftp.authTls();
            ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
            ftp.command("PBSZ 0", 200);
            ftp.command("PROT P", 200);
            ftp.command("TYPE I", 200);
            int port = ftp.epsv();
            try (SocketChannel data = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
                ftp.command("STOR cut.bin", 150);
                SSLEngine engine = TestCertificates.trustAll().createSSLEngine("127.0.0.1", port);
                engine.setUseClientMode(true);
                TlsChannel tls = new TlsChannel(data, engine, false);
                tls.handshake();
                ByteBuffer chunk = ByteBuffer.wrap(new byte[256 * 1024]);
                while (chunk.hasRemaining()) {
                    tls.write(chunk);
                }
                // Closed without close_notify: an attacker cutting the connection looks like this.
            }
            assertThat(ftp.reply().code()).isEqualTo(426);
            ftp.command("SIZE cut.bin", 550);
        }
    }

    @Test
    void aReloadedCertificateServesNewSessionsWhileOldOnesGoOn() throws Exception {
        java.nio.file.Path dir = Files.createTempDirectory("ferry-it-reload-");
        try {
            java.nio.file.Path cert = dir.resolve("cert.pem");
            java.nio.file.Path key = dir.resolve("key.pem");
            openssl(dir, "first");
            BalancerCluster c = start(t -> t.withCertificate(cert, key));
            String first = c.balancer().status().tls().server().identity().fingerprint();
            Files.writeString(c.root().resolve("hello.txt"), "hello\n");
            FTPSClient old = FtpsClients.commonsNet(c.port(), false);
            try {
                openssl(dir, "second");
                c.balancer().reload(c.balancer().status().settings());
                String second = c.balancer().status().tls().server().identity().fingerprint();
                Files.writeString(key, "not a key");
                c.balancer().reload(c.balancer().status().settings());

                assertThat(second).isNotEqualTo(first);
                assertThat(c.balancer().status().tls().server().identity().fingerprint()).as("a broken file keeps the last one").isEqualTo(second);
                assertThat(c.logLines()).anyMatch(l -> l.contains("event=reload-failed"));
                ByteArrayOutputStream back = new ByteArrayOutputStream();
                assertThat(old.retrieveFile("hello.txt", back)).as("a session started before goes on").isTrue();
                ExternalCommand.Result fresh = FtpsClients.curl(c.clientDir(), "-v", "--ssl-reqd", "-k", c.url() + "/hello.txt")
                        .assertSuccess();
                assertThat(fresh.stderr()).contains("subject: CN=second");
            } finally {
                old.disconnect();
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void openssl(java.nio.file.Path dir, String name) throws Exception {
        ExternalCommand.run(dir, Duration.ofSeconds(20), Map.of(), List.of("openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
                "-days", "30", "-subj", "/CN=" + name)).assertSuccess();
    }
}
