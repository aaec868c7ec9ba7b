package dev.ferry.server.fs;

import java.io.IOException;

/**
 * A directory's entries, sorted by name and streamed: a directory may hold 100k files, so at most their
 * names are held (a bounded number), and each entry is described when the iteration reaches it.
 * Iterate once. An I/O error while iterating surfaces as {@link java.io.UncheckedIOException}
 * whose cause names virtual paths only.
 */
public interface DirectoryListing extends Iterable<FileInfo>, AutoCloseable {
    @Override
    void close() throws IOException;
}
