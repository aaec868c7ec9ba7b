package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * An upload in progress. Bytes go to {@link #channel()}; {@link #commit()} makes them visible under
 * the target name (REPLACE: atomic rename of a temp file written beside the target in the same
 * directory; other modes: in place) and returns the final size. {@link #abort()} discards a REPLACE
 * upload's temp file (the old file stays exactly as it was) and just closes in-place ones; it may be
 * called from another thread (ABOR) while a transfer writes. {@code close()} after commit is a no-op;
 * {@code close()} without commit aborts.
 */
public interface Upload extends AutoCloseable {
    WritableByteChannel channel();

    /** Flushes the bytes to the file system and publishes them; only then may the server reply 226. */
    long commit() throws IOException;

    void abort();

    @Override
    void close();
}
