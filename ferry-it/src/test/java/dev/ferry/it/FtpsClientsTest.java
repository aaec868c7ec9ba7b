package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import org.apache.commons.net.ftp.FTPFile;
import org.apache.commons.net.ftp.FTPSClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FTPS with real clients: curl, lftp, Python's ftplib.FTP_TLS and Commons Net's FTPSClient (explicit and
 * implicit), over protected (PROT P) and clear (PROT C) data connections: byte-exact transfers both ways,
 * LIST, MLSD, resume. The server runs with its in-memory self-signed certificate and an implicit listener.
 */
class FtpsClientsTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension()
            .configure(s -> s.withTls(s.tls().withImplicitListen(new InetSocketAddress("127.0.0.1", 0))));

    private static final int BIG = 3 * 1024 * 1024 + 17;

    // ---- curl ----------------------------------------------------------------------------------

    private ExternalCommand.Result curl(String... args) throws IOException, InterruptedException {
        return FtpsClients.curl(ferry.clientDir(), args);
    }

    @ParameterizedTest(name = "TLS {0}")
    @ValueSource(strings = {"1.2", "1.3"})
    void curlDownloadsAndUploadsByteExactOverProtectedData(String version) throws Exception {
        String[] pin = version.equals("1.2") ? new String[] {"--tlsv1.2", "--tls-max", "1.2"} : new String[] {"--tlsv1.3"};
        byte[] down = TestData.randomFile(ferry.root().resolve("down.bin"), BIG, 1);
        byte[] up = TestData.randomFile(ferry.clientDir().resolve("up.bin"), BIG, 2);

        ExternalCommand.Result get = curl(concat(pin, "-v", "--ssl-reqd", "-k", "-o", "down.bin", ferry.url() + "/down.bin"))
                .assertSuccess();
        curl(concat(pin, "--ssl-reqd", "-k", "-T", "up.bin", ferry.url() + "/up.bin")).assertSuccess();

        assertThat(get.stderr()).contains("> AUTH SSL", "> PBSZ 0", "> PROT P", "using TLSv" + version);
        assertThat(TestData.sha256(ferry.clientDir().resolve("down.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(ferry.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
    }

    @Test
    void curlListsAndResumesADownload() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("big.bin"), BIG, 3);
        Files.write(ferry.clientDir().resolve("big.bin"), Arrays.copyOf(content, 1_000_003));

        String listing = curl("--ssl-reqd", "-k", ferry.url() + "/").assertSuccess().stdout();
        ExternalCommand.Result r = curl("-v", "--ssl-reqd", "-k", "-C", "-", "-o", "big.bin", ferry.url() + "/big.bin")
                .assertSuccess();

        assertThat(listing.lines()).anyMatch(l -> l.startsWith("-") && l.endsWith(" big.bin"));
        assertThat(r.stderr()).contains("> REST 1000003");
        assertThat(TestData.sha256(ferry.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void curlVerifiesTheServerAgainstItsCertificateOrItsPinnedKey() throws Exception {
        Files.writeString(ferry.root().resolve("hello.txt"), "hello\n");
        X509Certificate certificate = ferry.server().tls().identity().certificate();
        Path ca = Files.writeString(ferry.clientDir().resolve("ferry.pem"), "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        String pin = "sha256//" + Base64.getEncoder().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded()));

        assertThat(curl("--ssl-reqd", "--cacert", ca.toString(), ferry.url() + "/hello.txt").assertSuccess().stdout())
                .isEqualTo("hello\n");
        assertThat(curl("--ssl-reqd", "-k", "--pinnedpubkey", pin, ferry.url() + "/hello.txt").assertSuccess().stdout())
                .isEqualTo("hello\n");
        assertThat(curl("--ssl-reqd", ferry.url() + "/hello.txt").exitCode())
                .as("an unknown self-signed certificate fails verification").isEqualTo(60);
    }

    @Test
    void curlWithAProtectedControlConnectionAndClearData() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("big.bin"), BIG, 4);

        ExternalCommand.Result r = curl("-v", "--ftp-ssl-control", "-k", "-o", "big.bin", ferry.url() + "/big.bin")
                .assertSuccess();

        assertThat(r.stderr()).contains("> PROT C");
        assertThat(TestData.sha256(ferry.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
        assertThat(ferry.logLines()).anyMatch(l -> l.contains("event=transfer cmd=RETR") && l.contains("result=ok")
                && !l.contains("tls="));
    }

    @Test
    void curlOverImplicitFtps() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("big.bin"), BIG, 5);
        String url = "ftps://127.0.0.1:" + ferry.server().implicitTlsAddress().getPort();

        curl("-k", "-o", "big.bin", url + "/big.bin").assertSuccess();

        assertThat(TestData.sha256(ferry.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
    }

    // ---- lftp ----------------------------------------------------------------------------------

    @Test
    void lftpGetsPutsAndListsOverProtectedData() throws Exception {
        byte[] down = TestData.randomFile(ferry.root().resolve("down.bin"), BIG, 6);
        byte[] up = TestData.randomFile(ferry.clientDir().resolve("up.bin"), BIG, 7);

        ExternalCommand.Result r = FtpsClients.lftp(ferry.clientDir(), ferry.port(),
                "get down.bin -o got.bin; put up.bin -o up.bin; cls -l").assertSuccess();

        assertThat(TestData.sha256(ferry.clientDir().resolve("got.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(ferry.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
        assertThat(r.stdout()).contains("down.bin", "up.bin");
        assertThat(ferry.logLines()).anyMatch(l -> l.contains("event=transfer cmd=RETR") && l.contains("tls=resumed"));
    }

    // ---- Python ftplib -------------------------------------------------------------------------

    private Map<String, String> python(String body) throws IOException, InterruptedException {
        return FtpsClients.python(ferry.clientDir(), ferry.port(), body);
    }

    @Test
    void pythonFtpTlsTransfersListsAndResumesOverProtectedData() throws Exception {
        byte[] down = TestData.randomFile(ferry.root().resolve("down.bin"), BIG, 8);
        Files.createDirectory(ferry.root().resolve("sub"));

        Map<String, String> v = FtpsClients.pythonTransfers(ferry.clientDir(), ferry.port());

        FtpsClients.assertPythonTransfers(v, down, ferry.root().resolve("up.bin"));
        assertThat(v).containsEntry("mlsd", "['down.bin:file', 'sub:dir', 'up.bin:file']")
                .containsEntry("nlst", "['down.bin', 'sub', 'up.bin']");
        // ftplib makes a full handshake per data connection: accepted, since reuse is only preferred by default.
        assertThat(ferry.logLines()).anyMatch(l -> l.contains("cmd=RETR") && l.contains("result=ok tls=full"));
    }

    @Test
    void requiredSessionReuseRefusesFtplibWith522AndServesAClientThatResumes() throws Exception {
        ferry.restart(s -> s.withTls(s.tls().withReuse(ServerSettings.SessionReuse.REQUIRED)));
        Files.writeString(ferry.root().resolve("hello.txt"), "hello\n");

        Map<String, String> v = python(FtpsClients.RETR_HELLO_WITHOUT_AND_WITH_REUSE);

        assertThat(v.get("FTP_TLS")).startsWith("522 The data connection must resume the control connection's TLS session");
        assertThat(v).containsEntry("ReusingFTP_TLS", "hello\\n");
    }

    @Test
    void withReuseOffCurlMakesAFullHandshakePerDataConnection() throws Exception {
        ferry.restart(s -> s.withTls(s.tls().withReuse(ServerSettings.SessionReuse.OFF)));
        Files.writeString(ferry.root().resolve("hello.txt"), "hello\n");

        assertThat(curl("--ssl-reqd", "-k", ferry.url() + "/hello.txt").assertSuccess().stdout()).isEqualTo("hello\n");
        assertThat(ferry.logLines()).anyMatch(l -> l.contains("cmd=RETR") && l.contains("result=ok tls=full"));
    }

    // ---- Commons Net ---------------------------------------------------------------------------

    private FTPSClient commonsNet(boolean implicit) throws IOException {
        return FtpsClients.commonsNet(implicit ? ferry.server().implicitTlsAddress().getPort() : ferry.port(), implicit);
    }

    @ParameterizedTest(name = "implicit={0}")
    @ValueSource(booleans = {false, true})
    void commonsNetStoresRetrievesAndLists(boolean implicit) throws Exception {
        byte[] content = TestData.randomFile(ferry.clientDir().resolve("src.bin"), BIG, 9);
        FTPSClient client = commonsNet(implicit);
        try {
            assertThat(client.storeFile("up.bin", new ByteArrayInputStream(content))).as(client::getReplyString).isTrue();
            ByteArrayOutputStream back = new ByteArrayOutputStream();
            assertThat(client.retrieveFile("up.bin", back)).isTrue();
            client.setRestartOffset(BIG - 1000);
            ByteArrayOutputStream tail = new ByteArrayOutputStream();
            assertThat(client.retrieveFile("up.bin", tail)).isTrue();
            FTPFile[] listed = client.listFiles();
            FTPFile[] mlsd = client.mlistDir();

            assertThat(MessageDigest.isEqual(back.toByteArray(), content)).isTrue();
            assertThat(tail.toByteArray()).isEqualTo(Arrays.copyOfRange(content, BIG - 1000, BIG));
            assertThat(listed).extracting(FTPFile::getName).containsExactly("up.bin");
            assertThat(mlsd).extracting(FTPFile::getName).containsExactly("up.bin");
            assertThat(mlsd[0].getSize()).isEqualTo(BIG);
            assertThat(client.logout()).isTrue();
        } finally {
            client.disconnect();
        }
        assertThat(TestData.sha256(ferry.root().resolve("up.bin"))).isEqualTo(TestData.sha256(content));
    }

    private static String[] concat(String[] first, String... rest) {
        String[] all = Arrays.copyOf(first, first.length + rest.length);
        System.arraycopy(rest, 0, all, first.length, rest.length);
        return all;
    }
}
