package dev.ferry.storage.s3;

import static dev.ferry.storage.s3.UploadFixture.MIB;
import static dev.ferry.storage.s3.UploadFixture.PART;
import static dev.ferry.storage.s3.UploadFixture.concat;
import static dev.ferry.storage.s3.UploadFixture.get;
import static dev.ferry.storage.s3.UploadFixture.multipartUploads;
import static dev.ferry.storage.s3.UploadFixture.put;
import static dev.ferry.storage.s3.UploadFixture.random;
import static dev.ferry.storage.s3.UploadFixture.sha256;
import static dev.ferry.storage.s3.UploadFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.testkit.S3ProxyServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Uploads against a real S3 API (S3Proxy in memory): every mode, the multipart and single-PUT paths, what a
 * failure leaves (the old object, no multipart upload, the budget all back), and the budget's bound.
 */
class S3UploadTest {

    private static S3ProxyServer s3;
    private static S3Engine engine;
    private static ObjectStore store;
    private static S3Client client;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.inMemory("127.0.0.1");
        store = UploadFixture.store(s3.endpoint(), UploadFixture.credentials(dir), 64L * MIB, Duration.ofSeconds(20));
        engine = S3Engine.open(store, dir);
        client = engine.client();
    }

    @AfterAll
    static void stop() throws Exception {
        engine.close();
        s3.close();
    }

    @AfterEach
    void nothingLeft() {
        assertThat(multipartUploads(client)).as("multipart uploads left").isEmpty();
        assertThat(engine.budget().inUse()).as("budget in use").isZero();
    }

    private static Upload open(String path, UploadMode mode, long offset) throws IOException {
        return UploadFixture.open(engine, store, path, mode, offset);
    }

    private static long store(String path, UploadMode mode, long offset, byte[] data) throws IOException {
        try (Upload upload = open(path, mode, offset)) {
            write(upload, data);
            return upload.commit();
        }
    }

    /**
     * Waits until the store lists the upload under way (S3Proxy lists one only once a part of it is stored), so
     * that "no multipart upload left" afterwards means the upload was cancelled, not that it never showed.
     */
    private static void awaitListed() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (multipartUploads(client).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(multipartUploads(client)).hasSize(1);
    }

    private static String etag(String path) {
        return client.headObject(HeadObjectRequest.builder().bucket(S3ProxyServer.BUCKET)
                .key(UploadFixture.key(path)).build()).eTag();
    }

    /** What the other tests' "no multipart upload left" rests on: the store lists one that was started. */
    @Test
    void theStoreListsAStartedMultipartUpload() {
        String key = UploadFixture.key("/listed");
        String id = client.createMultipartUpload(b -> b.bucket(S3ProxyServer.BUCKET).key(key)).uploadId();
        client.uploadPart(b -> b.bucket(S3ProxyServer.BUCKET).key(key).uploadId(id).partNumber(1),
                software.amazon.awssdk.core.sync.RequestBody.fromBytes(random(1000, 0)));
        assertThat(multipartUploads(client)).extracting(u -> u.uploadId()).containsExactly(id);
        client.abortMultipartUpload(b -> b.bucket(S3ProxyServer.BUCKET).key(key).uploadId(id));
    }

    @Test
    void aSmallStorIsOnePut() throws Exception {
        byte[] data = random(100 * 1024, 1);
        assertThat(store("/small", UploadMode.REPLACE, 0, data)).isEqualTo(data.length);
        assertThat(sha256(get(client, "/small"))).isEqualTo(sha256(data));
        // A multipart object's ETag ends in -N (the part count); a single PUT's is the MD5 of the bytes.
        assertThat(etag("/small")).doesNotContain("-");
    }

    @Test
    void anEmptyStorMakesAnEmptyObject() throws Exception {
        assertThat(store("/empty", UploadMode.REPLACE, 0, new byte[0])).isZero();
        assertThat(get(client, "/empty")).isEmpty();
    }

    @Test
    void aLargeStorIsMultipartAndComplete() throws Exception {
        byte[] data = random(23 * MIB, 2);
        assertThat(store("/large", UploadMode.REPLACE, 0, data)).isEqualTo(data.length);
        assertThat(sha256(get(client, "/large"))).isEqualTo(sha256(data));
        assertThat(etag("/large")).endsWith("-5\"");
    }

    @Test
    void aStorOfExactlyOnePartIsOnePut() throws Exception {
        byte[] data = random(PART, 3);
        assertThat(store("/onepart", UploadMode.REPLACE, 0, data)).isEqualTo(PART);
        assertThat(get(client, "/onepart")).isEqualTo(data);
        assertThat(etag("/onepart")).doesNotContain("-");
    }

    @Test
    void aStorReplacesTheOldObjectOnlyAtCommit() throws Exception {
        byte[] old = random(MIB, 4);
        put(client, "/swap", old);
        byte[] data = random(12 * MIB, 5);
        try (Upload upload = open("/swap", UploadMode.REPLACE, 0)) {
            write(upload, data);
            // Two parts are on the store by now, in an upload readers do not see.
            assertThat(get(client, "/swap")).isEqualTo(old);
            upload.commit();
        }
        assertThat(sha256(get(client, "/swap"))).isEqualTo(sha256(data));
    }

    @Test
    void appeToALargeObjectCopiesItsPartsOnTheStore() throws Exception {
        byte[] old = random(12 * MIB, 6);
        put(client, "/log12", old);
        byte[] more = random(3 * MIB + 17, 7);
        assertThat(store("/log12", UploadMode.APPEND, 0, more)).isEqualTo(old.length + more.length);
        assertThat(sha256(get(client, "/log12"))).isEqualTo(sha256(concat(old, more)));
        // Two copy parts (5 MiB and 7 MiB) and the new bytes as the third.
        assertThat(etag("/log12")).endsWith("-3\"");
    }

    @Test
    void appeToASmallObjectReadsItsHeadIntoTheFirstPart() throws Exception {
        byte[] old = random(1024, 8);
        put(client, "/log1k", old);
        byte[] more = random(6 * MIB, 9);
        assertThat(store("/log1k", UploadMode.APPEND, 0, more)).isEqualTo(old.length + more.length);
        assertThat(sha256(get(client, "/log1k"))).isEqualTo(sha256(concat(old, more)));

        byte[] tiny = random(100, 10);
        byte[] before = get(client, "/log1k");
        put(client, "/log1k", old);
        assertThat(store("/log1k", UploadMode.APPEND, 0, tiny)).isEqualTo(old.length + tiny.length);
        assertThat(get(client, "/log1k")).isEqualTo(concat(old, tiny)).isNotEqualTo(before);
    }

    @Test
    void appeWithoutNewBytesKeepsTheObject() throws Exception {
        byte[] small = random(1024, 11);
        put(client, "/same-small", small);
        assertThat(store("/same-small", UploadMode.APPEND, 0, new byte[0])).isEqualTo(1024);
        assertThat(get(client, "/same-small")).isEqualTo(small);

        byte[] large = random(6 * MIB, 12);
        put(client, "/same-large", large);
        assertThat(store("/same-large", UploadMode.APPEND, 0, new byte[0])).isEqualTo(large.length);
        assertThat(get(client, "/same-large")).isEqualTo(large);
    }

    @Test
    void appeToAMissingObjectMakesANewOne() throws Exception {
        byte[] data = random(2048, 13);
        assertThat(store("/new-by-appe", UploadMode.APPEND, 0, data)).isEqualTo(2048);
        assertThat(get(client, "/new-by-appe")).isEqualTo(data);
    }

    @Test
    void restAndStorKeepsTheHeadAndReplacesTheRest() throws Exception {
        byte[] old = random(20 * MIB, 14);
        put(client, "/resume", old);
        byte[] rest = random(4 * MIB, 15);
        assertThat(store("/resume", UploadMode.RESUME, 7 * MIB, rest)).isEqualTo(7L * MIB + rest.length);
        byte[] expected = concat(java.util.Arrays.copyOf(old, 7 * MIB), rest);
        assertThat(sha256(get(client, "/resume"))).isEqualTo(sha256(expected));
    }

    @Test
    void restBeyondTheEndIsRefusedAtOpen() throws Exception {
        put(client, "/short", random(1024, 16));
        assertThatThrownBy(() -> open("/short", UploadMode.RESUME, 2048)).isInstanceOf(IOException.class)
                .hasMessage("/short: restart offset 2048 is beyond the end of the file (1024 bytes)");
        assertThatThrownBy(() -> open("/nosuch", UploadMode.RESUME, 5)).isInstanceOf(IOException.class)
                .hasMessage("/nosuch: restart offset 5 is beyond the end of the file (0 bytes)");
        byte[] data = random(10, 17);
        assertThat(store("/rest0", UploadMode.RESUME, 0, data)).isEqualTo(10);
        assertThat(get(client, "/rest0")).isEqualTo(data);
    }

    @Test
    void anAbortMidwayKeepsTheOldObject() throws Exception {
        byte[] old = random(2 * MIB, 18);
        put(client, "/kept", old);
        Upload upload = open("/kept", UploadMode.REPLACE, 0);
        write(upload, random(12 * MIB, 19));
        awaitListed();
        // ABOR comes from the control thread.
        CompletableFuture.runAsync(() -> {
            try {
                upload.abort();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }).get(30, TimeUnit.SECONDS);
        assertThatThrownBy(() -> upload.channel().write(ByteBuffer.wrap(new byte[10]))).isInstanceOf(IOException.class)
                .hasMessageContaining("aborted");
        assertThatThrownBy(upload::commit).isInstanceOf(IOException.class);
        upload.close();
        assertThat(get(client, "/kept")).isEqualTo(old);
    }

    @Test
    void anAbortedAppeKeepsTheOldObject() throws Exception {
        byte[] old = random(6 * MIB, 20);
        put(client, "/kept-appe", old);
        try (Upload upload = open("/kept-appe", UploadMode.APPEND, 0)) {
            write(upload, random(7 * MIB, 21));
            awaitListed();
            upload.abort();
        }
        assertThat(get(client, "/kept-appe")).isEqualTo(old);
    }

    @Test
    void anAbortWakesAWriterWaitingForTheBudget() throws Exception {
        ObjectStore tight = store.withUploadMemory(PART);
        try (S3Engine one = S3Engine.open(tight, dir);
             Upload holder = UploadFixture.open(one, tight, "/holder", UploadMode.REPLACE, 0)) {
            write(holder, new byte[1]);
            assertThat(one.budget().inUse()).isEqualTo(PART);
            Upload waiter = UploadFixture.open(one, tight, "/waiter", UploadMode.REPLACE, 0);
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                try {
                    write(waiter, new byte[1]);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(300);
            assertThat(writing).isNotDone();
            long start = System.nanoTime();
            waiter.abort();
            assertThatThrownBy(() -> writing.get(5, TimeUnit.SECONDS)).hasRootCauseMessage("/waiter: upload aborted");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2000);
            holder.abort();
            assertThat(one.budget().inUse()).isZero();
        }
    }

    @Test
    void anInterruptedWriterFailsTheUpload() throws Exception {
        ObjectStore tight = store.withUploadMemory(PART);
        put(client, "/interrupted", random(100, 25));
        try (S3Engine one = S3Engine.open(tight, dir);
             Upload holder = UploadFixture.open(one, tight, "/holder2", UploadMode.REPLACE, 0);
             Upload waiter = UploadFixture.open(one, tight, "/interrupted", UploadMode.REPLACE, 0)) {
            write(holder, new byte[1]);
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    write(waiter, new byte[10]);
                    failure.complete(null);
                } catch (Throwable t) {
                    failure.complete(t);
                }
            });
            Thread.sleep(300);
            writer.interrupt();
            assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(java.io.InterruptedIOException.class);
            assertThatThrownBy(waiter::commit).isInstanceOf(IOException.class).hasMessageContaining("interrupted");
            holder.abort();
            assertThat(one.budget().inUse()).isZero();
        }
        assertThat(get(client, "/interrupted")).isEqualTo(random(100, 25));
    }

    @Test
    void anUnmetPreconditionPublishesNothing() throws Exception {
        byte[] old = random(MIB, 22);
        put(client, "/cond", old);
        for (int size : new int[] {1000, 11 * MIB}) {
            try (Upload upload = open("/cond", UploadMode.REPLACE, 0)) {
                write(upload, random(size, size));
                if (size > PART) {
                    awaitListed();
                }
                assertThatThrownBy(() -> upload.commit(() -> "control-closed"))
                        .isInstanceOfSatisfying(Upload.PreconditionFailedException.class,
                                e -> assertThat(e.reason()).isEqualTo("control-closed"));
                assertThatThrownBy(() -> upload.channel().write(ByteBuffer.wrap(new byte[1])))
                        .isInstanceOf(IOException.class);
            }
            assertThat(get(client, "/cond")).isEqualTo(old);
            assertThat(multipartUploads(client)).isEmpty();
            assertThat(engine.budget().inUse()).isZero();
        }
    }

    @Test
    void closeWithoutCommitAborts() throws Exception {
        byte[] old = random(MIB, 23);
        put(client, "/closed", old);
        Upload upload = open("/closed", UploadMode.REPLACE, 0);
        write(upload, random(11 * MIB, 24));
        awaitListed();
        upload.close();
        assertThat(get(client, "/closed")).isEqualTo(old);
        upload.close();
    }

    @Test
    void concurrentUploadsStayWithinTheBudget() throws Exception {
        ObjectStore small = store.withUploadMemory(2L * PART);
        try (S3Engine shared = S3Engine.open(small, dir)) {
            AtomicLong most = new AtomicLong();
            Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    most.accumulateAndGet(shared.budget().inUse(), Math::max);
                    Thread.onSpinWait();
                }
            });
            List<CompletableFuture<Void>> uploads = new ArrayList<>();
            List<byte[]> data = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] bytes = random(12 * MIB + i, 30 + i);
                data.add(bytes);
                String path = "/many" + i;
                uploads.add(CompletableFuture.runAsync(() -> {
                    try (Upload upload = UploadFixture.open(shared, small, path, UploadMode.REPLACE, 0)) {
                        write(upload, bytes);
                        upload.commit();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, r -> Thread.ofVirtual().start(r)));
            }
            CompletableFuture.allOf(uploads.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            sampler.interrupt();
            sampler.join();
            for (int i = 0; i < 4; i++) {
                assertThat(sha256(get(client, "/many" + i))).isEqualTo(sha256(data.get(i)));
            }
            assertThat(most.get()).isPositive().isLessThanOrEqualTo(2L * PART);
            assertThat(shared.budget().inUse()).isZero();
        }
    }

    @Test
    void createRefusesAnExistingKey() throws Exception {
        put(client, "/taken", random(10, 40));
        assertThatThrownBy(() -> open("/taken", UploadMode.CREATE, 0)).isInstanceOf(FileAlreadyExistsException.class)
                .hasMessage("/taken");

        byte[] data = random(100, 41);
        assertThat(store("/fresh", UploadMode.CREATE, 0, data)).isEqualTo(100);
        assertThat(get(client, "/fresh")).isEqualTo(data);
    }

    @Test
    void createRefusesAKeyStoredDuringTheUpload() throws Exception {
        for (int size : new int[] {100, 6 * MIB}) {
            String path = "/race" + size;
            byte[] first = random(10, size);
            try (Upload upload = open(path, UploadMode.CREATE, 0)) {
                write(upload, random(size, 42));
                put(client, path, first);
                assertThatThrownBy(upload::commit).isInstanceOf(FileAlreadyExistsException.class);
            }
            assertThat(get(client, path)).isEqualTo(first);
        }
    }

    @Test
    void aDirectoryIsNotAFile() throws Exception {
        put(client, "/dir/inside", random(10, 50));
        put(client, "/marked/", new byte[0]);
        for (String path : new String[] {"/dir", "/marked", "/"}) {
            assertThatThrownBy(() -> open(path, UploadMode.REPLACE, 0)).isInstanceOf(FileSystemException.class)
                    .hasMessageContaining("Is a directory");
        }
    }

    @Test
    void stouWritesItsObjectOrRemovesIt() throws Exception {
        put(client, "/u1", new byte[0]);
        try (Upload upload = open("/u1", UploadMode.UNIQUE, 0)) {
            write(upload, random(7 * MIB, 60));
            awaitListed();
            upload.abort();
        }
        assertThatThrownBy(() -> get(client, "/u1")).isInstanceOf(NoSuchKeyException.class);

        put(client, "/u2", new byte[0]);
        byte[] data = random(1000, 61);
        assertThat(store("/u2", UploadMode.UNIQUE, 0, data)).isEqualTo(1000);
        assertThat(get(client, "/u2")).isEqualTo(data);

        assertThatThrownBy(() -> open("/u3", UploadMode.UNIQUE, 0)).isInstanceOf(NoSuchFileException.class);
    }
}
