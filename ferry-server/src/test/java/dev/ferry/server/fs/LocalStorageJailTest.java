package dev.ferry.server.fs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The jail: nothing a client sends reaches outside the home, through "..", links or look-alike
 * sibling directories, and no error tells where the home is.
 */
class LocalStorageJailTest {
    @TempDir
    Path tmp;
    Path home;
    Path outside;
    Path sibling;
    LocalStorage storage;

    /**
     * tmp/home       the jail: file.txt, dir/inner.txt, links in and out
     * tmp/homeb      a sibling whose path has the home's path as a string prefix
     * tmp/outside    secret.txt
     */
    @BeforeEach
    void layout() throws IOException {
        home = Files.createDirectory(tmp.resolve("home"));
        sibling = Files.createDirectory(tmp.resolve("homeb"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "secret");
        Files.writeString(sibling.resolve("sibling.txt"), "sibling");
        Files.writeString(home.resolve("file.txt"), "hello");
        Files.createDirectory(home.resolve("dir"));
        Files.writeString(home.resolve("dir/inner.txt"), "inner");
        Files.createSymbolicLink(home.resolve("dirLink"), Path.of("dir"));
        Files.createSymbolicLink(home.resolve("fileLink"), Path.of("file.txt"));
        Files.createSymbolicLink(home.resolve("escapeDir"), outside);
        Files.createSymbolicLink(home.resolve("escapeFile"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(home.resolve("escapeRelative"), Path.of("../outside"));
        Files.createSymbolicLink(home.resolve("toSibling"), sibling);
        Files.createSymbolicLink(home.resolve("dangling"), tmp.resolve("nowhere"));
        Files.createSymbolicLink(home.resolve("loop"), Path.of("loop"));
        storage = new LocalStorage(home);
    }

    static Stream<String> unreachable() {
        return Stream.of("/escapeDir", "/escapeDir/secret.txt", "/escapeFile", "/escapeRelative/secret.txt",
                "/toSibling", "/toSibling/sibling.txt", "/dangling", "/loop", "/../homeb/sibling.txt",
                "/../outside/secret.txt", "/dir/../../outside", "/missing", "/file.txt/below");
    }

    @ParameterizedTest
    @MethodSource("unreachable")
    void statOfAnythingOutsideIsNoSuchFile(String path) {
        assertThatThrownBy(() -> storage.stat(VirtualPath.of(path)))
                .isExactlyInstanceOf(NoSuchFileException.class)
                .hasMessage(virtual(path).toString());
    }

    @ParameterizedTest
    @MethodSource("unreachable")
    void nothingOutsideCanBeListedOrRead(String path) {
        VirtualPath p = virtual(path);
        assertThatThrownBy(() -> storage.list(p)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.openRead(p, 0)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.setLastModified(p, Instant.EPOCH)).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void uploadsThroughOrOntoOutsideLinksAreRefused() throws IOException {
        for (UploadMode mode : UploadMode.values()) {
            assertThatThrownBy(() -> storage.openUpload(virtual("/escapeDir/new.txt"), mode, 0))
                    .isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> storage.openUpload(virtual("/escapeFile"), mode, 0))
                    .isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> storage.openUpload(virtual("/dangling"), mode, 0))
                    .isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> storage.openUpload(virtual("/toSibling/sibling.txt"), mode, 0))
                    .isInstanceOf(NoSuchFileException.class);
        }
        assertThat(outside.resolve("new.txt")).doesNotExist();
        assertThat(tmp.resolve("nowhere")).doesNotExist();
        assertOutsideUntouched();
    }

    @Test
    void renameAndCreateThroughOutsideLinksAreRefused() throws IOException {
        assertThatThrownBy(() -> storage.rename(virtual("/file.txt"), virtual("/escapeFile")))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.rename(virtual("/file.txt"), virtual("/escapeDir/stolen.txt")))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.rename(virtual("/escapeFile"), virtual("/mine.txt")))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.createDirectory(virtual("/escapeDir/newdir")))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.createDirectory(virtual("/escapeDir")))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.createUnique(virtual("/escapeDir"), "x"))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.delete(virtual("/escapeDir/secret.txt")))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.removeDirectory(virtual("/escapeDir")))
                .isInstanceOf(NoSuchFileException.class);

        assertThat(home.resolve("file.txt")).hasContent("hello");
        assertThat(outside.resolve("newdir")).doesNotExist();
        assertThat(outside.resolve("stolen.txt")).doesNotExist();
        assertOutsideUntouched();
    }

    /**
     * Jail.withoutLinks checks every name from the root each time, not a directory resolved earlier: a directory
     * read once and then swapped for a link leading out (or moved out with a link left in its place) is refused.
     */
    @Test
    void aDirectoryReplacedByALinkLeadingOutIsRefusedAfterItWasRead() throws Exception {
        Files.writeString(outside.resolve("inner.txt"), "outside");
        VirtualPath inner = VirtualPath.of("/dir/inner.txt");
        try (var in = storage.openRead(inner, 0)) {
            assertThat(in.size()).isEqualTo(5);
        }

        Files.move(home.resolve("dir"), tmp.resolve("moved"));
        Files.createSymbolicLink(home.resolve("dir"), outside);

        assertThatThrownBy(() -> storage.openRead(inner, 0)).isExactlyInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.stat(inner)).isExactlyInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> storage.list(VirtualPath.of("/dir"))).isInstanceOf(NoSuchFileException.class);

        Files.delete(home.resolve("dir"));
        Files.createSymbolicLink(home.resolve("dir"), tmp.resolve("moved"));
        assertThatThrownBy(() -> storage.openRead(inner, 0)).as("the same directory, now outside")
                .isExactlyInstanceOf(NoSuchFileException.class);
    }

    /** The same for the root itself: a home swapped for a link is jailed at the real path it had. */
    @Test
    void aHomeReplacedByALinkAfterTheStartServesNothingFromTheLinksTarget() throws Exception {
        assertThat(storage.stat(VirtualPath.of("/file.txt")).size()).isEqualTo(5);
        Files.writeString(outside.resolve("file.txt"), "outside");

        Files.move(home, tmp.resolve("home-moved"));
        Files.createSymbolicLink(home, outside);

        assertThatThrownBy(() -> storage.openRead(VirtualPath.of("/file.txt"), 0))
                .isExactlyInstanceOf(NoSuchFileException.class);
    }

    @Test
    void linksThatStayInsideWork() throws IOException {
        assertThat(storage.stat(virtual("/dirLink")).type()).isEqualTo(FileType.DIRECTORY);
        assertThat(names(storage.list(virtual("/dirLink")))).containsExactly("inner.txt");
        assertThat(read(virtual("/dirLink/inner.txt"))).isEqualTo("inner");
        assertThat(read(virtual("/fileLink"))).isEqualTo("hello");
        // RFC 3659 §7.5.2: two names of one object share the unique fact
        assertThat(storage.stat(virtual("/fileLink")).uniqueId()).isEqualTo(storage.stat(virtual("/file.txt")).uniqueId());
        assertThat(storage.stat(virtual("/fileLink")).name()).isEqualTo("fileLink");

        try (Upload upload = storage.openUpload(virtual("/dirLink/new.txt"), UploadMode.REPLACE, 0)) {
            upload.channel().write(ByteBuffer.wrap("new".getBytes(UTF_8)));
            upload.commit();
        }
        assertThat(home.resolve("dir/new.txt")).hasContent("new");
    }

    @Test
    void listingsHideEverythingOutside() throws IOException {
        assertThat(names(storage.list(VirtualPath.ROOT)))
                .containsExactlyInAnyOrder("file.txt", "dir", "dirLink", "fileLink");
    }

    @Test
    void aLinkToTheHomeItselfStaysInside() throws IOException {
        Files.createSymbolicLink(home.resolve("self"), home);

        assertThat(storage.stat(virtual("/self/self/file.txt")).size()).isEqualTo(5);
    }

    @Test
    void aHomeReachedThroughALinkIsJailedAtItsRealPath() throws IOException {
        Path linkedHome = Files.createSymbolicLink(tmp.resolve("linkedHome"), home);
        LocalStorage viaLink = new LocalStorage(linkedHome);

        assertThat(viaLink.stat(virtual("/file.txt")).size()).isEqualTo(5);
        assertThatThrownBy(() -> viaLink.stat(virtual("/escapeFile"))).isInstanceOf(NoSuchFileException.class);
    }

    /** Every failing operation, for the check that no message names a local path. */
    static Stream<Named<StorageCall>> failingCalls() {
        return Stream.of(
                Named.of("stat missing", s -> s.stat(virtual("/missing/x"))),
                Named.of("stat escape", s -> s.stat(virtual("/escapeDir/secret.txt"))),
                Named.of("list a file", s -> s.list(virtual("/file.txt"))),
                Named.of("read a directory", s -> s.openRead(virtual("/dir"), 0)),
                Named.of("read loop", s -> s.openRead(virtual("/loop"), 0)),
                Named.of("upload into a file", s -> s.openUpload(virtual("/file.txt/x"), UploadMode.REPLACE, 0)),
                Named.of("upload onto a directory", s -> s.openUpload(virtual("/dir"), UploadMode.APPEND, 0)),
                Named.of("resume beyond end", s -> s.openUpload(virtual("/file.txt"), UploadMode.RESUME, 99)),
                Named.of("mkdir existing", s -> s.createDirectory(virtual("/dir"))),
                Named.of("mkdir below a file", s -> s.createDirectory(virtual("/file.txt/d"))),
                Named.of("rmdir non-empty", s -> s.removeDirectory(virtual("/dir"))),
                Named.of("rmdir a file", s -> s.removeDirectory(virtual("/file.txt"))),
                Named.of("rmdir root", s -> s.removeDirectory(VirtualPath.ROOT)),
                Named.of("delete a directory", s -> s.delete(virtual("/dir"))),
                Named.of("delete missing", s -> s.delete(virtual("/missing"))),
                Named.of("rename over a directory", s -> s.rename(virtual("/file.txt"), virtual("/dir"))),
                Named.of("rename into itself", s -> s.rename(virtual("/dir"), virtual("/dir/sub"))),
                Named.of("rename a dir over a file", s -> s.rename(virtual("/dir"), virtual("/file.txt"))),
                Named.of("rename root", s -> s.rename(VirtualPath.ROOT, virtual("/x"))),
                Named.of("rename missing", s -> s.rename(virtual("/missing"), virtual("/x"))),
                Named.of("unique in a file", s -> s.createUnique(virtual("/file.txt"), "x")));
    }

    @ParameterizedTest
    @MethodSource("failingCalls")
    void errorsNeverNameTheLocalPath(StorageCall call) {
        List<String> locals = List.of(tmp.toString(), home.toString(), tmp.toAbsolutePath().toString(), "home");
        Throwable thrown = null;
        try {
            call.run(storage);
        } catch (Throwable t) {
            thrown = t;
        }
        assertThat(thrown).isInstanceOf(IOException.class);
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            for (String local : locals) {
                assertThat(t.getMessage()).doesNotContain(local);
                assertThat(t.toString()).doesNotContain(local);
            }
        }
    }

    @FunctionalInterface
    interface StorageCall {
        void run(Storage storage) throws Exception;
    }

    private void assertOutsideUntouched() throws IOException {
        assertThat(outside.resolve("secret.txt")).hasContent("secret");
        assertThat(sibling.resolve("sibling.txt")).hasContent("sibling");
        try (Stream<Path> files = Files.list(outside)) {
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("secret.txt");
        }
    }

    private String read(VirtualPath path) throws IOException {
        try (var channel = storage.openRead(path, 0)) {
            ByteBuffer buffer = ByteBuffer.allocate(100);
            channel.read(buffer);
            return new String(buffer.array(), 0, buffer.position(), UTF_8);
        }
    }

    static List<String> names(DirectoryListing listing) throws IOException {
        List<String> names = new ArrayList<>();
        try (listing) {
            listing.forEach(f -> names.add(f.name()));
        }
        return names;
    }

    static VirtualPath virtual(String path) {
        try {
            return VirtualPath.of(path);
        } catch (InvalidVirtualPathException e) {
            throw new AssertionError(e);
        }
    }
}
