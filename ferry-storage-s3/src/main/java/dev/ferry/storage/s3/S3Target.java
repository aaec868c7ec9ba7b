package dev.ferry.storage.s3;

import dev.ferry.runtime.log.EventLog;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.time.Duration;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The object an upload writes: the client, the bucket and key, the virtual path its messages name (never the
 * key, which would show the home's prefix), the time one request may take, and the server's storage log (its
 * events carry the configured node).
 *
 * <p>Every request carries {@code request-timeout} as its whole-call limit (retries included), not only per
 * attempt as the client does: that is the setting's promise, "the longest one request to the store may take".
 */
record S3Target(S3Client client, String bucket, String key, VirtualPath path, Duration timeout, EventLog log) {

    AwsRequestOverrideConfiguration limits() {
        return AwsRequestOverrideConfiguration.builder().apiCallTimeout(timeout).build();
    }

    /**
     * An IOException for a request that failed, naming the virtual path and what was being done, and the cause in
     * {@link S3Errors#phrase}'s fixed words: the message may become a reply's text (451 "Cannot store ..."), and
     * the store's own text names the bucket and the key (a host name can be the bucket's). The exception itself is
     * kept as the cause, for the log.
     */
    IOException failure(String doing, Exception e) {
        if (e instanceof IOException io) {
            return io;
        }
        String why;
        if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException) {
            why = "the store did not answer within " + timeout.toMillis() + " ms";
        } else if (e instanceof AbortedException) {
            InterruptedIOException interrupted = new InterruptedIOException(path + ": " + doing + " was interrupted");
            interrupted.initCause(e);
            return interrupted;
        } else if (e instanceof SdkException sdk) {
            why = S3Errors.phrase(sdk);
        } else {
            // not e.toString(): an unexpected exception's message may quote the request
            why = e.getClass().getSimpleName();
        }
        return new IOException(path + ": " + doing + " failed: " + why, e);
    }

    /** HeadObject of the key; null when there is no such object. */
    HeadObjectResponse head() throws IOException {
        try {
            return client.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).overrideConfiguration(limits())
                    .build());
        } catch (SdkException e) {
            if (isNotFound(e)) {
                return null;
            }
            throw failure("looking up", e);
        }
    }

    /** HTTP 412 (a conditional write lost) or 409 ConditionalRequestConflict (a concurrent one won). */
    static boolean isConditionLost(Exception e) {
        return e instanceof S3Exception s3 && (s3.statusCode() == 412 || s3.statusCode() == 409);
    }

    FileAlreadyExistsException exists() {
        return new FileAlreadyExistsException(path.toString());
    }

    static boolean isNotFound(Exception e) {
        return e instanceof S3Exception s3 && s3.statusCode() == 404;
    }
}
