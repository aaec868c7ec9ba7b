package dev.ferry.storage.s3;

import static dev.ferry.storage.s3.UploadFixture.MIB;
import static dev.ferry.storage.s3.UploadFixture.get;
import static dev.ferry.storage.s3.UploadFixture.multipartUploads;
import static dev.ferry.storage.s3.UploadFixture.put;
import static dev.ferry.storage.s3.UploadFixture.random;
import static dev.ferry.storage.s3.UploadFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.testkit.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Uploads through a {@link FaultProxy}: a store that goes away or stops answering mid-upload fails the upload
 * within request-timeout, leaves the old object as it was, gives the budget back, and leaves no multipart upload
 * once the store is back (the cancel is retried).
 */
class S3UploadFaultTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private S3ProxyServer s3;
    private FaultProxy proxy;
    private S3Engine viaProxy;
    private S3Engine direct;
    private ObjectStore store;
    private Logger storageLog;
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();

    @BeforeEach
    void start() throws Exception {
        s3 = S3ProxyServer.inMemory("127.0.0.1");
        proxy = new FaultProxy(s3.endpoint());
        Path credentials = UploadFixture.credentials(dir);
        store = UploadFixture.store(proxy.endpoint(), credentials, 32L * MIB, TIMEOUT);
        // Opened as the server opens it: the storage events carry the server's node.
        viaProxy = (S3Engine) new S3Engine.Provider().open(store, ServerSettings.defaults(dir).withNode("edge-7"));
        storageLog = (Logger) LoggerFactory.getLogger("ferry.storage");
        events.start();
        storageLog.addAppender(events);
        direct = S3Engine.open(UploadFixture.store(s3.endpoint(), credentials, 32L * MIB, TIMEOUT), dir);
    }

    @AfterEach
    void stop() throws Exception {
        storageLog.detachAppender(events);
        viaProxy.close();
        direct.close();
        proxy.close();
        s3.close();
    }

    @Test
    void aStoreGoneMidUploadFailsItAndLeavesNothing() throws Exception {
        failsMidUpload(FaultProxy.Mode.CUT);
    }

    @Test
    void aStoreSlowerThanTheRequestTimeoutFailsTheUpload() throws Exception {
        failsMidUpload(FaultProxy.Mode.STALL);
    }

    private void failsMidUpload(FaultProxy.Mode fault) throws Exception {
        S3Client store = direct.client();
        byte[] old = random(MIB, 1);
        put(store, "/file", old);
        Upload upload = UploadFixture.open(viaProxy, this.store, "/file", UploadMode.REPLACE, 0);
        // One part and a half on their way while the store answers; the fault comes once the first part is
        // stored (S3Proxy lists an upload only once it holds a part, so then "none left" below means something).
        write(upload, random(8 * MIB, 2));
        long stored = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (multipartUploads(store).isEmpty() && System.nanoTime() < stored) {
            Thread.sleep(20);
        }
        assertThat(multipartUploads(store)).hasSize(1);
        proxy.mode(fault);
        long start = System.nanoTime();
        assertThatThrownBy(() -> {
            write(upload, random(12 * MIB, 3));
            upload.commit();
        }).isInstanceOf(IOException.class);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // A part's request and the complete are each bounded by the timeout (retries included); the discard's
        // cancel once more.
        assertThat(tookMillis).isLessThan(4 * TIMEOUT.toMillis() + 2000);
        upload.close();
        assertThat(viaProxy.budget().inUse()).isZero();

        // The requests held by a stall are dropped, not delivered late (a late AbortMultipartUpload would do the
        // retry's work): the store comes back without them.
        proxy.mode(FaultProxy.Mode.CUT);
        proxy.mode(FaultProxy.Mode.PASS);
        assertThat(get(store, "/file")).isEqualTo(old);
        assertThat(multipartUploads(store)).as("the cancel was not taken while the store was away").hasSize(1);
        // The cancel the store did not take is tried again in the background.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5 * TIMEOUT.toSeconds() + 5);
        while (!multipartUploads(store).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(multipartUploads(store)).isEmpty();
        // Logged right after the cancel was taken.
        String cancelled = "node=edge-7 event=storage-upload-cancelled bucket=ferry key=srv/file";
        long logged = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (events().stream().noneMatch(line -> line.startsWith(cancelled)) && System.nanoTime() < logged) {
            Thread.sleep(20);
        }
        assertThat(events()).anyMatch(line -> line.startsWith(cancelled));
    }

    private List<String> events() {
        // The appender adds under its own lock (AppenderBase.doAppend).
        synchronized (events) {
            return events.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }
}
