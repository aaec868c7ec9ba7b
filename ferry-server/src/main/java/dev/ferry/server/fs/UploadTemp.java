package dev.ferry.server.fs;

import dev.ferry.runtime.net.Closing;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A hidden file of an upload in progress, named {@value Jail#UPLOAD_PREFIX} and 16 random hex digits, in
 * the directory of the file it is for: the new content of a replacing upload (STOR), published by one
 * atomic rename, or the saved end of a file that a REST+STOR rewrites, put back if that upload fails. It is
 * removed when its upload ends; one left behind by a crash of the server is removed by the next start's
 * sweep, or by an RMD of its directory ({@link #removeIfStale}).
 *
 * <p>Design: several server processes may serve one directory ({@code ferry cluster} runs two on
 * ./ftp-root, a fleet shares an NFS export), so whoever removes a leftover must know that no process still
 * writes it, and only the kernel knows that for sure. Each upload holds an exclusive lock (fcntl, through
 * {@link FileChannel#tryLock()}) on its temp file for as long as the file exists under its temp name; the
 * locks of a process end with it, however it ends (kill -9 included). A sweep removes only files whose lock
 * it can take, and removes them while it holds that lock. The two steps of making a temp file (create,
 * then lock) leave a moment in which another process's sweep may take the lock first and remove the new
 * file: the creator then either fails to get the lock or finds its file gone once it has it, and tries
 * another name. Without an age threshold a crashed upload's file is removed at the very next start.
 *
 * <p>Within one JVM that scheme alone would break: POSIX locks belong to the process, not to a descriptor,
 * so a sweep in this JVM that opened one of this JVM's temp files would, on closing it, drop the lock of
 * the upload writing it (and the JDK refuses a second lock on a file the JVM has locked). So this JVM never
 * opens a temp file of its own: the name of every temp file made here is recorded before the file is
 * created and forgotten only once it is gone (published or removed), and a sweep passes over recorded
 * names without opening them. Names, not paths: the random part makes a name unique, and a second path to
 * the same directory (a bind mount inside the root) leads to the same name.
 *
 * <p>Limits: where the file system has no locks (an NFS mount without lockd, {@code ENOLCK}) an upload goes
 * on unlocked and no sweep removes anything it cannot lock, so leftovers stay there until an operator
 * removes them; a temp file of a server that predates this scheme holds no lock and may be removed by a
 * newer server's sweep, which fails that one upload (451), never another file.
 */
final class UploadTemp {

    /** Names tried before giving up (16 random hex digits each: a clash means something else is wrong). */
    private static final int NAME_ATTEMPTS = 10;
    /** The names of this JVM's temp files, from just before each is created until it is gone. */
    private static final Set<String> OWN = ConcurrentHashMap.newKeySet();

    final Path path;
    final FileChannel channel;
    private final String name;
    /** Held until the channel closes (closing it releases the lock); null where the file system has no locks. */
    private final FileLock lock;

    private UploadTemp(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.name = path.getFileName().toString();
        this.lock = lock;
    }

    /** A new, empty, locked temp file in {@code directory}, open for reading and writing. */
    static UploadTemp create(Path directory, FileModes modes) throws IOException {
        for (int attempt = 1; attempt <= NAME_ATTEMPTS; attempt++) {
            String name = Jail.UPLOAD_PREFIX + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
            if (!OWN.add(name)) {
                continue;
            }
            UploadTemp made = null;
            try {
                Path path = directory.resolve(name);
                // The upload's own mode from the start: the rename publishes the file as it is.
                FileChannel channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), modes.forFile(directory.getFileSystem()));
                try {
                    modes.setFile(path);
                } catch (IOException e) {
                    channel.close();
                    Files.deleteIfExists(path);
                    throw e;
                }
                made = lockOrGiveUp(path, channel);
            } catch (FileAlreadyExistsException e) {
                // another process's temp file by that name: try another
            } finally {
                if (made == null) {
                    OWN.remove(name);
                }
            }
            if (made != null) {
                return made;
            }
        }
        throw new IOException("no temp file could be made and locked in " + directory + " in " + NAME_ATTEMPTS + " attempts");
    }

    /** The temp file, locked; null when another process's sweep got to it first (it removes it). */
    private static UploadTemp lockOrGiveUp(Path path, FileChannel channel) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            // Only this JVM's own lock on the same file: impossible for a file created just now.
            lock = null;
        } catch (IOException e) {
            // No locks on this file system (ENOLCK): go on unlocked; no sweep can lock it either.
            return new UploadTemp(path, channel, null);
        }
        if (lock == null || !Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            // A sweep held the lock, or took it, removed the file and let go, before this one was taken.
            Closing.quietly(channel);
            return null;
        }
        return new UploadTemp(path, channel, lock);
    }

    /** Renames the file to {@code target} (atomically, replacing it), then closes it. */
    void publishAs(Path target) throws IOException {
        // Still locked during the rename: a sweep cannot take the file away between the check and the move.
        Files.move(path, target, StandardCopyOption.ATOMIC_MOVE);
        release();
    }

    /** Removes the file, then closes it; quietly (a file that cannot be removed is left to the next sweep). */
    void discard() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // left for the next start's sweep: hidden from listings and unaddressable meanwhile
        }
        release();
    }

    private void release() {
        // Closing the channel drops the lock; the name is forgotten only then, when the file is gone here.
        Closing.quietly(channel);
        OWN.remove(name);
    }

    /** What {@link #removeIfStale} did. */
    enum Removal {
        /** It was a leftover, and it is gone. */
        REMOVED,
        /** In use here or by another process, not a plain file, or not lockable here: left alone. */
        KEPT,
        /** Gone already (another sweep, or its upload ended). */
        GONE
    }

    /**
     * Removes {@code file}, a temp file name, when no upload uses it: not one of this JVM's, and its lock free
     * in every process.
     */
    static Removal removeIfStale(Path file) {
        String name = file.getFileName().toString();
        if (!name.startsWith(Jail.UPLOAD_PREFIX) || OWN.contains(name)) {
            return Removal.KEPT;
        }
        try {
            // SECURITY: only plain files are opened, without following links: a link would lead the sweep
            // elsewhere, and a FIFO would block it (the JDK cannot open without blocking: a local user who
            // swaps one in between these two steps stalls this sweep, or that one RMD).
            if (!Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isRegularFile()) {
                return Removal.KEPT;
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
                 FileLock lock = channel.tryLock()) {
                if (lock == null) {
                    return Removal.KEPT;
                }
                Files.delete(file);
                return Removal.REMOVED;
            }
        } catch (NoSuchFileException e) {
            return Removal.GONE;
        } catch (IOException | OverlappingFileLockException e) {
            // not ours to judge (no locks here, no access): left alone
            return Removal.KEPT;
        }
    }

    /** How many temp files of this JVM exist now (tests). */
    static int ownCount() {
        return OWN.size();
    }

}
