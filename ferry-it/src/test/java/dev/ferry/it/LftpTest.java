package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * lftp in every shape ({@link Shape}): mirroring trees both ways, listings (LIST and MLSD), directory and file
 * management, active mode, resumed transfers both ways. lftp runs with -d so that the protocol it spoke can be
 * checked; its HOME is the test's client directory so no user configuration or history leaks in or out.
 */
class LftpTest {

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

        @RegisterExtension
        final ShapeExtension ftp;

        Tests(Shape shape) {
            ftp = new ShapeExtension(shape);
        }

        private ExternalCommand.Result lftp(boolean passive, String commands) throws IOException, InterruptedException {
            String script = "set net:max-retries 1; set net:timeout 5; set net:reconnect-interval-base 1; "
                    + "set cmd:fail-exit yes; set ftp:ssl-allow no; set ftp:passive-mode " + (passive ? "on" : "off") + "; "
                    + "open -u " + ftp.user() + "," + ftp.password() + " -p " + ftp.port() + " " + ftp.host() + "; " + commands;
            return ExternalCommand.run(ftp.clientDir(), Duration.ofSeconds(60),
                    Map.of("HOME", ftp.clientDir().toString(), "LC_ALL", "C.UTF-8"),
                    List.of("lftp", "-d", "-c", script));
        }

        private Path localTree() throws IOException {
            Path src = ftp.clientDir().resolve("src");
            TestData.randomFile(src.resolve("top.bin"), 700_000, 10);
            TestData.randomFile(src.resolve("a/one.bin"), 12_345, 11);
            TestData.randomFile(src.resolve("a/b/two.bin"), 1_000_000, 12);
            TestData.randomFile(src.resolve("a/b/c/empty.bin"), 0, 13);
            Files.writeString(src.resolve("notes.txt"), "line one\nline two\n");
            Files.createDirectories(src.resolve("empty-dir"));
            return src;
        }

        @Test
        void mirrorsATreeUpAndDownByteExact() throws Exception {
            Path src = localTree();

            lftp(true, "mirror -R src up; mirror up down").assertSuccess();

            TestData.assertSameTree(src, ftp.root().resolve("up"));
            TestData.assertSameTree(src, ftp.clientDir().resolve("down"));
        }

        @Test
        void listsWithClsAndLs() throws Exception {
            Files.writeString(ftp.root().resolve("file.txt"), "12345");
            Files.createDirectory(ftp.root().resolve("dir"));

            ExternalCommand.Result r = lftp(true, "cls -1; echo ----; ls").assertSuccess();

            String[] parts = r.stdout().split("----\n", 2);
            assertThat(parts[0].lines()).containsExactlyInAnyOrder("dir/", "file.txt");
            assertThat(parts[1].lines()).anyMatch(l -> l.startsWith("-") && l.contains(" 5 ") && l.endsWith(" file.txt"))
                    .anyMatch(l -> l.startsWith("d") && l.endsWith(" dir"));
        }

        @Test
        void usesMlsdWhenAsked() throws Exception {
            Files.writeString(ftp.root().resolve("file.txt"), "12345");
            Files.createDirectory(ftp.root().resolve("dir"));

            ExternalCommand.Result r = lftp(true, "set ftp:use-mlsd on; cls -l").assertSuccess();

            assertThat(r.stderr()).contains("---> MLSD");
            assertThat(r.stdout().lines()).anyMatch(l -> l.endsWith("file.txt") && l.contains(" 5 "))
                    .anyMatch(l -> l.endsWith("dir/"));
        }

        @Test
        void managesDirectoriesAndFiles() throws Exception {
            Files.writeString(ftp.root().resolve("old.txt"), "content");
            Files.writeString(ftp.root().resolve("doomed.txt"), "bye");
            Files.createDirectories(ftp.root().resolve("gone"));

            lftp(true, "mkdir made; mkdir -p made/deeper/deepest; mv old.txt made/new.txt; rm doomed.txt; rmdir gone").assertSuccess();

            assertThat(ftp.root().resolve("made/deeper/deepest")).isDirectory();
            assertThat(ftp.root().resolve("made/new.txt")).hasContent("content");
            assertThat(ftp.root().resolve("old.txt")).doesNotExist();
            assertThat(ftp.root().resolve("doomed.txt")).doesNotExist();
            assertThat(ftp.root().resolve("gone")).doesNotExist();
        }

        @Test
        void failedCommandFailsTheScript() throws Exception {
            ExternalCommand.Result r = lftp(true, "rm no-such-file; mkdir never-reached");

            assertThat(r.exitCode()).isNotZero();
            assertThat(r.stderr()).contains("<--- 550");
            assertThat(ftp.root().resolve("never-reached")).doesNotExist();
        }

        /**
         * {@code put -c} resumes an upload where the server's copy ends (SIZE, then REST and STOR) and {@code reget}
         * a download where the local copy ends (REST and RETR).
         */
        @Test
        void resumesAnUploadWithPutContinueAndADownloadWithReget() throws Exception {
            byte[] up = TestData.randomFile(ftp.clientDir().resolve("up.bin"), 3_000_000, 16);
            Files.write(ftp.root().resolve("up.bin"), Arrays.copyOf(up, 1_100_000));
            byte[] down = TestData.randomFile(ftp.root().resolve("down.bin"), 2_500_000, 17);
            Files.write(ftp.clientDir().resolve("down.bin"), Arrays.copyOf(down, 900_000));

            ExternalCommand.Result r = lftp(true, "put -c up.bin; reget down.bin").assertSuccess();

            assertThat(r.stderr()).contains("---> REST 1100000", "---> STOR up.bin", "---> REST 900000", "---> RETR down.bin");
            assertThat(TestData.sha256(ftp.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
            assertThat(TestData.sha256(ftp.clientDir().resolve("down.bin"))).isEqualTo(TestData.sha256(down));
        }

        @Test
        void activeModeTransfersBothWays() throws Exception {
            byte[] old = TestData.randomFile(ftp.root().resolve("act.bin"), 500_000, 15);
            byte[] content = TestData.randomFile(ftp.clientDir().resolve("act.bin"), 800_000, 14);

            ExternalCommand.Result r = lftp(false, "put act.bin; get act.bin -o back.bin");

            TestData.assertStoredOrKept(ftp.root().resolve("act.bin"), r.stderr().contains("<--- 226"), old, content);
            assertThat(r.stderr()).containsPattern("---> (PORT 127,0,0,1,|EPRT \\|1\\|127\\.0\\.0\\.1\\|)")
                    .doesNotContain("---> PASV", "---> EPSV");
            r.assertSuccess();
            assertThat(TestData.sha256(ftp.clientDir().resolve("back.bin"))).isEqualTo(TestData.sha256(content));
        }
    }
}
