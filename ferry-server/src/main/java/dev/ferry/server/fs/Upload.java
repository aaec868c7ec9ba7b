package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * An upload in progress. Bytes go to {@link #channel()}; {@link #commit} makes them the file's content
 * (REPLACE: atomic rename of a temp file written beside the target in the same directory; other modes:
 * they are written in place already) and returns the final size. {@link #abort()} puts the file back as it
 * was: a REPLACE upload's temp file is removed (the old file was never touched), an in-place upload is cut
 * back to the old file's length (with the end a REST+STOR rewrote written back), and a file the upload
 * created (APPE or REST 0 of a new name, STOU) is removed. Abort may be called from another thread (ABOR)
 * while a transfer writes. {@code close()} after commit is a no-op; {@code close()} without commit aborts.
 */
public interface Upload extends AutoCloseable {
    WritableByteChannel channel();

    /**
     * Flushes the bytes to the file system, asks {@code precondition} once more (the flush takes time in
     * which the reason not to publish may arise) and, if it is met, publishes them; only then may the server
     * reply 226. If it is not met the upload is aborted and {@link PreconditionFailedException} says why.
     */
    long commit(Precondition precondition) throws IOException;

    /** {@link #commit(Precondition)} without a precondition. */
    default long commit() throws IOException {
        return commit(Precondition.NONE);
    }

    /** Puts the file back as it was (see above); an IOException says that could not be done completely. */
    void abort() throws IOException;

    @Override
    void close();

    /** Asked right before an upload is published: whether it still may be. */
    @FunctionalInterface
    interface Precondition {
        Precondition NONE = () -> null;

        /** Null when the upload may be published, else why not (a word for the log, such as "control-closed"). */
        String unmetBecause();
    }

    /** The upload was not published because its precondition was not met; it was aborted. */
    final class PreconditionFailedException extends IOException {
        private final String reason;

        public PreconditionFailedException(String reason) {
            super("upload not published: " + reason);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }
}
