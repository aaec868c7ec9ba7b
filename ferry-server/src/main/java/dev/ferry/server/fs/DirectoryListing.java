package dev.ferry.server.fs;

import java.io.IOException;

/**
 * A directory's entries, streamed: a directory may hold 100k files, so nothing materializes it all.
 * Iterate once. An I/O error while iterating surfaces as {@link java.io.UncheckedIOException}
 * whose cause names virtual paths only.
 */
public interface DirectoryListing extends Iterable<FileInfo>, AutoCloseable {
    @Override
    void close() throws IOException;
}
