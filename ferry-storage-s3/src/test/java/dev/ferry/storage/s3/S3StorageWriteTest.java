package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** Changing a home on the object store: directories and their markers, deletes, STOU, and what S3 cannot do. */
class S3StorageWriteTest {

    private static S3TestStore t;

    @BeforeAll
    static void start() throws Exception {
        t = S3TestStore.start();
    }

    @AfterAll
    static void stop() throws Exception {
        t.close();
    }

    private static VirtualPath p(String path) throws InvalidVirtualPathException {
        return VirtualPath.of(path);
    }

    @Test
    void createDirectoryPutsTheMarkerBelowAnExistingParent() throws Exception {
        S3Storage home = t.home("mkdir");

        home.createDirectory(p("/a"));
        home.createDirectory(p("/a/b"));

        assertThat(t.keys("srv/mkdir/")).containsExactly("srv/mkdir/a/", "srv/mkdir/a/b/");
        assertThat(t.head("srv/mkdir/a/b/").contentLength()).isZero();
        assertThat(t.head("srv/mkdir/a/b/").contentType()).isEqualTo(S3Storage.MARKER_TYPE);
        assertThat(home.stat(p("/a/b")).type()).isEqualTo(FileType.DIRECTORY);
    }

    @Test
    void createDirectoryRefusesAnExistingNameAndAMissingParent() throws Exception {
        t.put("srv/mkdirfail/file", "x");
        t.put("srv/mkdirfail/implicit/x", "x");
        S3Storage home = t.home("mkdirfail");

        assertThatThrownBy(() -> home.createDirectory(p("/file"))).isInstanceOf(FileAlreadyExistsException.class)
                .hasMessage("/file");
        assertThatThrownBy(() -> home.createDirectory(p("/implicit")))
                .isInstanceOf(FileAlreadyExistsException.class).hasMessage("/implicit");
        assertThatThrownBy(() -> home.createDirectory(VirtualPath.ROOT)).isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> home.createDirectory(p("/missing/child"))).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/missing/child");
        assertThatThrownBy(() -> home.createDirectory(p("/file/child"))).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/file/child");
        // below an implicit directory is fine
        home.createDirectory(p("/implicit/sub"));
        assertThat(t.exists("srv/mkdirfail/implicit/sub/")).isTrue();
        assertThat(t.keys("srv/mkdirfail/")).doesNotContain("srv/mkdirfail/missing/", "srv/mkdirfail/file/");
    }

    @Test
    void removeDirectoryRemovesAnEmptyOneOnly() throws Exception {
        t.put("srv/rmdir/empty/", "");
        t.put("srv/rmdir/full/", "");
        t.put("srv/rmdir/full/f", "x");
        t.put("srv/rmdir/implicit/f", "x");
        t.put("srv/rmdir/file", "x");
        S3Storage home = t.home("rmdir");

        home.removeDirectory(p("/empty"));
        assertThat(t.exists("srv/rmdir/empty/")).isFalse();
        assertThatThrownBy(() -> home.stat(p("/empty"))).isInstanceOf(NoSuchFileException.class);

        assertThatThrownBy(() -> home.removeDirectory(p("/full"))).isInstanceOf(DirectoryNotEmptyException.class)
                .hasMessage("/full");
        assertThatThrownBy(() -> home.removeDirectory(p("/implicit")))
                .isInstanceOf(DirectoryNotEmptyException.class).hasMessage("/implicit");
        assertThatThrownBy(() -> home.removeDirectory(p("/file"))).isInstanceOf(NotDirectoryException.class)
                .hasMessage("/file");
        assertThatThrownBy(() -> home.removeDirectory(p("/missing"))).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/missing");
        assertThatThrownBy(() -> home.removeDirectory(VirtualPath.ROOT)).isInstanceOf(AccessDeniedException.class);
        assertThat(t.keys("srv/rmdir/")).containsExactly("srv/rmdir/file", "srv/rmdir/full/", "srv/rmdir/full/f",
                "srv/rmdir/implicit/f");
    }

    @Test
    void deleteRemovesAFileOnly() throws Exception {
        t.put("srv/del/f.txt", "x");
        t.put("srv/del/dir/g", "x");
        S3Storage home = t.home("del");

        home.delete(p("/f.txt"));
        assertThat(t.exists("srv/del/f.txt")).isFalse();

        assertThatThrownBy(() -> home.delete(p("/dir"))).isInstanceOf(FileSystemException.class)
                .isNotInstanceOf(NoSuchFileException.class).hasMessage("/dir: Is a directory");
        assertThatThrownBy(() -> home.delete(VirtualPath.ROOT)).hasMessage("/: Is a directory");
        assertThatThrownBy(() -> home.delete(p("/f.txt"))).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/f.txt");
        assertThat(t.exists("srv/del/dir/g")).isTrue();
    }

    @Test
    void aDirectoryWithoutMarkerStaysWhenItsLastEntryGoes() throws Exception {
        t.put("srv/keep/a/b/only.txt", "x");
        t.put("srv/keep/a/b/c/", "");
        S3Storage home = t.home("keep");

        home.delete(p("/a/b/only.txt"));
        assertThat(home.stat(p("/a/b")).type()).as("c/ still holds it").isEqualTo(FileType.DIRECTORY);
        assertThat(t.exists("srv/keep/a/b/")).as("no marker needed yet").isFalse();

        home.removeDirectory(p("/a/b/c"));
        assertThat(t.exists("srv/keep/a/b/")).as("marker put back").isTrue();
        assertThat(home.stat(p("/a/b")).type()).isEqualTo(FileType.DIRECTORY);

        home.removeDirectory(p("/a/b"));
        assertThat(home.stat(p("/a")).type()).isEqualTo(FileType.DIRECTORY);
        assertThat(t.keys("srv/keep/")).containsExactly("srv/keep/a/");
    }

    @Test
    void createUniqueTakesTheHintThenNumberedNamesSkippingDirectories() throws Exception {
        t.put("srv/stou/dir/", "");
        t.put("srv/stou/dir/taken.1/x", "x");
        S3Storage home = t.home("stou");
        VirtualPath dir = p("/dir");

        List<VirtualPath> made = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            made.add(home.createUnique(dir, "taken"));
        }
        made.add(home.createUnique(dir, "../evil/../name"));
        made.add(home.createUnique(dir, ".."));

        assertThat(made).extracting(VirtualPath::toString)
                .containsExactly("/dir/taken", "/dir/taken.2", "/dir/taken.3", "/dir/name", "/dir/file");
        for (VirtualPath f : made) {
            assertThat(home.stat(f).size()).as(f.toString()).isZero();
        }
        assertThat(home.stat(p("/dir/taken.1")).type()).isEqualTo(FileType.DIRECTORY);
    }

    @Test
    void createUniqueFallsBackToRandomNames() throws Exception {
        t.put("srv/stourandom/f", "x");
        for (int i = 1; i < 10; i++) {
            t.put("srv/stourandom/f." + i, "x");
        }
        S3Storage home = t.home("stourandom");

        VirtualPath made = home.createUnique(VirtualPath.ROOT, "f");

        assertThat(made.name()).matches("f\\.[0-9a-f]{16}");
        assertThat(home.stat(made).size()).isZero();
    }

    @Test
    void createUniqueLosesARaceToAnotherWriterAndTakesTheNextName() throws Exception {
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("stourace", t.retryingClient(requests));
        AtomicBoolean raced = new AtomicBoolean();
        // another client writes the name between our HeadObject and our conditional PutObject
        requests.beforeEach(r -> {
            if (r instanceof PutObjectRequest put && put.key().equals("srv/stourace/report")
                    && raced.compareAndSet(false, true)) {
                t.put("srv/stourace/report", "the other writer's");
            }
        });

        VirtualPath made = home.createUnique(VirtualPath.ROOT, "report");

        assertThat(made).hasToString("/report.1");
        assertThat(new String(t.get("srv/stourace/report"))).isEqualTo("the other writer's");
        assertThat(t.get("srv/stourace/report.1")).isEmpty();
    }

    @Test
    void createUniqueNeedsAnExistingDirectory() throws Exception {
        t.put("srv/stoufail/file", "x");
        S3Storage home = t.home("stoufail");

        assertThatThrownBy(() -> home.createUnique(p("/missing"), "x")).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/missing");
        assertThatThrownBy(() -> home.createUnique(p("/file"), "x")).isInstanceOf(NotDirectoryException.class)
                .hasMessage("/file");
    }

    @Test
    void theTimeOfAnObjectCannotBeSet() throws Exception {
        t.put("srv/mfmt/f", "x");
        S3Storage home = t.home("mfmt");

        assertThatThrownBy(() -> home.setLastModified(p("/f"), Instant.parse("2020-01-01T00:00:00Z")))
                .isInstanceOf(FileSystemException.class).hasMessageContaining("last upload");
    }
}
