package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * curl in every shape ({@link Shape}): listing, byte-exact transfers in every data-connection mode (PASV,
 * EPSV, PORT, EPRT), resume both ways (REST, APPE), quote commands, UTF-8 names.
 */
class CurlTest {

    @Nested
    class Direct extends Tests {
        Direct() {
            super(Shape.DIRECT);
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

        private static final int BIG = 5 * 1024 * 1024;

        @RegisterExtension
        final ShapeExtension ftp;

        Tests(Shape shape) {
            ftp = new ShapeExtension(shape);
        }

        private ExternalCommand.Result curl(String... args) throws IOException, InterruptedException {
            return FtpsClients.curl(ftp, args);
        }

        @Test
        void listsTheRootDirectory() throws Exception {
            Files.writeString(ftp.root().resolve("hello.txt"), "hello\n");
            Files.createDirectory(ftp.root().resolve("pub"));

            String listing = curl(ftp.url() + "/").assertSuccess().stdout();

            assertThat(listing.lines()).anyMatch(l -> l.startsWith("-") && l.endsWith(" hello.txt"))
                    .anyMatch(l -> l.startsWith("d") && l.endsWith(" pub"));
        }

        @Test
        void retrievesAFiveMegabyteFileByteExact() throws Exception {
            byte[] content = TestData.randomFile(ftp.root().resolve("big.bin"), BIG, 1);

            curl("-o", "big.bin", ftp.url() + "/big.bin").assertSuccess();

            assertThat(TestData.sha256(ftp.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
        }

        @Test
        void storesAFileByteExact() throws Exception {
            byte[] content = TestData.randomFile(ftp.clientDir().resolve("up.bin"), BIG, 2);

            curl("-T", "up.bin", ftp.url() + "/up.bin").assertSuccess();

            assertThat(TestData.sha256(ftp.root().resolve("up.bin"))).isEqualTo(TestData.sha256(content));
        }

        @Test
        void resumesADownloadWithRest() throws Exception {
            byte[] content = TestData.randomFile(ftp.root().resolve("big.bin"), BIG, 3);
            Files.write(ftp.clientDir().resolve("big.bin"), Arrays.copyOf(content, 1_234_567));

            ExternalCommand.Result r = curl("-v", "-C", "-", "-o", "big.bin", ftp.url() + "/big.bin").assertSuccess();

            assertThat(r.stderr()).contains("> REST 1234567");
            assertThat(TestData.sha256(ftp.clientDir().resolve("big.bin"))).isEqualTo(TestData.sha256(content));
        }

        @Test
        void resumesAnUpload() throws Exception {
            byte[] content = TestData.randomFile(ftp.clientDir().resolve("up.bin"), BIG, 4);
            Files.write(ftp.root().resolve("up.bin"), Arrays.copyOf(content, 2_000_001));

            ExternalCommand.Result r = curl("-v", "-C", "-", "-T", "up.bin", ftp.url() + "/up.bin").assertSuccess();

            // curl asks SIZE, then appends what is missing.
            assertThat(r.stderr()).contains("> SIZE up.bin").contains("> APPE up.bin");
            assertThat(TestData.sha256(ftp.root().resolve("up.bin"))).isEqualTo(TestData.sha256(content));
        }

        /** Each mode's data connections, both ways; an upload replaces an existing file (or, failing, keeps it). */
        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"EPSV", "PASV", "EPRT", "PORT"})
        void downloadsAndReplacesAFileInEachDataConnectionMode(String mode) throws Exception {
            byte[] down = TestData.randomFile(ftp.root().resolve("down.bin"), 300_000, 5);
            byte[] old = TestData.randomFile(ftp.root().resolve(mode.toLowerCase(Locale.ROOT) + ".bin"), 200_000, 6);
            byte[] up = TestData.randomFile(ftp.clientDir().resolve("up.bin"), 300_000, 7);

            FtpsClients.CurlTransfers t = FtpsClients.curlTransfers(ftp, mode);

            FtpsClients.assertCurlTransfers(t, ftp, mode, old, up, down);
        }

        @Test
        void createsMissingDirectoriesOnUpload() throws Exception {
            Files.writeString(ftp.clientDir().resolve("deep.txt"), "deep\n");

            curl("--ftp-create-dirs", "-T", "deep.txt", ftp.url() + "/a/b/c/deep.txt").assertSuccess();

            assertThat(ftp.root().resolve("a/b/c/deep.txt")).hasContent("deep");
        }

        @Test
        void quoteCommandsRunBeforeAndAfterTheTransfer() throws Exception {
            Files.writeString(ftp.root().resolve("x"), "x");
            Files.writeString(ftp.root().resolve("y"), "y");

            String listing = curl("-Q", "DELE x", "-Q", "-DELE y", ftp.url() + "/").assertSuccess().stdout();

            // "DELE x" ran before the listing, "-DELE y" after it.
            assertThat(listing).doesNotContain(" x\r\n", " x\n").contains(" y");
            assertThat(ftp.root().resolve("x")).doesNotExist();
            assertThat(ftp.root().resolve("y")).doesNotExist();
        }

        @Test
        void aFailingQuoteCommandFailsCurl() throws Exception {
            ExternalCommand.Result r = curl("-Q", "DELE missing", ftp.url() + "/");

            assertThat(r.exitCode()).as(r.describe("exit code")).isEqualTo(21);   // curl: quote command returned error
            assertThat(r.stderr()).contains("550");
        }

        @Test
        void utf8FileNamesTravelBothWays() throws Exception {
            String name = "grüße-日本-ß.txt";
            Files.writeString(ftp.clientDir().resolve("local.txt"), "unicode\n");
            String encoded = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");

            curl("-T", "local.txt", ftp.url() + "/" + encoded).assertSuccess();
            assertThat(ftp.root().resolve(name)).hasContent("unicode");

            String listing = curl("-l", ftp.url() + "/").assertSuccess().stdout();
            assertThat(listing.lines()).contains(name);

            curl("-o", "back.txt", ftp.url() + "/" + encoded).assertSuccess();
            assertThat(ftp.clientDir().resolve("back.txt")).hasContent("unicode");
        }

        @Test
        void missingFileIs550() throws Exception {
            ExternalCommand.Result r = curl("-v", "-o", "nothing", ftp.url() + "/nothing-here");

            assertThat(r.exitCode()).isEqualTo(78);   // curl: remote file not found
            assertThat(r.stderr()).contains("< 550 ");
            assertThat(ftp.clientDir().resolve("nothing")).doesNotExist();
        }
    }
}
