package dev.ferry.storage.s3;

import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * What the store's failures become: the exceptions {@link dev.ferry.server.fs.Storage} promises, naming virtual
 * paths only. The server turns them into 550 (missing, refused) or 451 replies whose text is the message, so no
 * message here quotes the store's own text, which names the bucket and the key (and a host name can be the
 * bucket's, in virtual-hosted style): each cause gets a fixed short phrase instead.
 */
final class S3Errors {

    private S3Errors() {
    }

    /** {@code e} from a request about {@code path}. */
    static IOException of(SdkException e, VirtualPath path) {
        return of(e, path.toString());
    }

    static IOException of(SdkException e, String path) {
        if (e instanceof S3Exception s3) {
            return switch (s3.statusCode()) {
                case 404 -> withCause(new NoSuchFileException(path), e);
                case 403 -> withCause(new AccessDeniedException(path), e);
                default -> withCause(new FileSystemException(path, null, phrase(s3)), e);
            };
        }
        if (e instanceof AbortedException || Thread.currentThread().isInterrupted()) {
            var interrupted = new InterruptedIOException(path + ": interrupted");
            interrupted.initCause(e);
            return interrupted;
        }
        return withCause(new FileSystemException(path, null, phrase(e)), e);
    }

    /**
     * The cause of {@code e} in a fixed short phrase that quotes nothing of the store's text: the HTTP status and
     * S3's error code word, or why there was no answer. For any message that may reach a client.
     */
    static String phrase(SdkException e) {
        if (e instanceof S3Exception s3) {
            return "the store answered HTTP " + s3.statusCode() + errorCode(s3);
        }
        return clientReason(e);
    }

    /** A failure below the SDK (a read from an object's body stream). */
    static IOException ofStream(IOException e, VirtualPath path) {
        if (e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException)) {
            return e;
        }
        return withCause(new FileSystemException(path.toString(), null, reason(e)), e);
    }

    /** The HTTP status of a store's answer, 0 when it is not one. */
    static int status(SdkException e) {
        return e instanceof S3Exception s3 ? s3.statusCode() : 0;
    }

    private static String clientReason(SdkException e) {
        if (e instanceof ApiCallAttemptTimeoutException || e instanceof ApiCallTimeoutException) {
            return "the store did not answer in time";
        }
        return reason(e);
    }

    private static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SocketTimeoutException) {
                return "the store did not answer in time";
            }
            if (t instanceof ConnectException) {
                return "the store cannot be reached (connection refused)";
            }
            if (t instanceof UnknownHostException) {
                return "the store cannot be reached (unknown host)";
            }
        }
        return "the store cannot be reached";
    }

    /** S3's error code ("SlowDown", "InternalError"): a word from a fixed list, never a key or bucket. */
    private static String errorCode(S3Exception e) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        return code == null || !code.matches("[A-Za-z]{1,64}") ? "" : " (" + code + ")";
    }

    private static IOException withCause(IOException e, Throwable cause) {
        e.initCause(cause);
        return e;
    }
}
