package dev.ferry.server.fs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.function.Function;

/**
 * A local directory streamed entry by entry. Entries the describer rejects (outside the jail,
 * unsendable names, upload temp files, vanished meanwhile) are skipped, not reported.
 */
final class LocalDirectoryListing implements DirectoryListing {
    private final DirectoryStream<Path> stream;
    private final Function<Path, Optional<FileInfo>> describer;
    private final VirtualPath directory;
    private final Jail jail;

    LocalDirectoryListing(DirectoryStream<Path> stream, Function<Path, Optional<FileInfo>> describer,
                          VirtualPath directory, Jail jail) {
        this.stream = stream;
        this.describer = describer;
        this.directory = directory;
        this.jail = jail;
    }

    @Override
    public Iterator<FileInfo> iterator() {
        Iterator<Path> entries = stream.iterator();
        return new Iterator<>() {
            private FileInfo next;

            @Override
            public boolean hasNext() {
                try {
                    while (next == null && entries.hasNext()) {
                        next = describer.apply(entries.next()).orElse(null);
                    }
                } catch (DirectoryIteratorException e) {
                    throw new UncheckedIOException(jail.hide(e.getCause(), directory));
                }
                return next != null;
            }

            @Override
            public FileInfo next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                FileInfo result = next;
                next = null;
                return result;
            }
        };
    }

    @Override
    public void close() throws IOException {
        try {
            stream.close();
        } catch (IOException e) {
            throw jail.hide(e, directory);
        }
    }
}
