package dev.ferry.server.fs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.function.Function;

/**
 * A local directory, entry by entry, sorted by name ({@link NameOrder}). Entries the describer
 * rejects (outside the jail, unsendable names, upload temp files, vanished meanwhile) are skipped,
 * not reported.
 *
 * <p>Design: sorting needs the whole directory, so opening reads the names only (a name per entry,
 * no attributes) and sorts them; each entry is described (stat) when the iteration reaches it, so
 * a listing of 100,000 files holds 100,000 names, never 100,000 descriptions. Past
 * {@link #MAX_SORTED_NAMES} the names are dropped and the directory is streamed again unsorted:
 * memory stays bounded whatever a directory holds, and the listing stays complete.
 */
final class LocalDirectoryListing implements DirectoryListing {
    /** About 30 MB of names at most per listing; directories this big are listed in directory order. */
    static final int MAX_SORTED_NAMES = 200_000;

    private final Path real;
    private final Function<Path, Optional<FileInfo>> describer;
    private final VirtualPath directory;
    private final Jail jail;
    /** Sorted names, or null when the directory was too big and {@link #unsorted} streams it. */
    private final List<Path> sortedNames;
    private final DirectoryStream<Path> unsorted;
    private boolean iterated;

    private LocalDirectoryListing(Path real, Function<Path, Optional<FileInfo>> describer, VirtualPath directory,
                                  Jail jail, List<Path> sortedNames, DirectoryStream<Path> unsorted) {
        this.real = real;
        this.describer = describer;
        this.directory = directory;
        this.jail = jail;
        this.sortedNames = sortedNames;
        this.unsorted = unsorted;
    }

    /** Reads and sorts the names of {@code real} (already checked by the jail); errors name {@code directory}. */
    static LocalDirectoryListing open(Path real, Function<Path, Optional<FileInfo>> describer,
                                      VirtualPath directory, Jail jail) throws IOException {
        return open(real, describer, directory, jail, MAX_SORTED_NAMES);
    }

    static LocalDirectoryListing open(Path real, Function<Path, Optional<FileInfo>> describer,
                                      VirtualPath directory, Jail jail, int maxSortedNames) throws IOException {
        try {
            List<Path> names = new ArrayList<>();
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(real)) {
                for (Path entry : stream) {
                    if (names.size() == maxSortedNames) {
                        names = null;
                        break;
                    }
                    // the last element only: a name, which holds the bytes the file system gave
                    names.add(entry.getFileName());
                }
            }
            if (names == null) {
                return new LocalDirectoryListing(real, describer, directory, jail, null,
                        Files.newDirectoryStream(real));
            }
            names.sort(Comparator.comparing(Path::toString, NameOrder.CODE_POINTS));
            return new LocalDirectoryListing(real, describer, directory, jail, names, null);
        } catch (DirectoryIteratorException e) {
            throw jail.hide(e.getCause(), directory);
        } catch (IOException e) {
            throw jail.hide(e, directory);
        }
    }

    @Override
    public Iterator<FileInfo> iterator() {
        // like the DirectoryStream it replaces: one iteration only
        if (iterated) {
            throw new IllegalStateException("a directory listing iterates once");
        }
        iterated = true;
        Iterator<Path> entries = sortedNames != null
                ? sortedNames.stream().map(real::resolve).iterator()
                : unsorted.iterator();
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
        if (unsorted == null) {
            return;
        }
        try {
            unsorted.close();
        } catch (IOException e) {
            throw jail.hide(e, directory);
        }
    }
}
