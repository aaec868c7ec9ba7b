package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.Storage.StoredHash;
import dev.ferry.server.fs.VirtualPath;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.http.SdkHttpResponse;

/**
 * HASH from the store: a HeadObject in checksum mode gives the object's checksum back, the answer when it is the
 * whole object's (a multipart upload's composite checksum is not).
 */
class S3StorageHashTest {

    private static S3TestStore t;

    @BeforeAll
    static void start() throws Exception {
        t = S3TestStore.start();
    }

    @AfterAll
    static void stop() throws Exception {
        t.close();
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    // S3Proxy 3.0.0 keeps no checksum (it refuses x-amz-checksum-sha256 on a PutObject): HASH reads the file.
    @Test
    void anObjectWithoutAChecksumHasNoStoredHash() throws Exception {
        t.put("srv/plain/file.txt", "no checksum kept");

        assertThat(t.home("plain").storedHash(VirtualPath.of("/file.txt"), "SHA-256")).isNull();
    }

    @Test
    void aWholeObjectChecksumIsTheStoredHash() throws Exception {
        byte[] data = "stored checksum".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        t.put("srv/stub/whole.txt", data);
        S3Storage home = t.home("stub", t.client(new Shows(Base64.getEncoder().encodeToString(sha256(data)),
                "FULL_OBJECT")));

        assertThat(home.storedHash(VirtualPath.of("/whole.txt"), "SHA-256"))
                .isEqualTo(new StoredHash(HexFormat.of().formatHex(sha256(data)), data.length));
        // Only a checksum of the algorithm asked for is an answer.
        assertThat(home.storedHash(VirtualPath.of("/whole.txt"), "SHA-1")).isNull();
    }

    @Test
    void aCompositeChecksumIsNone() throws Exception {
        t.put("srv/composite/parts.bin", "x");
        S3Storage home = t.home("composite", t.client(new Shows(Base64.getEncoder().encodeToString(sha256(new byte[1]))
                + "-3", "COMPOSITE")));

        assertThat(home.storedHash(VirtualPath.of("/parts.bin"), "SHA-256")).isNull();
    }

    @Test
    void noObjectNoStoredHash() throws Exception {
        assertThat(t.home("none").storedHash(VirtualPath.of("/missing"), "SHA-256")).isNull();
        assertThat(t.home("none").storedHash(VirtualPath.ROOT, "SHA-256")).isNull();
    }

    /**
     * A HeadObject answer as S3 gives it to a request in checksum mode (S3Proxy 3.0.0 keeps no checksum): the
     * checksum headers are added only if the request asked for them.
     */
    private static final class Shows extends S3TestStore.Requests {
        private final String sha256;
        private final String type;
        private final AtomicReference<String> mode = new AtomicReference<>();

        Shows(String sha256, String type) {
            this.sha256 = sha256;
            this.type = type;
        }

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            super.beforeTransmission(context, attributes);
            mode.set(context.httpRequest().firstMatchingHeader("x-amz-checksum-mode").orElse(null));
        }

        @Override
        public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
            if (!"HeadObject".equals(operation(context.request())) || !"ENABLED".equals(mode.get())) {
                return context.httpResponse();
            }
            return context.httpResponse().toBuilder().putHeader("x-amz-checksum-sha256", sha256)
                    .putHeader("x-amz-checksum-type", type).build();
        }
    }
}
