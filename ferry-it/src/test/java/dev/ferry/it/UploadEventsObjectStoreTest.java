package dev.ferry.it;

import static dev.ferry.it.UploadEventsTest.field;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.events.EventSettings;
import java.io.IOException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Upload events of a server whose files are on S3 (S3Proxy on 127.0.0.7): an upload commits through the same
 * command, so its event comes from the same hook point; its size and SHA-256 come from the object.
 */
class UploadEventsObjectStoreTest {

    private static final UploadEventsTest.Receiver HOOK = UploadEventsTest.Receiver.start();

    /** A server on the run's shared object store, with the webhook. */
    static final class OnObjectStore implements BeforeEachCallback, AfterEachCallback {
        FerryServerExtension ftp;

        @Override
        public void beforeEach(ExtensionContext context) throws IOException {
            ftp = new FerryServerExtension().onObjectStore(ObjectStoreFixture.shared(context))
                    .configure(s -> s.withEvents(EventSettings.OFF.withWebhook(HOOK.url()).withWorkers(1)
                            .withBackoff(Duration.ofMillis(50)).withTimeout(Duration.ofSeconds(5))));
            ftp.open();
        }

        @Override
        public void afterEach(ExtensionContext context) throws IOException {
            ftp.close();
        }
    }

    @RegisterExtension
    final OnObjectStore server = new OnObjectStore();

    @BeforeEach
    void reset() {
        HOOK.reset();
    }

    @AfterAll
    static void stopReceiver() {
        HOOK.stop();
    }

    @Test
    void anUploadToTheObjectStoreIsReportedWithTheObjectsHash() throws Exception {
        FerryServerExtension ftp = server.ftp;
        byte[] content = TestData.randomFile(ftp.clientDir().resolve("up.bin"), 300_000, 11);
        FtpsClients.curl(ftp, "-T", "up.bin", ftp.url() + "/s3-up.bin").assertSuccess();

        String upload = HOOK.next();
        assertThat(field(upload, "event")).isEqualTo("upload");
        assertThat(field(upload, "path")).isEqualTo("/s3-up.bin");
        assertThat(field(upload, "size")).isEqualTo("300000");
        assertThat(field(upload, "sha256")).isEqualTo(
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content)));

        FtpsClients.curl(ftp, "-Q", "RNFR s3-up.bin", "-Q", "RNTO s3-moved.bin", "-Q", "DELE s3-moved.bin",
                ftp.url() + "/").assertSuccess();
        String rename = HOOK.next();
        assertThat(field(rename, "event") + " " + field(rename, "path") + " " + field(rename, "target"))
                .isEqualTo("rename /s3-up.bin /s3-moved.bin");
        String delete = HOOK.next();
        assertThat(field(delete, "event") + " " + field(delete, "path") + " " + field(delete, "size"))
                .isEqualTo("delete /s3-moved.bin 300000");
    }
}
