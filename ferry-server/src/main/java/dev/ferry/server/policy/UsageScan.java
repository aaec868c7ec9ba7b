package dev.ferry.server.policy;

import dev.ferry.server.fs.DirectoryListing;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Counts an account's stored bytes and files by walking its storage through the {@link Storage} listing, so a
 * local home and an object-store prefix are counted alike (an object store's listing is its ListObjectsV2
 * pages). Regular files only: directories and other entries take no quota. Bounded: past {@link #MAX_ENTRIES}
 * entries the walk stops and the count fails, rather than hold a session (and every other change of that
 * account, which waits for the count) for minutes; an account that large wants the database ledger, which
 * counts once, when the account is made, and keeps the count for good.
 */
public final class UsageScan {

    /** The most entries one count visits (about a second on a local disk). */
    public static final int MAX_ENTRIES = 1_000_000;

    private UsageScan() {}

    /** The account's files under its root. */
    public static QuotaLedger.Counted count(Storage storage) throws IOException {
        return count(storage, MAX_ENTRIES);
    }

    static QuotaLedger.Counted count(Storage storage, int maxEntries) throws IOException {
        long bytes = 0;
        long files = 0;
        int seen = 0;
        // Depth-first with an explicit stack: a deep tree cannot overflow the thread's stack.
        Deque<VirtualPath> pending = new ArrayDeque<>();
        pending.push(VirtualPath.ROOT);
        while (!pending.isEmpty()) {
            VirtualPath dir = pending.pop();
            try (DirectoryListing entries = storage.list(dir)) {
                for (FileInfo e : entries) {
                    if (++seen > maxEntries) {
                        throw new IOException("more than " + maxEntries + " entries to count for the quota");
                    }
                    if (e.type() == FileType.FILE) {
                        bytes += e.size();
                        files++;
                    } else if (e.type() == FileType.DIRECTORY) {
                        try {
                            pending.push(dir.child(e.name()));
                        } catch (InvalidVirtualPathException x) {
                            // A name the protocol cannot address: not a tree the account fills through FTP.
                        }
                    }
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (NoSuchFileException e) {
                // Removed while counting: it holds nothing any more.
            }
        }
        return new QuotaLedger.Counted(bytes, files);
    }
}
