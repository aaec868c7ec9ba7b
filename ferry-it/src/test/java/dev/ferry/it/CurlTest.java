package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** curl against the server: listing, transfers in every data-connection mode, resume, quote commands, UTF-8. */
class CurlTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private static final int BIG = 5 * 1024 * 1024;

    private ExternalCommand.Result curl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30",
                "-u", FerryServerExtension.USER + ":" + FerryServerExtension.PASSWORD));
        command.addAll(Arrays.asList(args));
        return ExternalCommand.run(ferry.clientDir(), Duration.ofSeconds(40), Map.of(), command);
    }

    @Test
    void listsTheRootDirectory() throws Exception {
        Files.writeString(ferry.root().resolve("hello.txt"), "hello\n");
        Files.createDirectory(ferry.root().resolve("pub"));

        String listing = curl(ferry.url() + "/").assertSuccess().stdout();

        assertThat(listing.lines()).anyMatch(l -> l.startsWith("-") && l.endsWith(" hello.txt"))
                .anyMatch(l -> l.startsWith("d") && l.endsWith(" pub"));
    }

    @Test
    void retrievesAFiveMegabyteFileByteExact() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("big.bin"), BIG, 1);

        curl("-o", "big.bin", ferry.url() + "/big.bin").assertSuccess();

        assertThat(TestData.sha256(ferry.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void storesAFileByteExact() throws Exception {
        byte[] content = TestData.randomFile(ferry.clientDir().resolve("up.bin"), BIG, 2);

        curl("-T", "up.bin", ferry.url() + "/up.bin").assertSuccess();

        assertThat(TestData.sha256(ferry.root().resolve("up.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void resumesADownloadWithRest() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("big.bin"), BIG, 3);
        Files.write(ferry.clientDir().resolve("big.bin"), Arrays.copyOf(content, 1_234_567));

        ExternalCommand.Result r = curl("-v", "-C", "-", "-o", "big.bin", ferry.url() + "/big.bin").assertSuccess();

        assertThat(r.stderr()).contains("> REST 1234567");
        assertThat(TestData.sha256(ferry.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void resumesAnUpload() throws Exception {
        byte[] content = TestData.randomFile(ferry.clientDir().resolve("up.bin"), BIG, 4);
        Files.write(ferry.root().resolve("up.bin"), Arrays.copyOf(content, 2_000_001));

        ExternalCommand.Result r = curl("-v", "-C", "-", "-T", "up.bin", ferry.url() + "/up.bin").assertSuccess();

        // curl asks SIZE, then appends what is missing.
        assertThat(r.stderr()).contains("> SIZE up.bin").contains("> APPE up.bin");
        assertThat(TestData.sha256(ferry.root().resolve("up.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void activeModeWithEprt() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("a.bin"), 300_000, 5);

        ExternalCommand.Result r = curl("-v", "--ftp-port", "127.0.0.1", "-o", "a.bin", ferry.url() + "/a.bin").assertSuccess();

        assertThat(r.stderr()).contains("> EPRT |1|127.0.0.1|").contains("< 200 EPRT command successful.");
        assertThat(TestData.sha256(ferry.clientDir().resolve("a.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void activeModeWithPort() throws Exception {
        Files.writeString(ferry.clientDir().resolve("p.txt"), "uploaded over an active data connection\n");

        ExternalCommand.Result r = curl("-v", "--ftp-port", "127.0.0.1", "--disable-eprt",
                "-T", "p.txt", ferry.url() + "/p.txt").assertSuccess();

        assertThat(r.stderr()).contains("> PORT 127,0,0,1,").contains("< 200 PORT command successful.");
        assertThat(ferry.root().resolve("p.txt")).hasContent("uploaded over an active data connection");
    }

    @Test
    void passiveModeWithPasv() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("b.bin"), 300_000, 6);

        ExternalCommand.Result r = curl("-v", "--disable-epsv", "-o", "b.bin", ferry.url() + "/b.bin").assertSuccess();

        assertThat(r.stderr()).contains("> PASV").contains("< 227 Entering Passive Mode (127,0,0,1,");
        assertThat(TestData.sha256(ferry.clientDir().resolve("b.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void passiveModeWithEpsv() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("c.bin"), 300_000, 7);

        ExternalCommand.Result r = curl("-v", "-o", "c.bin", ferry.url() + "/c.bin").assertSuccess();

        assertThat(r.stderr()).contains("> EPSV").contains("< 229 Entering Extended Passive Mode (|||");
        assertThat(TestData.sha256(ferry.clientDir().resolve("c.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void createsMissingDirectoriesOnUpload() throws Exception {
        Files.writeString(ferry.clientDir().resolve("deep.txt"), "deep\n");

        curl("--ftp-create-dirs", "-T", "deep.txt", ferry.url() + "/a/b/c/deep.txt").assertSuccess();

        assertThat(ferry.root().resolve("a/b/c/deep.txt")).hasContent("deep");
    }

    @Test
    void quoteCommandsRunBeforeAndAfterTheTransfer() throws Exception {
        Files.writeString(ferry.root().resolve("x"), "x");
        Files.writeString(ferry.root().resolve("y"), "y");

        String listing = curl("-Q", "DELE x", "-Q", "-DELE y", ferry.url() + "/").assertSuccess().stdout();

        // "DELE x" ran before the listing, "-DELE y" after it.
        assertThat(listing).doesNotContain(" x\r\n", " x\n").contains(" y");
        assertThat(ferry.root().resolve("x")).doesNotExist();
        assertThat(ferry.root().resolve("y")).doesNotExist();
    }

    @Test
    void aFailingQuoteCommandFailsCurl() throws Exception {
        ExternalCommand.Result r = curl("-Q", "DELE missing", ferry.url() + "/");

        assertThat(r.exitCode()).as(r.describe("exit code")).isEqualTo(21);   // curl: quote command returned error
        assertThat(r.stderr()).contains("550");
    }

    @Test
    void utf8FileNamesTravelBothWays() throws Exception {
        String name = "grüße-日本-ß.txt";
        Files.writeString(ferry.clientDir().resolve("local.txt"), "unicode\n");
        String encoded = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");

        curl("-T", "local.txt", ferry.url() + "/" + encoded).assertSuccess();
        assertThat(ferry.root().resolve(name)).hasContent("unicode");

        String listing = curl("-l", ferry.url() + "/").assertSuccess().stdout();
        assertThat(listing.lines()).contains(name);

        curl("-o", "back.txt", ferry.url() + "/" + encoded).assertSuccess();
        assertThat(ferry.clientDir().resolve("back.txt")).hasContent("unicode");
    }

    @Test
    void missingFileIs550() throws Exception {
        ExternalCommand.Result r = curl("-v", "-o", "nothing", ferry.url() + "/nothing-here");

        assertThat(r.exitCode()).isEqualTo(78);   // curl: remote file not found
        assertThat(r.stderr()).contains("< 550 ");
        assertThat(Path.of(ferry.clientDir().toString(), "nothing")).doesNotExist();
    }
}
