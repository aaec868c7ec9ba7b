package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.testkit.S3ProxyServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;

/** Renames on the object store: copy then delete, in parts above the threshold, directories key by key. */
class S3StorageRenameTest {

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

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aFileMovesAndReplacesAFileAtTheTarget() throws Exception {
        t.put("srv/mv/a.txt", "new");
        t.put("srv/mv/dir/b.txt", "old");
        S3Storage home = t.home("mv");

        home.rename(p("/a.txt"), p("/dir/b.txt"));

        assertThat(t.exists("srv/mv/a.txt")).isFalse();
        assertThat(new String(t.get("srv/mv/dir/b.txt"), StandardCharsets.UTF_8)).isEqualTo("new");
        // renaming to itself changes nothing
        home.rename(p("/dir/b.txt"), p("/dir/b.txt"));
        assertThat(t.exists("srv/mv/dir/b.txt")).isTrue();
    }

    @Test
    void namesWithSpacesAndUtf8AreCopiedWithTheirMetadata() throws Exception {
        byte[] content = "Grüße".getBytes(StandardCharsets.UTF_8);
        t.client().putObject(b -> b.bucket(S3ProxyServer.BUCKET).key("srv/mvutf/dir one/naïve 文件 +%.txt")
                .contentType("text/plain; charset=utf-8"), RequestBody.fromBytes(content));
        S3Storage home = t.home("mvutf");

        home.rename(p("/dir one/naïve 文件 +%.txt"), p("/dir one/другой файл & co.txt"));

        assertThat(t.get("srv/mvutf/dir one/другой файл & co.txt")).isEqualTo(content);
        assertThat(t.head("srv/mvutf/dir one/другой файл & co.txt").contentType()).startsWith("text/plain");
        assertThat(t.keys("srv/mvutf/")).containsExactly("srv/mvutf/dir one/другой файл & co.txt");
    }

    @Test
    void renameRefusesTheRootDirectoriesAsTargetsAndMissingSources() throws Exception {
        t.put("srv/mvfail/f", "x");
        t.put("srv/mvfail/g", "x");
        t.put("srv/mvfail/d/inside", "x");
        t.put("srv/mvfail/e/", "");
        S3Storage home = t.home("mvfail");

        assertThatThrownBy(() -> home.rename(VirtualPath.ROOT, p("/x"))).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> home.rename(p("/f"), VirtualPath.ROOT)).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> home.rename(p("/missing"), p("/x"))).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/missing");
        assertThatThrownBy(() -> home.rename(p("/f"), p("/d"))).isInstanceOf(FileSystemException.class)
                .hasMessage("/d: Is a directory");
        assertThatThrownBy(() -> home.rename(p("/f"), p("/e"))).hasMessage("/e: Is a directory");
        assertThatThrownBy(() -> home.rename(p("/d"), p("/g"))).isInstanceOf(NotDirectoryException.class)
                .hasMessage("/g");
        assertThatThrownBy(() -> home.rename(p("/d"), p("/d/sub"))).isInstanceOf(FileSystemException.class)
                .hasMessage("/d -> /d/sub: Cannot move a directory into itself");
        assertThatThrownBy(() -> home.rename(p("/f"), p("/nowhere/f"))).isInstanceOf(NoSuchFileException.class)
                .hasMessage("/nowhere/f");
        assertThat(t.keys("srv/mvfail/")).containsExactly("srv/mvfail/d/inside", "srv/mvfail/e/", "srv/mvfail/f",
                "srv/mvfail/g");
    }

    @Test
    void anObjectAboveTheThresholdIsCopiedInPartsInParallel() throws Exception {
        byte[] content = random(12 * 1024 * 1024 + 12345, 7);
        t.client().putObject(b -> b.bucket(S3ProxyServer.BUCKET).key("srv/mvbig/big.bin")
                .contentType("application/x-test"), RequestBody.fromBytes(content));
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("mvbig", t.client(requests));
        home.copyThreshold(1024 * 1024);

        home.rename(p("/big.bin"), p("/moved.bin"));

        // 5 MiB parts (the store's part size): 5 + 5 + 2 MiB and a bit
        assertThat(requests.count("UploadPartCopy")).isEqualTo(3);
        assertThat(requests.mostInFlight("UploadPartCopy")).isBetween(1, 3);
        assertThat(requests.count("CopyObject")).isZero();
        assertThat(requests.count("CompleteMultipartUpload")).isEqualTo(1);
        assertThat(t.get("srv/mvbig/moved.bin")).isEqualTo(content);
        assertThat(t.head("srv/mvbig/moved.bin").contentType()).isEqualTo("application/x-test");
        assertThat(t.exists("srv/mvbig/big.bin")).isFalse();
    }

    @Test
    void aFailedPartAbortsTheMultipartCopyAndLeavesTheSource() throws Exception {
        byte[] content = random(11 * 1024 * 1024, 8);
        t.put("srv/mvbigfail/big.bin", content);
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("mvbigfail", t.client(requests));
        home.copyThreshold(1024 * 1024);
        AtomicInteger parts = new AtomicInteger();
        requests.failWhen(r -> S3TestStore.Requests.operation(r).equals("UploadPartCopy") && parts.incrementAndGet() == 2);

        assertThatThrownBy(() -> home.rename(p("/big.bin"), p("/moved.bin"))).isInstanceOf(FileSystemException.class)
                .hasMessage("/big.bin: the store cannot be reached");

        assertThat(requests.count("AbortMultipartUpload")).isEqualTo(1);
        assertThat(t.get("srv/mvbigfail/big.bin")).isEqualTo(content);
        assertThat(t.exists("srv/mvbigfail/moved.bin")).isFalse();
    }

    @Test
    void partSizesGrowToStayWithinTenThousandParts() {
        S3Copy copy = new S3Copy(t.client(), S3ProxyServer.BUCKET, 8L << 20, 4, S3Copy.DEFAULT_THRESHOLD);
        assertThat(copy.partSizeFor(1L << 30)).isEqualTo(8L << 20);
        long fiveTerabytes = 5L << 40;
        long part = copy.partSizeFor(fiveTerabytes);
        assertThat((fiveTerabytes + part - 1) / part).isLessThanOrEqualTo(S3Copy.MAX_PARTS);
        assertThat(part % (1 << 20)).isZero();
    }

    @Test
    void aDirectoryMovesKeyByKeyOverSeveralPagesWithItsMarkers() throws Exception {
        List<String> relative = new ArrayList<>();
        relative.add("");
        relative.add("sub/");
        for (int i = 0; i < 40; i++) {
            relative.add("f" + i);
            relative.add("sub/g " + i);
        }
        relative.add("sub/deeper/é");
        for (String r : relative) {
            t.put("srv/mvdir/from/" + r, r.endsWith("/") || r.isEmpty() ? "" : "content of " + r);
        }
        t.put("srv/mvdir/other/", "");
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("mvdir", t.client(requests));
        home.pageSize(7);

        home.rename(p("/from"), p("/other/to"));

        assertThat(t.keys("srv/mvdir/from/")).isEmpty();
        List<String> expected = new ArrayList<>(relative.stream().map(r -> "srv/mvdir/other/to/" + r).toList());
        expected.add("srv/mvdir/other/");
        assertThat(t.keys("srv/mvdir/other/")).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(new String(t.get("srv/mvdir/other/to/sub/g 7"), StandardCharsets.UTF_8)).isEqualTo("content of sub/g 7");
        assertThat(home.stat(p("/other/to/sub/deeper")).type()).isEqualTo(FileType.DIRECTORY);
        // 83 keys, 7 a page (12 pages): one copy and one delete per key
        assertThat(requests.count("CopyObject")).isEqualTo(relative.size());
        assertThat(requests.count("DeleteObject")).isEqualTo(relative.size());
        assertThat(requests.mostInFlight("CopyObject")).isLessThanOrEqualTo(t.store.partsInFlight());
    }

    @Test
    void aDirectoryRenameThatFailsMidwaySaysHowManyObjectsMovedAndLeavesTheRest() throws Exception {
        for (int i = 0; i < 20; i++) {
            t.put(String.format("srv/mvhalf/a/f%02d", i), "x" + i);
        }
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("mvhalf", t.client(requests));
        home.pageSize(5);
        AtomicInteger copies = new AtomicInteger();
        // the 13th copy fails: pages 1 and 2 (10 keys) have moved, page 3 is under way
        requests.failWhen(r -> r instanceof CopyObjectRequest && copies.incrementAndGet() == 13);

        assertThatThrownBy(() -> home.rename(p("/a"), p("/b"))).isInstanceOf(FileSystemException.class)
                .hasMessage("/a -> /b: rename stopped after 10 objects moved (the store cannot be reached);"
                        + " the rest is still in /a")
                .hasMessageNotContaining("srv").hasMessageNotContaining(S3ProxyServer.BUCKET);

        List<String> old = t.keys("srv/mvhalf/a/");
        List<String> moved = t.keys("srv/mvhalf/b/");
        assertThat(moved).hasSize(10).allMatch(k -> k.compareTo("srv/mvhalf/b/f10") < 0);
        assertThat(old).hasSize(10).allMatch(k -> k.compareTo("srv/mvhalf/a/f10") >= 0);
        // both names are directories now, each listing what it holds
        assertThat(home.stat(p("/a")).type()).isEqualTo(FileType.DIRECTORY);
        assertThat(home.stat(p("/b")).type()).isEqualTo(FileType.DIRECTORY);

        // once the store is back the rename can be finished by renaming again... into the existing directory
        requests.failWhen(r -> false);
        assertThatThrownBy(() -> home.rename(p("/a"), p("/b"))).hasMessage("/b: Is a directory");
    }

    @Test
    void aFirstPageThatFailsIsThePlainFailureAndLeavesNoCopies() throws Exception {
        for (int i = 0; i < 6; i++) {
            t.put("srv/mvnone/a/f" + i, "x");
        }
        var requests = new S3TestStore.Requests();
        S3Storage home = t.home("mvnone", t.client(requests));
        AtomicInteger copies = new AtomicInteger();
        requests.failWhen(r -> r instanceof CopyObjectRequest && copies.incrementAndGet() == 4);

        assertThatThrownBy(() -> home.rename(p("/a"), p("/b"))).isInstanceOf(FileSystemException.class)
                .hasMessage("/a: the store cannot be reached");

        assertThat(t.keys("srv/mvnone/a/")).hasSize(6);
        assertThat(t.keys("srv/mvnone/b/")).as("the copies of the failed page are removed").isEmpty();
    }

    @Test
    void movingAwayTheLastEntryKeepsAnImplicitDirectory() throws Exception {
        t.put("srv/mvkeep/src/only.txt", "x");
        t.put("srv/mvkeep/dst/", "");
        S3Storage home = t.home("mvkeep");

        home.rename(p("/src/only.txt"), p("/dst/only.txt"));

        assertThat(home.stat(p("/src")).type()).isEqualTo(FileType.DIRECTORY);
        assertThat(t.keys("srv/mvkeep/")).containsExactly("srv/mvkeep/dst/", "srv/mvkeep/dst/only.txt",
                "srv/mvkeep/src/");
    }
}
