package dev.ferry.server.fs;

import static dev.ferry.server.fs.LocalStorageJailTest.names;
import static dev.ferry.server.fs.LocalStorageJailTest.virtual;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalStorageTest {
    @TempDir
    Path home;
    LocalStorage storage;

    @BeforeEach
    void setUp() throws IOException {
        Files.writeString(home.resolve("file.txt"), "hello world");
        Files.createDirectory(home.resolve("dir"));
        Files.writeString(home.resolve("dir/inner.txt"), "inner");
        storage = new LocalStorage(home);
    }

    @Test
    void theRootMustBeAnExistingDirectory() {
        assertThatThrownBy(() -> new LocalStorage(home.resolve("missing"))).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> new LocalStorage(home.resolve("file.txt"))).isInstanceOf(NotDirectoryException.class);
    }

    @Test
    void statDescribesAFile() throws IOException {
        Instant modified = Instant.parse("2026-11-24T21:56:00Z");
        Files.setLastModifiedTime(home.resolve("file.txt"), FileTime.from(modified));
        Files.setPosixFilePermissions(home.resolve("file.txt"), PosixFilePermissions.fromString("rw-r-----"));

        FileInfo info = storage.stat(virtual("/file.txt"));

        assertThat(info.name()).isEqualTo("file.txt");
        assertThat(info.type()).isEqualTo(FileType.FILE);
        assertThat(info.size()).isEqualTo(11);
        assertThat(info.lastModified()).isEqualTo(modified);
        assertThat(info.permissions()).isEqualTo("rw-r-----");
        assertThat(info.linkCount()).isEqualTo(1);
        assertThat(info.uniqueId()).isNotBlank().doesNotContain(";", " ");
    }

    @Test
    void statOfTheRootAndOfADirectory() throws IOException {
        FileInfo root = storage.stat(VirtualPath.ROOT);
        FileInfo dir = storage.stat(virtual("/dir"));

        assertThat(root.name()).isEqualTo("/");
        assertThat(root.type()).isEqualTo(FileType.DIRECTORY);
        assertThat(dir.type()).isEqualTo(FileType.DIRECTORY);
        assertThat(dir.uniqueId()).isNotEqualTo(root.uniqueId());
    }

    @Test
    void hardLinksShareTheirUniqueIdAndCountEachOther() throws IOException {
        Files.createLink(home.resolve("hard.txt"), home.resolve("file.txt"));

        FileInfo file = storage.stat(virtual("/file.txt"));
        FileInfo hard = storage.stat(virtual("/hard.txt"));

        assertThat(hard.uniqueId()).isEqualTo(file.uniqueId());
        assertThat(hard.linkCount()).isEqualTo(2);
    }

    @Test
    void listStreamsTheEntriesOfADirectory() throws IOException {
        assertThat(names(storage.list(VirtualPath.ROOT))).containsExactlyInAnyOrder("file.txt", "dir");
        assertThat(names(storage.list(virtual("/dir")))).containsExactly("inner.txt");
    }

    @Test
    void listingOfAFileIsNotADirectory() {
        assertThatThrownBy(() -> storage.list(virtual("/file.txt")))
                .isExactlyInstanceOf(NotDirectoryException.class)
                .hasMessage("/file.txt");
    }

    @Test
    void listingsSkipNamesThatCannotBeSentOnAnFtpLine() throws IOException {
        Files.writeString(home.resolve("line\nbreak"), "x");
        Files.writeString(home.resolve("carriage\rreturn"), "x");
        Files.writeString(home.resolve("tab\there"), "x");
        Files.writeString(home.resolve("ok name é.txt"), "x");

        assertThat(names(storage.list(VirtualPath.ROOT))).containsExactlyInAnyOrder("file.txt", "dir", "ok name é.txt");
    }

    @Test
    void aListingOfManyFilesIsComplete() throws IOException {
        Path many = Files.createDirectory(home.resolve("many"));
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            Files.createFile(many.resolve("f" + i));
            expected.add("f" + i);
        }

        assertThat(names(storage.list(virtual("/many")))).hasSize(500).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void listingsAreSortedByName() throws IOException {
        for (String name : List.of("b.txt", "B.txt", "a.txt", "é.txt", "_x", "10", "9")) {
            Files.createFile(home.resolve(name));
        }

        assertThat(names(storage.list(VirtualPath.ROOT)))
                .containsExactly("10", "9", "B.txt", "_x", "a.txt", "b.txt", "dir", "file.txt", "é.txt");
    }

    @Test
    void aDirectoryPastTheSortingBoundIsStillListedInFullUnsorted() throws IOException {
        Path many = Files.createDirectory(home.resolve("many"));
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            Files.createFile(many.resolve("f" + i));
            expected.add("f" + i);
        }
        Jail jail = new Jail(home, new FileModes(FileModes.DEFAULT_UMASK));
        LocalAttributes attributes = new LocalAttributes(home.getFileSystem());
        Path real = many.toRealPath();

        DirectoryListing sorted = LocalDirectoryListing.open(real,
                entry -> describe(attributes, entry), virtual("/many"), jail, 50);
        DirectoryListing tooBig = LocalDirectoryListing.open(real,
                entry -> describe(attributes, entry), virtual("/many"), jail, 49);

        assertThat(names(sorted)).isSortedAccordingTo(NameOrder.CODE_POINTS).hasSize(50);
        assertThat(names(tooBig)).hasSize(50).containsExactlyInAnyOrderElementsOf(expected);
    }

    private static Optional<FileInfo> describe(LocalAttributes attributes, Path entry) {
        try {
            return Optional.of(attributes.read(entry, entry.getFileName().toString()).info());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aListingIteratesOnceLikeTheDirectoryStreamBehindIt() throws IOException {
        try (DirectoryListing listing = storage.list(VirtualPath.ROOT)) {
            List<FileInfo> all = new ArrayList<>();
            listing.forEach(all::add);
            assertThat(all).hasSize(2);
            assertThatThrownBy(listing::iterator).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void openReadStartsAtTheOffsetAndGivesAFileChannel() throws IOException {
        try (SeekableByteChannel channel = storage.openRead(virtual("/file.txt"), 6)) {
            assertThat(channel).isInstanceOf(FileChannel.class);
            ByteBuffer buffer = ByteBuffer.allocate(64);
            channel.read(buffer);
            assertThat(new String(buffer.array(), 0, buffer.position(), UTF_8)).isEqualTo("world");
        }
    }

    @Test
    void openReadOfADirectoryFails() {
        assertThatThrownBy(() -> storage.openRead(virtual("/dir"), 0))
                .isInstanceOf(FileSystemException.class)
                .hasMessage("/dir: Is a directory");
    }

    @Test
    void createUniqueGivesANewNameEachTime() throws IOException {
        VirtualPath first = storage.createUnique(virtual("/dir"), null);
        VirtualPath second = storage.createUnique(virtual("/dir"), null);

        assertThat(first).isNotEqualTo(second);
        assertThat(first.parent()).isEqualTo(virtual("/dir"));
        assertThat(storage.stat(first).size()).isZero();
        assertThat(storage.stat(second).size()).isZero();
    }

    @Test
    void createUniqueStartsFromTheHint() throws IOException {
        assertThat(storage.createUnique(VirtualPath.ROOT, "report.txt")).hasToString("/report.txt");
        assertThat(storage.createUnique(VirtualPath.ROOT, "report.txt")).hasToString("/report.txt.1");
        assertThat(storage.createUnique(VirtualPath.ROOT, "file.txt")).hasToString("/file.txt.1");
        assertThat(home.resolve("file.txt")).hasContent("hello world");
    }

    @Test
    void createUniqueIgnoresUnusableHints() throws IOException {
        assertThat(storage.createUnique(VirtualPath.ROOT, "../../etc/passwd")).hasToString("/passwd");
        assertThat(storage.createUnique(VirtualPath.ROOT, "bad\r\nname")).hasToString("/file");
        assertThat(storage.createUnique(VirtualPath.ROOT, Jail.UPLOAD_PREFIX + "x")).hasToString("/file.1");
        assertThat(storage.createUnique(VirtualPath.ROOT, "x".repeat(255)).name()).hasSize(200);
    }

    @Test
    void createUniqueNeverReusesADanglingLinkName() throws IOException {
        Files.createSymbolicLink(home.resolve("taken"), home.resolve("nowhere"));

        assertThat(storage.createUnique(VirtualPath.ROOT, "taken")).hasToString("/taken.1");
        assertThat(home.resolve("nowhere")).doesNotExist();
    }

    @Test
    void createDirectory() throws IOException {
        storage.createDirectory(virtual("/dir/sub"));

        assertThat(home.resolve("dir/sub")).isDirectory();
        assertThatThrownBy(() -> storage.createDirectory(virtual("/dir/sub")))
                .isExactlyInstanceOf(FileAlreadyExistsException.class).hasMessage("/dir/sub");
        assertThatThrownBy(() -> storage.createDirectory(virtual("/file.txt")))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> storage.createDirectory(VirtualPath.ROOT))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> storage.createDirectory(virtual("/missing/sub")))
                .isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void removeDirectory() throws IOException {
        Files.createDirectory(home.resolve("empty"));

        storage.removeDirectory(virtual("/empty"));

        assertThat(home.resolve("empty")).doesNotExist();
    }

    @Test
    void removeDirectoryRefusesNonEmptyFilesLinksAndTheRoot() throws IOException {
        Files.createSymbolicLink(home.resolve("dirLink"), Path.of("dir"));

        assertThatThrownBy(() -> storage.removeDirectory(virtual("/dir")))
                .isExactlyInstanceOf(DirectoryNotEmptyException.class).hasMessage("/dir");
        assertThatThrownBy(() -> storage.removeDirectory(virtual("/file.txt")))
                .isExactlyInstanceOf(NotDirectoryException.class).hasMessage("/file.txt");
        assertThatThrownBy(() -> storage.removeDirectory(virtual("/dirLink")))
                .isExactlyInstanceOf(NotDirectoryException.class);
        assertThatThrownBy(() -> storage.removeDirectory(VirtualPath.ROOT))
                .isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> storage.removeDirectory(virtual("/missing")))
                .isInstanceOf(NoSuchFileException.class);
        assertThat(home.resolve("dir/inner.txt")).exists();
        assertThat(home).isDirectory();
    }

    @Test
    void deleteRemovesAFileButNeverADirectory() throws IOException {
        storage.delete(virtual("/dir/inner.txt"));

        assertThat(home.resolve("dir/inner.txt")).doesNotExist();
        assertThatThrownBy(() -> storage.delete(virtual("/dir")))
                .isInstanceOf(IOException.class).hasMessageContaining("Is a directory");
        assertThatThrownBy(() -> storage.delete(VirtualPath.ROOT))
                .isInstanceOf(IOException.class).hasMessageContaining("Is a directory");
        assertThatThrownBy(() -> storage.delete(virtual("/missing")))
                .isExactlyInstanceOf(NoSuchFileException.class).hasMessage("/missing");
        assertThat(home.resolve("dir")).isDirectory();
    }

    @Test
    void deleteOfALinkRemovesTheLinkOnly() throws IOException {
        Files.createSymbolicLink(home.resolve("fileLink"), Path.of("file.txt"));
        Files.createSymbolicLink(home.resolve("dirLink"), Path.of("dir"));

        storage.delete(virtual("/fileLink"));
        storage.delete(virtual("/dirLink"));

        assertThat(home.resolve("fileLink")).doesNotExist();
        assertThat(home.resolve("file.txt")).hasContent("hello world");
        assertThat(home.resolve("dir/inner.txt")).exists();
    }

    @Test
    void renameMovesAndReplacesFiles() throws IOException {
        storage.rename(virtual("/file.txt"), virtual("/dir/moved.txt"));
        assertThat(home.resolve("dir/moved.txt")).hasContent("hello world");
        assertThat(home.resolve("file.txt")).doesNotExist();

        storage.rename(virtual("/dir/moved.txt"), virtual("/dir/inner.txt"));
        assertThat(home.resolve("dir/inner.txt")).hasContent("hello world");
        assertThat(home.resolve("dir/moved.txt")).doesNotExist();

        storage.rename(virtual("/dir"), virtual("/renamed"));
        assertThat(home.resolve("renamed/inner.txt")).exists();
    }

    @Test
    void renameToItselfChangesNothing() throws IOException {
        storage.rename(virtual("/file.txt"), virtual("/file.txt"));

        assertThat(home.resolve("file.txt")).hasContent("hello world");
    }

    @Test
    void renameNeverGoesOverADirectoryNorMovesTheRoot() throws IOException {
        Files.createDirectory(home.resolve("empty"));

        assertThatThrownBy(() -> storage.rename(virtual("/file.txt"), virtual("/dir")))
                .isInstanceOf(FileSystemException.class).hasMessage("/dir: Is a directory");
        assertThatThrownBy(() -> storage.rename(virtual("/dir"), virtual("/empty")))
                .isInstanceOf(FileSystemException.class).hasMessage("/empty: Is a directory");
        assertThatThrownBy(() -> storage.rename(VirtualPath.ROOT, virtual("/x")))
                .isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> storage.rename(virtual("/file.txt"), VirtualPath.ROOT))
                .isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> storage.rename(virtual("/dir"), virtual("/dir/sub/deeper")))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> storage.rename(virtual("/dir"), virtual("/dir/sub")))
                .isInstanceOf(FileSystemException.class).hasMessageContaining("into itself");
        assertThatThrownBy(() -> storage.rename(virtual("/missing"), virtual("/x")))
                .isExactlyInstanceOf(NoSuchFileException.class).hasMessage("/missing");

        assertThat(home.resolve("file.txt")).hasContent("hello world");
        assertThat(home.resolve("dir/inner.txt")).exists();
        assertThat(home.resolve("empty")).isEmptyDirectory();
    }

    @Test
    void renameOfALinkMovesTheLink() throws IOException {
        Files.createSymbolicLink(home.resolve("fileLink"), home.resolve("file.txt"));

        storage.rename(virtual("/fileLink"), virtual("/dir/link2"));

        assertThat(Files.isSymbolicLink(home.resolve("dir/link2"))).isTrue();
        assertThat(home.resolve("file.txt")).hasContent("hello world");
    }

    @Test
    void setLastModified() throws IOException {
        Instant time = Instant.parse("2020-02-29T12:34:56Z");

        storage.setLastModified(virtual("/file.txt"), time);

        assertThat(storage.stat(virtual("/file.txt")).lastModified()).isEqualTo(time);
    }

    @Test
    void specialFilesAreListedButNeverOpened() throws Exception {
        Path fifo = home.resolve("pipe");
        boolean made;
        try {
            made = new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0;
        } catch (IOException e) {
            made = false;
        }
        Assumptions.assumeTrue(made, "mkfifo is not available here");

        assertThat(storage.stat(virtual("/pipe")).type()).isEqualTo(FileType.OTHER);
        assertThat(names(storage.list(VirtualPath.ROOT))).contains("pipe");
        // a FIFO would block the reading thread until some local process wrote to it
        assertThatThrownBy(() -> storage.openRead(virtual("/pipe"), 0))
                .isInstanceOf(FileSystemException.class).hasMessage("/pipe: Not a regular file");
        assertThatThrownBy(() -> storage.openUpload(virtual("/pipe"), UploadMode.APPEND, 0))
                .isInstanceOf(FileSystemException.class).hasMessage("/pipe: Not a regular file");
    }
}
