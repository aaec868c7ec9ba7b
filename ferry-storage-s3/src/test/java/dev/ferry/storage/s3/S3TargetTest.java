package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.net.UnknownHostException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** A failed request's message may become a reply's text: it names the virtual path, never the bucket or key. */
class S3TargetTest {

    private static final String BUCKET = "secret-bucket-name";

    private final S3Target target = new S3Target(null, BUCKET, "tenant/alice/f.bin", VirtualPath.ROOT,
            Duration.ofSeconds(3), null);

    @Test
    void anUnknownHostIsSaidWithoutTheHostName() {
        SdkClientException e = SdkClientException.create("Unable to execute HTTP request: " + BUCKET
                + ".s3.example.net", new UnknownHostException(BUCKET + ".s3.example.net"));

        IOException failure = target.failure("storing", e);

        assertThat(failure).hasMessage("/: storing failed: the store cannot be reached (unknown host)");
        assertThat(failure.getCause()).isSameAs(e);
    }

    @Test
    void aStoreAnswerIsItsStatusAndCodeWordOnly() {
        S3Exception e = (S3Exception) S3Exception.builder().statusCode(503).message("bucket " + BUCKET + " busy")
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("SlowDown").errorMessage("key tenant/alice/f.bin")
                        .build()).build();

        assertThat(target.failure("sending part 3", e))
                .hasMessage("/: sending part 3 failed: the store answered HTTP 503 (SlowDown)");
    }

    @Test
    void anUnexpectedExceptionIsNamedByItsKindOnly() {
        assertThat(target.failure("storing", new IllegalStateException("connection pool of " + BUCKET + " shut down")))
                .hasMessage("/: storing failed: IllegalStateException");
    }
}
