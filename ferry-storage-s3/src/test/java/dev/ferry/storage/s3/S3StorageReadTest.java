package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.fs.DirectoryListing;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Reading a home on the object store: stat, listings (paged, ordered, implicit directories), ranged reads, the jail. */
class S3StorageReadTest {

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

    private static List<String> names(DirectoryListing listing) throws IOException {
        try (listing) {
            List<String> names = new ArrayList<>();
            for (FileInfo info : listing) {
                names.add(info.name() + (info.isDirectory() ? "/" : ""));
            }
            return names;
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] readAll(SeekableByteChannel ch) throws IOException {
        try (InputStream in = Channels.newInputStream(ch)) {
            return in.readAllBytes();
        }
    }

    @Test
    void statDescribesAFileFromItsObject() throws Exception {
        t.put("srv/stat/docs/report.txt", "hello, world");
        S3Storage home = t.home("stat");

        FileInfo info = home.stat(p("/docs/report.txt"));

        assertThat(info.name()).isEqualTo("report.txt");
        assertThat(info.type()).isEqualTo(FileType.FILE);
        assertThat(info.size()).isEqualTo(12);
        assertThat(info.permissions()).isEqualTo("rw-r--r--");
        assertThat(info.linkCount()).isEqualTo(1);
        assertThat(info.lastModified()).isBetween(Instant.now().minusSeconds(120), Instant.now().plusSeconds(1));
        assertThat(info.uniqueId()).isNotBlank().doesNotContain("srv").doesNotContain("report");
    }

    @Test
    void aDirectoryIsAMarkerOrAnyKeyBelowItAndTheRootAlwaysExists() throws Exception {
        t.put("srv/dirs/explicit/", "");
        t.put("srv/dirs/implicit/deeper/file", "x");
        S3Storage home = t.home("dirs");
        S3Storage empty = t.home("nobody-here");

        for (String dir : List.of("/explicit", "/implicit", "/implicit/deeper")) {
            FileInfo info = home.stat(p(dir));
            assertThat(info.type()).as(dir).isEqualTo(FileType.DIRECTORY);
            assertThat(info.permissions()).isEqualTo("rwxr-xr-x");
        }
        assertThat(empty.stat(VirtualPath.ROOT).type()).isEqualTo(FileType.DIRECTORY);
        assertThat(empty.stat(VirtualPath.ROOT).name()).isEqualTo("/");
        assertThat(names(empty.list(VirtualPath.ROOT))).isEmpty();
        assertThatThrownBy(() -> home.stat(p("/implicit/nothing"))).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/implicit/nothing");
        // a key that merely starts with the name is not below it
        t.put("srv/dirs/implicitly", "y");
        assertThatThrownBy(() -> home.stat(p("/implicitl"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void listShowsPrefixesAsDirectoriesAndObjectsAsFilesWithoutTheMarker() throws Exception {
        t.put("srv/ls/dir/", "");
        t.put("srv/ls/dir/a.txt", "aaa");
        t.put("srv/ls/dir/sub/", "");
        t.put("srv/ls/dir/implicit/x", "x");
        t.put("srv/ls/dir/b.bin", random(1000, 1));
        S3Storage home = t.home("ls");

        List<FileInfo> entries = new ArrayList<>();
        try (DirectoryListing listing = home.list(p("/dir"))) {
            listing.forEach(entries::add);
        }

        assertThat(entries).extracting(FileInfo::name).containsExactly("a.txt", "b.bin", "implicit", "sub");
        assertThat(entries.get(1).size()).isEqualTo(1000);
        assertThat(entries.get(1).type()).isEqualTo(FileType.FILE);
        assertThat(entries.get(2).type()).isEqualTo(FileType.DIRECTORY);
        // the listing and stat describe an entry alike (MLSD and MLST)
        assertThat(home.stat(p("/dir/b.bin"))).isEqualTo(entries.get(1));
        assertThat(home.stat(p("/dir/sub"))).isEqualTo(entries.get(3));
    }

    @Test
    void listOfAFileOrOfNothingFails() throws Exception {
        t.put("srv/lsfail/file.txt", "x");
        S3Storage home = t.home("lsfail");

        assertThatThrownBy(() -> home.list(p("/file.txt"))).isInstanceOf(NotDirectoryException.class)
                .hasMessage("/file.txt");
        assertThatThrownBy(() -> home.list(p("/missing"))).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/missing");
    }

    @Test
    void aListingOverManyPagesIsStreamedInKeyOrderWithOneRequestPerPage() throws Exception {
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 23; i++) {
            String name = String.format("f%02d", i);
            t.put("srv/pages/big/" + name, "x");
            expected.add(name);
        }
        for (int i = 0; i < 5; i++) {
            String name = String.format("f%02d-d", i * 5);
            t.put("srv/pages/big/" + name + "/inside", "x");
            expected.add(name + "/");
        }
        t.put("srv/pages/big/", "");
        expected.sort(Keys.ORDER);
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("pages", t.client(requests));
        home.pageSize(4);

        List<String> names = new ArrayList<>();
        try (DirectoryListing listing = home.list(p("/big"))) {
            assertThat(requests.count("ListObjectsV2")).as("only the first page at open").isEqualTo(1);
            var it = listing.iterator();
            for (int i = 0; i < 3; i++) {
                FileInfo info = it.next();
                names.add(info.name() + (info.isDirectory() ? "/" : ""));
            }
            assertThat(requests.count("ListObjectsV2")).as("pages are fetched as the iteration reaches them")
                    .isLessThanOrEqualTo(2);
            it.forEachRemaining(info -> names.add(info.name() + (info.isDirectory() ? "/" : "")));
        }

        // 28 entries and the marker, at most 4 a page
        assertThat(requests.count("ListObjectsV2")).isGreaterThanOrEqualTo(8);
        assertThat(requests.count("HeadObject")).as("no request per entry").isZero();
        assertThat(names).containsExactlyElementsOf(expected);
    }

    @Test
    void namesAreInKeyOrderADirectoryAfterNamesThatExtendItBelowSlash() throws Exception {
        for (String key : List.of("a.txt", "a b", "a/inside", "b", "Z", "é", "\uE000", "\uD83D\uDE00", "a-")) {
            t.put("srv/order/" + key, "x");
        }
        S3Storage home = t.home("order");

        // code-point order, but the directory "a" sorts as "a/": after "a b", "a-", "a.txt" (all below '/')
        assertThat(names(home.list(VirtualPath.ROOT)))
                .containsExactly("Z", "a b", "a-", "a.txt", "a/", "b", "é", "\uE000", "\uD83D\uDE00");
    }

    @Test
    void namesWithSpacesAndUtf8AreReadListedAndStatted() throws Exception {
        byte[] content = "Grüße aus Zürich".getBytes(StandardCharsets.UTF_8);
        t.put("srv/utf/dir with space/naïve 文件 +%20.txt", content);
        S3Storage home = t.home("utf");

        assertThat(names(home.list(p("/dir with space")))).containsExactly("naïve 文件 +%20.txt");
        VirtualPath file = p("/dir with space/naïve 文件 +%20.txt");
        assertThat(home.stat(file).size()).isEqualTo(content.length);
        assertThat(readAll(home.openRead(file, 0))).isEqualTo(content);
    }

    @Test
    void keysThatAreNoValidNameAreNotListed() throws Exception {
        t.put("srv/odd/ok", "x");
        t.put("srv/odd/a//b", "x");
        t.put("srv/odd/../escape", "x");
        t.put("srv/odd/ctl\u0001name", "x");
        S3Storage home = t.home("odd");

        assertThat(names(home.list(VirtualPath.ROOT))).containsExactly("a/", "ok");
        assertThat(names(home.list(p("/a")))).isEmpty();
    }

    @Test
    void readsFromOffsetsZeroMiddleAndEnd() throws Exception {
        byte[] content = random(300_000, 2);
        t.put("srv/read/data.bin", content);
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("read", t.client(requests));
        VirtualPath file = p("/data.bin");

        try (SeekableByteChannel ch = home.openRead(file, 0)) {
            assertThat(ch.size()).isEqualTo(300_000);
            assertThat(ch.position()).isZero();
            assertThat(readAll(ch)).isEqualTo(content);
        }
        try (SeekableByteChannel ch = home.openRead(file, 123_456)) {
            assertThat(ch.size()).isEqualTo(300_000);
            assertThat(ch.position()).isEqualTo(123_456);
            assertThat(readAll(ch)).isEqualTo(Arrays.copyOfRange(content, 123_456, 300_000));
        }
        assertThat(requests.ranges).containsExactly("bytes=123456-");
        for (long end : List.of(300_000L, 400_000L)) {
            try (SeekableByteChannel ch = home.openRead(file, end)) {
                assertThat(ch.size()).isEqualTo(300_000);
                assertThat(ch.read(ByteBuffer.allocate(10))).isEqualTo(-1);
            }
        }
    }

    @Test
    void aRestAfterOpeningAtZeroReadsFromThereWithARangeAndADirectBuffer() throws Exception {
        byte[] content = random(200_000, 3);
        t.put("srv/rest/data.bin", content);
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("rest", t.client(requests));

        // what RETR does: open at 0, ask the size, move to the REST offset, read
        try (SeekableByteChannel ch = home.openRead(p("/data.bin"), 0)) {
            long size = ch.size();
            ch.position(150_000);
            ByteBuffer direct = ByteBuffer.allocateDirect(8192);
            ByteBuffer all = ByteBuffer.allocate((int) (size - 150_000));
            while (ch.read(direct.clear()) > 0) {
                all.put(direct.flip());
            }
            assertThat(all.hasRemaining()).isFalse();
            assertThat(all.array()).isEqualTo(Arrays.copyOfRange(content, 150_000, 200_000));
            assertThat(ch.position()).isEqualTo(200_000);
        }
        assertThat(requests.count("GetObject")).isEqualTo(2);
        assertThat(requests.ranges).containsExactly("bytes=150000-");
    }

    @Test
    void anEmptyObjectReadsEmpty() throws Exception {
        t.put("srv/emptyread/zero", new byte[0]);
        S3Storage home = t.home("emptyread");

        try (SeekableByteChannel ch = home.openRead(p("/zero"), 0)) {
            assertThat(ch.size()).isZero();
            assertThat(ch.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        }
    }

    @Test
    void closingMidObjectStopsTheStreamAndTheChannel() throws Exception {
        t.put("srv/abort/big.bin", random(6 * 1024 * 1024, 4));
        S3Storage home = t.home("abort");

        SeekableByteChannel ch = home.openRead(p("/big.bin"), 0);
        assertThat(ch.read(ByteBuffer.allocate(1000))).isEqualTo(1000);
        long start = System.nanoTime();
        ch.close();
        assertThat(System.nanoTime() - start).as("close does not read the rest").isLessThan(2_000_000_000L);
        assertThat(ch.isOpen()).isFalse();
        assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(10))).isInstanceOf(ClosedChannelException.class);
        // the store still answers
        assertThat(home.stat(p("/big.bin")).size()).isEqualTo(6 * 1024 * 1024);
    }

    @Test
    void aDownloadSlowerThanTheRequestTimeoutIsNotCut() throws Exception {
        byte[] content = random(2 * 1024 * 1024, 9);
        t.put("srv/slow/f.bin", content);
        // the timeout bounds each request until its answer starts, and each socket read; a client reading slowly
        // (a slow FTP data connection) takes longer than that in all
        var store = t.store.withRequestTimeout(Duration.ofMillis(500));
        try (var client = S3Clients.build(store)) {
            S3Storage home = new S3Storage(client, store, "srv/slow/", t.engine.budget(), t.engine.log());
            ByteArrayOutputStream read = new ByteArrayOutputStream();
            long start = System.nanoTime();
            try (SeekableByteChannel ch = home.openRead(p("/f.bin"), 0)) {
                ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
                while (ch.read(buf.clear()) > 0) {
                    read.write(buf.array(), 0, buf.position());
                    Thread.sleep(150);
                }
            }
            assertThat(System.nanoTime() - start).isGreaterThan(Duration.ofMillis(1000).toNanos());
            assertThat(read.toByteArray()).isEqualTo(content);
        }
    }

    @Test
    void openReadOfADirectoryOrNothingFails() throws Exception {
        t.put("srv/readfail/dir/file", "x");
        S3Storage home = t.home("readfail");

        assertThatThrownBy(() -> home.openRead(p("/dir"), 0)).isInstanceOf(FileSystemException.class)
                .isNotInstanceOf(NoSuchFileException.class).hasMessage("/dir: Is a directory");
        assertThatThrownBy(() -> home.openRead(VirtualPath.ROOT, 0)).hasMessage("/: Is a directory");
        assertThatThrownBy(() -> home.openRead(p("/missing"), 0)).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/missing");
        assertThatThrownBy(() -> home.openRead(p("/missing"), 10)).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/missing");
    }

    @Test
    void aFileReplacedWhileBeingReadFailsTheReadInsteadOfMixingVersions() throws Exception {
        t.put("srv/replaced/f", random(100_000, 5));
        S3Storage home = t.home("replaced");

        try (SeekableByteChannel ch = home.openRead(p("/f"), 0)) {
            ch.position(50_000);
            t.put("srv/replaced/f", random(100_000, 6));
            assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(10))).isInstanceOf(FileSystemException.class)
                    .hasMessage("/f: the file was replaced while it was being read");
        }
    }

    @Test
    void theJailKeepsAHomeToItsPrefix() throws Exception {
        t.put("srv/bob/secret.txt", "bob's");
        t.put("srv/alice2/other.txt", "alice2's");
        t.put("srv/alice/mine.txt", "alice's");
        S3Storage alice = t.home("alice");

        // ".." is resolved lexically and stops at the home's root
        VirtualPath escape = VirtualPath.resolve(VirtualPath.ROOT, "../bob/secret.txt");
        assertThat(escape).hasToString("/bob/secret.txt");
        assertThatThrownBy(() -> alice.stat(escape)).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/bob/secret.txt");
        assertThatThrownBy(() -> alice.openRead(escape, 0)).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/bob/secret.txt");
        assertThat(names(alice.list(VirtualPath.resolve(VirtualPath.ROOT, "../..")))).containsExactly("mine.txt");
        // another home whose name merely starts with this one's is not inside it
        assertThatThrownBy(() -> alice.stat(p("/../alice2/other.txt"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void aHomeAtTheTopOfTheBucketListsWithoutAMarker() throws Exception {
        t.put("top-level.txt", "x");
        S3Storage whole = new S3Storage(t.client(), t.store.withPrefix(""), "", t.engine.budget(), t.engine.log());

        assertThat(names(whole.list(VirtualPath.ROOT))).contains("srv/", "top-level.txt");
        assertThat(whole.stat(p("/top-level.txt")).size()).isEqualTo(1);
    }

    @Test
    void anUnreachableStoreIsAnIOExceptionNamingThePathOnly() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        var store = t.store.withEndpoint(URI.create("http://127.0.0.1:" + closedPort));
        try (var client = S3Clients.build(store)) {
            S3Storage home = new S3Storage(client, store, "srv/gone/", t.engine.budget(), t.engine.log());
            assertThatThrownBy(() -> home.stat(p("/x"))).isInstanceOf(IOException.class)
                    .isNotInstanceOf(NoSuchFileException.class)
                    .hasMessage("/x: the store cannot be reached (connection refused)");
            assertThatThrownBy(() -> home.list(VirtualPath.ROOT)).isInstanceOf(IOException.class)
                    .hasMessage("/: the store cannot be reached (connection refused)");
        }
    }

    @Test
    void refusedCredentialsAreAccessDenied() throws Exception {
        try (var client = t.client(new S3TestStore.Requests(), "wrong-secret")) {
            S3Storage home = t.home("denied", client);
            assertThatThrownBy(() -> home.list(p("/x"))).isInstanceOf(AccessDeniedException.class).hasMessage("/x");
        }
    }

    @Test
    void aPageThatFailsMidListingIsAnUncheckedIOExceptionNamingTheDirectory() throws Exception {
        for (int i = 0; i < 6; i++) {
            t.put("srv/midlist/d/f" + i, "x");
        }
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("midlist", t.client(requests));
        home.pageSize(2);

        try (DirectoryListing listing = home.list(p("/d"))) {
            var it = listing.iterator();
            assertThat(it.next().name()).isEqualTo("f0");
            assertThat(it.next().name()).isEqualTo("f1");
            requests.failWhen(r -> true);
            assertThatThrownBy(it::hasNext).isInstanceOf(UncheckedIOException.class)
                    .cause().hasMessage("/d: the store cannot be reached");
        }
    }
}
