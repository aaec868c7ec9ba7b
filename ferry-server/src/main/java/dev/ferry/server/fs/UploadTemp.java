package dev.ferry.server.fs;

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
import java.util.concurrent.locks.ReentrantLock;

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
 * opens a temp file of its own: every temp file made here is recorded, by file key (device and inode, which
 * also catches another path to the same file, such as a bind mount), from its creation until it is gone,
 * and the creation and the sweep's look at one file (attributes, open, lock, remove, close) both run under
 * one JVM-wide lock, so the sweep cannot open a file between its creation and its record.
 *
 * <p>Limits: where the file system has no locks (an NFS mount without lockd, {@code ENOLCK}) an upload goes
 * on unlocked and no sweep removes anything it cannot lock, so leftovers stay there until an operator
 * removes them; a temp file of a server that predates this scheme holds no lock and may be removed by a
 * newer server's sweep, which fails that one upload (451), never another file.
 */
final class UploadTemp {

    /** Names tried before giving up (16 random hex digits each: a clash means something else is wrong). */
    private static final int NAME_ATTEMPTS = 10;
    /** The file keys (else the paths) of this JVM's temp files that exist. */
    private static final Set<Object> OWN = ConcurrentHashMap.newKeySet();
    /** Held while a temp file is created and recorded, and while the sweep looks at one file. */
    private static final ReentrantLock LOOK = new ReentrantLock();

    final Path path;
    final FileChannel channel;
    private final Object key;
    /** Null where the file system has no locks. */
    private final FileLock lock;

    private UploadTemp(Path path, FileChannel channel, Object key, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.key = key;
        this.lock = lock;
    }

    /** A new, empty, locked temp file in {@code directory}, open for reading and writing. */
    static UploadTemp create(Path directory) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path path = directory.resolve(Jail.UPLOAD_PREFIX + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
            FileChannel channel;
            Object key;
            LOOK.lock();
            try {
                try {
                    channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
                } catch (FileAlreadyExistsException e) {
                    if (attempt == NAME_ATTEMPTS) {
                        throw e;
                    }
                    continue;
                }
                try {
                    key = keyOf(path);
                } catch (IOException e) {
                    // Removed already by another process's sweep (it saw the file before this one could lock it).
                    closeQuietly(channel);
                    if (attempt == NAME_ATTEMPTS) {
                        throw e;
                    }
                    continue;
                }
                OWN.add(key);
            } finally {
                LOOK.unlock();
            }
            UploadTemp made = lockOrGiveUp(path, channel, key);
            if (made != null) {
                return made;
            }
            if (attempt == NAME_ATTEMPTS) {
                throw new IOException("no temp file could be locked in " + directory);
            }
        }
    }

    /** The temp file, locked; null when another process's sweep got to it first (it removes it). */
    private static UploadTemp lockOrGiveUp(Path path, FileChannel channel, Object key) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            // Only this JVM's own lock on the same file: impossible for a file created just now.
            lock = null;
        } catch (IOException e) {
            // No locks on this file system (ENOLCK): go on unlocked; no sweep can lock it either.
            return new UploadTemp(path, channel, key, null);
        }
        if (lock == null || !Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            // A sweep held the lock, or took it, removed the file and let go, before this one was taken.
            closeQuietly(channel);
            OWN.remove(key);
            return null;
        }
        return new UploadTemp(path, channel, key, lock);
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
        // Closing the channel drops the lock; the record goes only then, when no sweep here could disturb it.
        closeQuietly(channel);
        OWN.remove(key);
    }

    /** Whether the file system gave this file a lock (false: no locks there). */
    boolean locked() {
        return lock != null;
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
        if (!file.getFileName().toString().startsWith(Jail.UPLOAD_PREFIX)) {
            return Removal.KEPT;
        }
        LOOK.lock();
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            // SECURITY: only plain files are opened: a FIFO under this name would block the sweep, a link would
            // lead it elsewhere.
            if (!attributes.isRegularFile() || OWN.contains(key(attributes, file))) {
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
        } finally {
            LOOK.unlock();
        }
    }

    /** How many temp files of this JVM exist now (tests). */
    static int ownCount() {
        return OWN.size();
    }

    private static Object keyOf(Path path) throws IOException {
        return key(Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS), path);
    }

    private static Object key(BasicFileAttributes attributes, Path path) {
        Object key = attributes.fileKey();
        return key != null ? key : path.toAbsolutePath();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was published through it
        }
    }
}
