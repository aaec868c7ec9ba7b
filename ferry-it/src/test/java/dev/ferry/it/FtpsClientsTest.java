package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.server.ServerSettings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import org.apache.commons.net.ftp.FTPFile;
import org.apache.commons.net.ftp.FTPSClient;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FTPS with real clients in every shape ({@link Shape}; through the balancer, TLS ends there and the
 * servers behind it are plain): curl, lftp, Python's ftplib.FTP_TLS and Commons Net's FTPSClient (explicit
 * and implicit), over protected (PROT P) data connections both passive and active, and clear ones (PROT C):
 * byte-exact transfers both ways, LIST, MLSD, resume, the certificate the client is shown. curl is not among
 * the active-mode clients: curl 7.88 (Debian 12) fails FTPS over active data connections by itself, against
 * ferry server too (docs/ftps.md).
 */
class FtpsClientsTest {

    @Nested
    class Direct extends Tests {
        Direct() {
            super(Shape.DIRECT);
        }

        /** ferry server's own setting; the balancer's is in BalancerTlsPolicyTest. */
        @Test
        void requiredSessionReuseRefusesFtplibWith522AndServesAClientThatResumes() throws Exception {
            server().restart(s -> s.withTls(s.tls().withReuse(SessionReuse.REQUIRED)));
            Files.writeString(ftp.root().resolve("hello.txt"), "hello\n");

            Map<String, String> v = FtpsClients.python(ftp, FtpsClients.RETR_HELLO_WITHOUT_AND_WITH_REUSE);

            assertThat(v.get("FTP_TLS")).startsWith("522 The data connection must resume the control connection's TLS session");
            assertThat(v).containsEntry("ReusingFTP_TLS", "hello\\n");
        }

        @Test
        void withReuseOffCurlMakesAFullHandshakePerDataConnection() throws Exception {
            server().restart(s -> s.withTls(s.tls().withReuse(SessionReuse.OFF)));
            Files.writeString(ftp.root().resolve("hello.txt"), "hello\n");

            assertThat(curl("--ssl-reqd", "-k", ftp.url() + "/hello.txt").assertSuccess().stdout()).isEqualTo("hello\n");
            assertThat(ftp.logLines()).anyMatch(l -> l.contains("cmd=RETR") && l.contains("result=ok tls=full"));
        }
    }

    @Nested
    class Balanced extends Tests {
        Balanced() {
            super(Shape.BALANCED);
        }
    }

    @Nested
    class ObjectStore extends Tests {
        ObjectStore() {
            super(Shape.OBJECT_STORE);
        }
    }

    abstract static class Tests {

        static final int BIG = 3 * 1024 * 1024 + 17;

        @RegisterExtension
        final ShapeExtension ftp;

        Tests(Shape shape) {
            ftp = new ShapeExtension(shape).withTls();
        }

        FerryServerExtension server() {
            return ftp.server();
        }

        ExternalCommand.Result curl(String... args) throws IOException, InterruptedException {
            return FtpsClients.curl(ftp, args);
        }

        /** ferry server logs how each data connection's TLS began; through the balancer the servers speak plain FTP. */
        void assertServerLoggedDataTls(String tls) {
            if (ftp.shape() != Shape.BALANCED) {
                assertThat(ftp.logLines()).anyMatch(l -> (l.contains("event=transfer ") && l.contains(" cmd=RETR ")) && l.contains("result=ok tls=" + tls));
            }
        }

        // ---- curl ------------------------------------------------------------------------------

        @ParameterizedTest(name = "TLS {0}")
        @ValueSource(strings = {"1.2", "1.3"})
        void curlDownloadsAndUploadsByteExactOverProtectedData(String version) throws Exception {
            String[] pin = version.equals("1.2") ? new String[] {"--tlsv1.2", "--tls-max", "1.2"} : new String[] {"--tlsv1.3"};
            byte[] down = TestData.randomFile(ftp.root().resolve("down.bin"), BIG, 1);
            byte[] up = TestData.randomFile(ftp.clientDir().resolve("up.bin"), BIG, 2);

            ExternalCommand.Result get = curl(concat(pin, "-v", "--ssl-reqd", "-k", "-o", "down.bin", ftp.url() + "/down.bin"))
                    .assertSuccess();
            curl(concat(pin, "--ssl-reqd", "-k", "-T", "up.bin", ftp.url() + "/up.bin")).assertSuccess();

            assertThat(get.stderr()).contains("> AUTH SSL", "> PBSZ 0", "> PROT P", "using TLSv" + version);
            assertThat(TestData.sha256(ftp.clientDir().resolve("down.bin"))).isEqualTo(TestData.sha256(down));
            assertThat(TestData.sha256(ftp.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
        }

        @Test
        void curlListsAndResumesADownload() throws Exception {
            byte[] content = TestData.randomFile(ftp.root().resolve("big.bin"), BIG, 3);
            Files.write(ftp.clientDir().resolve("big.bin"), Arrays.copyOf(content, 1_000_003));

            String listing = curl("--ssl-reqd", "-k", ftp.url() + "/").assertSuccess().stdout();
            ExternalCommand.Result r = curl("-v", "--ssl-reqd", "-k", "--disable-epsv", "-C", "-", "-o", "big.bin",
                    ftp.url() + "/big.bin").assertSuccess();

            assertThat(listing.lines()).anyMatch(l -> l.startsWith("-") && l.endsWith(" big.bin"));
            assertThat(r.stderr()).contains("> REST 1000003", "< 227 ");
            assertThat(TestData.sha256(ftp.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
        }

        @Test
        void curlVerifiesTheCertificateOrItsPinnedKey() throws Exception {
            Files.writeString(ftp.root().resolve("hello.txt"), "hello\n");
            X509Certificate certificate = ftp.certificate();
            Path ca = Files.writeString(ftp.clientDir().resolve("ferry.pem"), "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
                    + "\n-----END CERTIFICATE-----\n");
            String pin = "sha256//" + Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded()));

            assertThat(curl("--ssl-reqd", "--cacert", ca.toString(), ftp.url() + "/hello.txt").assertSuccess().stdout())
                    .isEqualTo("hello\n");
            assertThat(curl("--ssl-reqd", "-k", "--pinnedpubkey", pin, ftp.url() + "/hello.txt").assertSuccess().stdout())
                    .isEqualTo("hello\n");
            assertThat(curl("--ssl-reqd", ftp.url() + "/hello.txt").exitCode())
                    .as("an unknown self-signed certificate fails verification").isEqualTo(60);
        }

        @Test
        void curlWithAProtectedControlConnectionAndClearData() throws Exception {
            byte[] content = TestData.randomFile(ftp.root().resolve("big.bin"), BIG, 4);

            ExternalCommand.Result r = curl("-v", "--ftp-ssl-control", "-k", "-o", "big.bin", ftp.url() + "/big.bin")
                    .assertSuccess();

            assertThat(r.stderr()).contains("> PROT C");
            assertThat(TestData.sha256(ftp.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
            assertThat(ftp.logLines()).anyMatch(l -> (l.contains("event=transfer ") && l.contains(" cmd=RETR ")) && l.contains("result=ok")
                    && !l.contains("tls="));
        }

        @Test
        void curlOverImplicitFtps() throws Exception {
            byte[] content = TestData.randomFile(ftp.root().resolve("big.bin"), BIG, 5);
            String url = "ftps://" + ftp.host() + ":" + ftp.implicitTlsPort();

            curl("-k", "-o", "big.bin", url + "/big.bin").assertSuccess();

            assertThat(TestData.sha256(ftp.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
        }

        // ---- lftp ------------------------------------------------------------------------------

        @Test
        void lftpGetsPutsAndListsOverProtectedData() throws Exception {
            byte[] down = TestData.randomFile(ftp.root().resolve("down.bin"), BIG, 6);
            byte[] up = TestData.randomFile(ftp.clientDir().resolve("up.bin"), BIG, 7);

            ExternalCommand.Result r = FtpsClients.lftp(ftp, "get down.bin -o got.bin; put up.bin -o up.bin; cls -l")
                    .assertSuccess();

            assertThat(TestData.sha256(ftp.clientDir().resolve("got.bin"))).isEqualTo(TestData.sha256(down));
            assertThat(TestData.sha256(ftp.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
            assertThat(r.stdout()).contains("down.bin", "up.bin");
            assertServerLoggedDataTls("resumed");
        }

        @Test
        void lftpGetsAndPutsOverProtectedActiveData() throws Exception {
            byte[] down = TestData.randomFile(ftp.root().resolve("down.bin"), BIG, 15);
            byte[] old = TestData.randomFile(ftp.root().resolve("up.bin"), 100_000, 16);
            byte[] up = TestData.randomFile(ftp.clientDir().resolve("up.bin"), BIG, 17);

            ExternalCommand.Result r = FtpsClients.lftp(ftp, "debug 9; set net:timeout 5; set net:reconnect-interval-base 1; set ftp:passive-mode false; "
                    + "get down.bin -o got.bin; put up.bin -o up.bin");

            TestData.assertStoredOrKept(ftp.root().resolve("up.bin"), r.stderr().contains("<--- 226"), old, up);
            assertThat(r.stderr()).containsPattern("---> (PORT|EPRT) ").doesNotContain("---> PASV", "---> EPSV");
            r.assertSuccess();
            assertThat(TestData.sha256(ftp.clientDir().resolve("got.bin"))).isEqualTo(TestData.sha256(down));
        }

        // ---- Python ftplib ---------------------------------------------------------------------

        @Test
        void pythonFtpTlsTransfersListsAndResumesOverProtectedData() throws Exception {
            byte[] down = TestData.randomFile(ftp.root().resolve("down.bin"), BIG, 8);
            Files.createDirectory(ftp.root().resolve("sub"));

            Map<String, String> v = FtpsClients.pythonTransfers(ftp);

            FtpsClients.assertPythonTransfers(v, down, ftp.root().resolve("up.bin"));
            assertThat(v).containsEntry("mlsd", "['down.bin:file', 'sub:dir', 'up.bin:file']")
                    .containsEntry("nlst", "['down.bin', 'sub', 'up.bin']");
            // ftplib makes a full handshake per data connection: accepted, since reuse is only preferred by default.
            assertServerLoggedDataTls("full");
        }

        /** PROT P over active data connections (ftplib sends PORT): RETR whole and from an offset, STOR over a file. */
        @Test
        void pythonFtpTlsOverProtectedActiveData() throws Exception {
            byte[] down = TestData.randomFile(ftp.root().resolve("down.bin"), BIG, 18);
            byte[] old = TestData.randomFile(ftp.root().resolve("up.bin"), 100_000, 19);

            Map<String, String> v = FtpsClients.python(ftp, """
                    ftp = ftplib.FTP_TLS(context=context, timeout=5)
                    ftp.connect(HOST, PORT)
                    ftp.login(sys.argv[2], sys.argv[3])
                    out("prot", ftp.prot_p())
                    ftp.set_pasv(False)
                    try:
                        data = io.BytesIO()
                        out("retr", ftp.retrbinary("RETR down.bin", data.write))
                        out("down", hashlib.sha256(data.getvalue()).hexdigest())
                        tail = io.BytesIO()
                        out("rest", ftp.retrbinary("RETR down.bin", tail.write, rest=3000000))
                        out("tail", hashlib.sha256(tail.getvalue()).hexdigest())
                        out("stor", ftp.storbinary("STOR up.bin", io.BytesIO(data.getvalue()[::-1])))
                    except (ftplib.Error, OSError) as e:
                        out("error", repr(e))
                    """);

            byte[] reversed = new byte[down.length];
            for (int i = 0; i < reversed.length; i++) {
                reversed[i] = down[down.length - 1 - i];
            }
            TestData.assertStoredOrKept(ftp.root().resolve("up.bin"), v.getOrDefault("stor", "").startsWith("226 "), old, reversed);
            assertThat(v).doesNotContainKey("error")
                    .containsEntry("prot", "200 Protection level set to P (data connections use TLS).")
                    .containsEntry("down", TestData.sha256(down))
                    .containsEntry("tail", TestData.sha256(Arrays.copyOfRange(down, 3000000, down.length)));
            assertThat(v.get("retr")).startsWith("226 ");
            assertThat(v.get("rest")).startsWith("226 ");
            assertThat(v.get("stor")).startsWith("226 ");
        }

        // ---- Commons Net -----------------------------------------------------------------------

        /** Passive STOR, RETR, MLSD and LIST, then an active RETR from an offset, all under PROT P. */
        @ParameterizedTest(name = "implicit={0}")
        @ValueSource(booleans = {false, true})
        void commonsNetStoresRetrievesAndListsPassiveAndActive(boolean implicit) throws Exception {
            byte[] content = TestData.randomFile(ftp.clientDir().resolve("src.bin"), BIG, 9);
            FTPSClient client = FtpsClients.commonsNet(ftp, ftp.implicitTlsPort(), implicit);
            try {
                assertThat(client.storeFile("up.bin", new ByteArrayInputStream(content))).as(client::getReplyString).isTrue();
                ByteArrayOutputStream back = new ByteArrayOutputStream();
                assertThat(client.retrieveFile("up.bin", back)).isTrue();
                FTPFile[] listed = client.listFiles();
                FTPFile[] mlsd = client.mlistDir();
                client.enterLocalActiveMode();
                client.setDataTimeout(Duration.ofSeconds(5));
                client.setRestartOffset(BIG - 1000);
                ByteArrayOutputStream tail = new ByteArrayOutputStream();
                assertThat(client.retrieveFile("up.bin", tail)).as(client::getReplyString).isTrue();

                assertThat(MessageDigest.isEqual(back.toByteArray(), content)).isTrue();
                assertThat(tail.toByteArray()).isEqualTo(Arrays.copyOfRange(content, BIG - 1000, BIG));
                assertThat(listed).extracting(FTPFile::getName).containsExactly("up.bin");
                assertThat(mlsd).extracting(FTPFile::getName).containsExactly("up.bin");
                assertThat(mlsd[0].getSize()).isEqualTo(BIG);
                assertThat(client.logout()).isTrue();
            } finally {
                client.disconnect();
            }
            assertThat(TestData.sha256(ftp.root().resolve("up.bin"))).isEqualTo(TestData.sha256(content));
        }

        private static String[] concat(String[] first, String... rest) {
            String[] all = Arrays.copyOf(first, first.length + rest.length);
            System.arraycopy(rest, 0, all, first.length, rest.length);
            return all;
        }
    }
}
