package dev.ferry.server.fs;

import static dev.ferry.server.fs.LocalStorageJailTest.names;
import static dev.ferry.server.fs.LocalStorageJailTest.virtual;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Upload safety: a failed upload leaves the old file as it was; APPE, REST+STOR and STOU work in place and are undone. */
class LocalStorageUploadTest {
    private static final byte[] OLD = "old content \0\r\n\u00ff end".getBytes(UTF_8);

    @TempDir
    Path home;
    LocalStorage storage;
    VirtualPath target;

    @BeforeEach
    void setUp() throws IOException {
        Files.write(home.resolve("target.bin"), OLD);
        storage = new LocalStorage(home);
        target = virtual("/target.bin");
    }

    @Test
    void commitReplacesTheFileAndReportsItsSize() throws IOException {
        try (Upload upload = storage.openUpload(target, UploadMode.REPLACE, 0)) {
            write(upload, "new");
            assertThat(upload.commit()).isEqualTo(3);
        }

        assertThat(home.resolve("target.bin")).hasContent("new");
        assertThat(localNames()).containsExactly("target.bin");
    }

    @Test
    void untilCommitTheOldFileIsWhatReadersSee() throws IOException {
        try (Upload upload = storage.openUpload(target, UploadMode.REPLACE, 0);
             SeekableByteChannel before = storage.openRead(target, 0)) {
            write(upload, "new content");
            assertThat(Files.readAllBytes(home.resolve("target.bin"))).isEqualTo(OLD);

            upload.commit();

            // the rename swapped in a new file: an open reader still has the complete old one
            assertThat(readAll(before)).isEqualTo(OLD);
        }
        assertThat(home.resolve("target.bin")).hasContent("new content");
    }

    @Test
    void abortLeavesTheOldFileByteExact() throws IOException {
        Upload upload = storage.openUpload(target, UploadMode.REPLACE, 0);
        write(upload, "partial");

        upload.abort();

        assertThat(Files.readAllBytes(home.resolve("target.bin"))).isEqualTo(OLD);
        assertThat(localNames()).containsExactly("target.bin");
        assertThatThrownBy(() -> write(upload, "more")).isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(upload::commit).isInstanceOf(IOException.class).hasMessageContaining("aborted");
    }

    @Test
    void closeWithoutCommitAborts() throws IOException {
        try (Upload upload = storage.openUpload(target, UploadMode.REPLACE, 0)) {
            write(upload, "partial");
        }

        assertThat(Files.readAllBytes(home.resolve("target.bin"))).isEqualTo(OLD);
        assertThat(localNames()).containsExactly("target.bin");
    }

    @Test
    void closeAfterCommitKeepsTheUpload() throws IOException {
        Upload upload = storage.openUpload(virtual("/fresh.txt"), UploadMode.REPLACE, 0);
        write(upload, "fresh");
        upload.commit();

        upload.close();
        upload.abort();

        assertThat(home.resolve("fresh.txt")).hasContent("fresh");
    }

    @Test
    void uploadsInProgressAreNeitherListedNorAddressable() throws IOException {
        try (Upload upload = storage.openUpload(target, UploadMode.REPLACE, 0)) {
            write(upload, "new");
            List<String> local = localNames();
            assertThat(local).hasSize(2);
            String temp = local.stream().filter(n -> !n.equals("target.bin")).findFirst().orElseThrow();

            assertThat(names(storage.list(VirtualPath.ROOT))).containsExactly("target.bin");
            VirtualPath tempPath = virtual("/" + temp);
            assertThatThrownBy(() -> storage.stat(tempPath)).isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> storage.openRead(tempPath, 0)).isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> storage.delete(tempPath)).isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> storage.openUpload(tempPath, UploadMode.APPEND, 0))
                    .isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void replacingKeepsThePermissionsOfTheOldFile() throws IOException {
        Files.setPosixFilePermissions(home.resolve("target.bin"), PosixFilePermissions.fromString("rw-------"));

        try (Upload upload = storage.openUpload(target, UploadMode.REPLACE, 0)) {
            write(upload, "private");
            upload.commit();
        }

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("target.bin"))))
                .isEqualTo("rw-------");
        assertThat(storage.stat(target).permissions()).isEqualTo("rw-------");
    }

    @Test
    void replacingThroughALinkUpdatesItsTargetAndKeepsTheLink() throws IOException {
        Files.createSymbolicLink(home.resolve("link"), Path.of("target.bin"));

        try (Upload upload = storage.openUpload(virtual("/link"), UploadMode.REPLACE, 0)) {
            write(upload, "via link");
            upload.commit();
        }

        assertThat(Files.isSymbolicLink(home.resolve("link"))).isTrue();
        assertThat(home.resolve("target.bin")).hasContent("via link");
    }

    @Test
    void appendAddsToTheEnd() throws IOException {
        try (Upload upload = storage.openUpload(target, UploadMode.APPEND, 0)) {
            write(upload, "+tail");
            assertThat(upload.commit()).isEqualTo(OLD.length + 5);
        }

        assertThat(new String(Files.readAllBytes(home.resolve("target.bin")), UTF_8))
                .isEqualTo(new String(OLD, UTF_8) + "+tail");
    }

    @Test
    void appendCreatesAMissingFile() throws IOException {
        try (Upload upload = storage.openUpload(virtual("/new.log"), UploadMode.APPEND, 0)) {
            write(upload, "first");
            upload.commit();
        }

        assertThat(home.resolve("new.log")).hasContent("first");
    }

    @Test
    void resumeTruncatesAtTheOffsetAndWritesFromThere() throws IOException {
        Files.writeString(home.resolve("target.bin"), "0123456789");

        try (Upload upload = storage.openUpload(target, UploadMode.RESUME, 4)) {
            write(upload, "XY");
            assertThat(upload.commit()).isEqualTo(6);
        }

        assertThat(home.resolve("target.bin")).hasContent("0123XY");
    }

    @Test
    void resumeAtTheEndAppends() throws IOException {
        Files.writeString(home.resolve("target.bin"), "0123");

        try (Upload upload = storage.openUpload(target, UploadMode.RESUME, 4)) {
            write(upload, "45");
            upload.commit();
        }

        assertThat(home.resolve("target.bin")).hasContent("012345");
    }

    @Test
    void resumeBeyondTheEndFailsAndLeavesTheFile() {
        assertThatThrownBy(() -> storage.openUpload(target, UploadMode.RESUME, OLD.length + 1))
                .isInstanceOf(IOException.class)
                .hasMessage("/target.bin: restart offset " + (OLD.length + 1) + " is beyond the end of the file ("
                        + OLD.length + " bytes)");

        assertThat(home.resolve("target.bin")).hasBinaryContent(OLD);
    }

    @Test
    void resumeOfAMissingFileCreatesItOnlyFromZero() throws IOException {
        assertThatThrownBy(() -> storage.openUpload(virtual("/missing.bin"), UploadMode.RESUME, 1))
                .hasMessageContaining("beyond the end");
        assertThat(home.resolve("missing.bin")).doesNotExist();

        try (Upload upload = storage.openUpload(virtual("/missing.bin"), UploadMode.RESUME, 0)) {
            write(upload, "abc");
            upload.commit();
        }
        assertThat(home.resolve("missing.bin")).hasContent("abc");
    }

    @Test
    void anAbortedAppendIsCutOffAgain() throws IOException {
        FileTime before = Files.getLastModifiedTime(home.resolve("target.bin"));
        try (Upload upload = storage.openUpload(target, UploadMode.APPEND, 0)) {
            write(upload, "+x");
            upload.abort();
        }

        assertThat(home.resolve("target.bin")).hasBinaryContent(OLD);
        assertThat(Files.getLastModifiedTime(home.resolve("target.bin"))).isEqualTo(before);
    }

    @Test
    void anAbortedAppendToANewFileRemovesIt() throws IOException {
        try (Upload upload = storage.openUpload(virtual("/new.log"), UploadMode.APPEND, 0)) {
            write(upload, "first");
            upload.abort();
        }

        assertThat(localNames()).containsExactly("target.bin");
    }

    /** REST n + STOR before the end: the old bytes from n on are kept aside (a hidden temp file) and put back. */
    @Test
    void anAbortedResumeBeforeTheEndPutsTheOldEndBack() throws IOException {
        FileTime before = Files.getLastModifiedTime(home.resolve("target.bin"));
        try (Upload upload = storage.openUpload(target, UploadMode.RESUME, 4)) {
            assertThat(localNames()).as("the old end, kept aside").hasSize(2);
            write(upload, "a longer new end than the old one");
            upload.abort();
        }

        assertThat(home.resolve("target.bin")).hasBinaryContent(OLD);
        assertThat(Files.getLastModifiedTime(home.resolve("target.bin"))).isEqualTo(before);
        assertThat(localNames()).containsExactly("target.bin");
    }

    @Test
    void anAbortedResumeAtTheEndIsCutOffAgain() throws IOException {
        try (Upload upload = storage.openUpload(target, UploadMode.RESUME, OLD.length)) {
            write(upload, "more");
            upload.abort();
        }

        assertThat(home.resolve("target.bin")).hasBinaryContent(OLD);
        assertThat(localNames()).containsExactly("target.bin");
    }

    @Test
    void aCommittedResumeBeforeTheEndLeavesNoTempFile() throws IOException {
        try (Upload upload = storage.openUpload(target, UploadMode.RESUME, 4)) {
            write(upload, "XY");
            upload.commit();
        }

        assertThat(localNames()).containsExactly("target.bin");
    }

    @Test
    void anAbortedUniqueUploadRemovesItsFile() throws IOException {
        VirtualPath unique = storage.createUnique(VirtualPath.ROOT, "target.bin");
        try (Upload upload = storage.openUpload(unique, UploadMode.UNIQUE, 0)) {
            write(upload, "partial");
            upload.abort();
        }

        assertThat(localNames()).containsExactly("target.bin");
    }

    /**
     * Undoing works on the file the upload wrote: another upload that stored a new file under the name
     * meanwhile keeps it, whether the APPE appended to an old file or created the name itself.
     */
    @ParameterizedTest
    @ValueSource(strings = {"/target.bin", "/new.log"})
    void anAbortedAppendLeavesAFileStoredUnderItsNameMeanwhile(String name) throws IOException {
        try (Upload append = storage.openUpload(virtual(name), UploadMode.APPEND, 0)) {
            write(append, "+partial");
            try (Upload replace = storage.openUpload(virtual(name), UploadMode.REPLACE, 0)) {
                write(replace, "a whole new file");
                replace.commit();
            }
            append.abort();
        }

        assertThat(home.resolve(name.substring(1))).hasContent("a whole new file");
    }

    @Test
    void aUniqueUploadNeedsItsFile() {
        assertThatThrownBy(() -> storage.openUpload(virtual("/never-made"), UploadMode.UNIQUE, 0))
                .isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void aCreatingUploadMakesANewFileAndNeverReplacesOne() throws IOException {
        try (Upload upload = storage.openUpload(virtual("/fresh.bin"), UploadMode.CREATE, 0)) {
            write(upload, "dropped");
            upload.commit();
        }
        assertThat(home.resolve("fresh.bin")).hasContent("dropped");

        assertThatThrownBy(() -> storage.openUpload(target, UploadMode.CREATE, 0))
                .isInstanceOf(FileAlreadyExistsException.class).hasMessage("/target.bin");
        assertThatThrownBy(() -> storage.openUpload(virtual("/fresh.bin"), UploadMode.CREATE, 0))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(home.resolve("target.bin")).hasBinaryContent(OLD);
        assertThat(home.resolve("fresh.bin")).hasContent("dropped");
    }

    @Test
    void privateUploadsAre0600WhateverTheServersUmask() throws IOException {
        Storage uploads = new HomeStorage(new FileModes(0)).forPrivateUploads(home);
        try (Upload upload = uploads.openUpload(virtual("/private.bin"), UploadMode.CREATE, 0)) {
            write(upload, "x");
            upload.commit();
        }
        VirtualPath unique = uploads.createUnique(VirtualPath.ROOT, "u");

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("private.bin"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve(unique.name()))))
                .isEqualTo("rw-------");
    }

    /** The precondition is asked after the flush; unmet, every mode leaves the old file as it was. */
    @ParameterizedTest
    @EnumSource(UploadMode.class)
    void anUnmetPreconditionAbortsTheCommit(UploadMode mode) throws IOException {
        VirtualPath path = mode == UploadMode.UNIQUE ? storage.createUnique(VirtualPath.ROOT, "u")
                : mode == UploadMode.CREATE ? virtual("/fresh.bin") : target;
        int[] asked = {0};
        try (Upload upload = storage.openUpload(path, mode, mode == UploadMode.RESUME ? 4 : 0)) {
            write(upload, "new bytes");
            assertThatThrownBy(() -> upload.commit(() -> ++asked[0] == 1 ? "control-closed" : null))
                    .isInstanceOfSatisfying(Upload.PreconditionFailedException.class,
                            e -> assertThat(e.reason()).isEqualTo("control-closed"));
            assertThatThrownBy(upload::commit).hasMessageContaining("aborted");
        }

        assertThat(asked[0]).isEqualTo(1);
        assertThat(home.resolve("target.bin")).hasBinaryContent(OLD);
        assertThat(localNames()).containsExactly("target.bin");
    }

    @ParameterizedTest
    @EnumSource(UploadMode.class)
    void uploadsOntoADirectoryAreRefused(UploadMode mode) throws IOException {
        Files.createDirectory(home.resolve("dir"));

        assertThatThrownBy(() -> storage.openUpload(virtual("/dir"), mode, 0))
                .isInstanceOf(FileSystemException.class)
                .hasMessage("/dir: Is a directory");
        assertThatThrownBy(() -> storage.openUpload(VirtualPath.ROOT, mode, 0))
                .hasMessage("/: Is a directory");
    }

    @ParameterizedTest
    @EnumSource(UploadMode.class)
    void uploadsIntoAMissingDirectoryAreRefused(UploadMode mode) {
        assertThatThrownBy(() -> storage.openUpload(virtual("/no/such.txt"), mode, 0))
                .isExactlyInstanceOf(NoSuchFileException.class)
                .hasMessage("/no/such.txt");
    }

    @Test
    void negativeOffsetsAreABug() {
        assertThatThrownBy(() -> storage.openUpload(target, UploadMode.RESUME, -1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static void write(Upload upload, String text) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(UTF_8));
        while (buffer.hasRemaining()) {
            upload.channel().write(buffer);
        }
    }

    private static byte[] readAll(SeekableByteChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(1024);
        while (channel.read(buffer) > 0) {
            // keep reading
        }
        byte[] bytes = new byte[buffer.position()];
        buffer.flip().get(bytes);
        return bytes;
    }

    private List<String> localNames() throws IOException {
        try (Stream<Path> files = Files.list(home)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }
}
