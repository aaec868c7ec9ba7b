package dev.ferry.server.fs;

import static dev.ferry.server.fs.LocalStorageJailTest.virtual;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Temp files of uploads cut short by a crash are removed (at start-up, and by RMD), and temp files in use
 * are not, whichever process uses them. "Another process" is a real one: python3 taking the same kind of
 * lock (fcntl) a server process holds on its temp files.
 */
@Timeout(60)
class StaleUploadsTest {

    /** Takes an exclusive fcntl lock on argv[1] (or says "busy"), then holds it until its stdin closes. */
    private static final String HOLD_LOCK = """
            import fcntl, signal, sys
            signal.alarm(50)
            f = open(sys.argv[1], "r+b")
            try:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                print("busy", flush=True)
                sys.exit(0)
            print("locked", flush=True)
            sys.stdin.read()
            """;

    @TempDir
    Path base;
    private final List<Process> holders = new ArrayList<>();

    @AfterEach
    void stopHolders() throws InterruptedException {
        for (Process p : holders) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void tempFilesOfCrashedUploadsAreRemovedEverywhereUnderTheRoots() throws IOException {
        Path root = Files.createDirectories(base.resolve("root"));
        Path deep = Files.createDirectories(root.resolve("a/b/c"));
        Path stale1 = write(root.resolve(".ferry-upload-00000000000000a1"), "partial");
        Path stale2 = write(deep.resolve(".ferry-upload-00000000000000a2"), "partial");
        Path kept = write(deep.resolve("keep.txt"), "mine");
        Path lookalike = write(root.resolve("ferry-upload-not-hidden"), "mine");
        List<Path> reported = new ArrayList<>();
        List<Path> expected = List.of(stale1.toRealPath(), stale2.toRealPath());

        StaleUploads.Result r = StaleUploads.sweep(List.of(root), () -> false, reported::add);

        assertThat(r.removed()).isEqualTo(2);
        assertThat(r.kept()).isZero();
        assertThat(r.complete()).isTrue();
        assertThat(reported).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(stale1).doesNotExist();
        assertThat(stale2).doesNotExist();
        assertThat(kept).hasContent("mine");
        assertThat(lookalike).hasContent("mine");
    }

    @Test
    void aTempFileLockedByAnotherProcessIsKeptUntilThatProcessIsGone() throws Exception {
        Path root = Files.createDirectories(base.resolve("root"));
        Path inUse = write(root.resolve(".ferry-upload-00000000000000b1"), "being written");
        Process holder = holdLock(inUse);
        assertThat(firstLine(holder)).isEqualTo("locked");

        StaleUploads.Result r = StaleUploads.sweep(List.of(root), () -> false, p -> { });

        assertThat(r.removed()).isZero();
        assertThat(r.kept()).isEqualTo(1);
        assertThat(inUse).hasContent("being written");

        // The process dies (kill -9): the kernel drops its lock, and the next sweep removes the file.
        holder.destroyForcibly();
        assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(StaleUploads.sweep(List.of(root), () -> false, p -> { }).removed()).isEqualTo(1);
        assertThat(inUse).doesNotExist();
    }

    /**
     * This JVM's own upload in progress: the sweep neither removes its temp file nor opens it (closing any
     * descriptor of a file would drop the lock this process holds on it), so it stays locked against other
     * processes, and the upload commits.
     */
    @Test
    void anUploadInProgressHereIsKeptAndStaysLocked() throws Exception {
        Path root = Files.createDirectories(base.resolve("root"));
        LocalStorage storage = new LocalStorage(root);
        try (Upload upload = storage.openUpload(virtual("/new.bin"), UploadMode.REPLACE, 0)) {
            upload.channel().write(ByteBuffer.wrap("half".getBytes(UTF_8)));
            Path temp = onlyTempFile(root);

            StaleUploads.Result r = StaleUploads.sweep(List.of(root), () -> false, p -> { });

            assertThat(r.removed()).isZero();
            assertThat(r.kept()).isEqualTo(1);
            assertThat(temp).exists();
            Process probe = holdLock(temp);
            assertThat(firstLine(probe)).as("another process finds the temp file locked").isEqualTo("busy");

            upload.channel().write(ByteBuffer.wrap(" and the rest".getBytes(UTF_8)));
            upload.commit();
        }
        assertThat(root.resolve("new.bin")).hasContent("half and the rest");
        assertThat(UploadTemp.ownCount()).isZero();
    }

    @Test
    void theSavedEndOfAResumeIsLockedAsWell() throws Exception {
        Path root = Files.createDirectories(base.resolve("root"));
        write(root.resolve("doc.txt"), "0123456789");
        LocalStorage storage = new LocalStorage(root);
        try (Upload upload = storage.openUpload(virtual("/doc.txt"), UploadMode.RESUME, 4)) {
            Path tail = onlyTempFile(root);

            assertThat(StaleUploads.sweep(List.of(root), () -> false, p -> { }).kept()).isEqualTo(1);
            assertThat(firstLine(holdLock(tail))).isEqualTo("busy");
            // Read last: reading it here opens and closes it in this process, which drops this process's lock.
            assertThat(tail).hasContent("456789");
            upload.abort();
        }
        assertThat(root.resolve("doc.txt")).hasContent("0123456789");
        assertThat(names(root)).containsExactly("doc.txt");
    }

    @Test
    void linksAreNotFollowed() throws IOException {
        Path root = Files.createDirectories(base.resolve("root"));
        Path outside = Files.createDirectories(base.resolve("outside"));
        Path elsewhere = write(outside.resolve(".ferry-upload-00000000000000c1"), "not ours");
        Files.createSymbolicLink(root.resolve("link"), outside);
        Files.createSymbolicLink(root.resolve(".ferry-upload-00000000000000c2"), elsewhere);

        StaleUploads.Result r = StaleUploads.sweep(List.of(root), () -> false, p -> { });

        assertThat(r.removed()).isZero();
        assertThat(elsewhere).hasContent("not ours");
        assertThat(root.resolve(".ferry-upload-00000000000000c2")).isSymbolicLink();
    }

    @Test
    void rootsInsideOtherRootsAreWalkedOnce() throws IOException {
        Path root = Files.createDirectories(base.resolve("root"));
        Path home = Files.createDirectories(root.resolve("home/alice"));
        Path other = Files.createDirectories(base.resolve("other"));
        write(home.resolve(".ferry-upload-00000000000000d1"), "x");

        assertThat(StaleUploads.outermost(List.of(home, root, other, base.resolve("missing"))))
                .containsExactly(root.toRealPath(), other.toRealPath());
        assertThat(StaleUploads.sweep(List.of(home, root, other), () -> false, p -> { }).removed()).isEqualTo(1);
    }

    @Test
    void aSweepToldToStopStops() throws IOException {
        Path root = Files.createDirectories(base.resolve("root"));
        write(root.resolve(".ferry-upload-00000000000000e1"), "x");

        StaleUploads.Result r = StaleUploads.sweep(List.of(root), () -> true, p -> { });

        assertThat(r.complete()).isFalse();
        assertThat(r.removed()).isZero();
    }

    /** A directory that holds only leftovers of crashed uploads can be removed; one with an upload in progress cannot. */
    @Test
    void rmdRemovesLeftoversButNotUploadsInProgress() throws Exception {
        Path root = Files.createDirectories(base.resolve("root"));
        Path dir = Files.createDirectories(root.resolve("dir"));
        write(dir.resolve(".ferry-upload-00000000000000f1"), "left by a crash");
        LocalStorage storage = new LocalStorage(root);

        storage.removeDirectory(virtual("/dir"));
        assertThat(dir).doesNotExist();

        Files.createDirectories(dir);
        try (Upload upload = storage.openUpload(virtual("/dir/new.bin"), UploadMode.REPLACE, 0)) {
            assertThatThrownBy(() -> storage.removeDirectory(virtual("/dir")))
                    .isInstanceOf(DirectoryNotEmptyException.class)
                    .hasMessage("/dir");
            upload.abort();
        }
        storage.removeDirectory(virtual("/dir"));
        assertThat(dir).doesNotExist();
    }

    private Process holdLock(Path file) throws IOException {
        Process p = new ProcessBuilder("python3", "-c", HOLD_LOCK, file.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        holders.add(p);
        return p;
    }

    /** The helper's first line ("locked" or "busy"); the test's timeout bounds the wait. */
    private static String firstLine(Process p) throws IOException {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), UTF_8)).readLine();
    }

    private static Path write(Path file, String text) throws IOException {
        return Files.writeString(file, text);
    }

    private static Path onlyTempFile(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> temps = files.filter(p -> p.getFileName().toString().startsWith(Jail.UPLOAD_PREFIX)).toList();
            assertThat(temps).hasSize(1);
            return temps.get(0);
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
