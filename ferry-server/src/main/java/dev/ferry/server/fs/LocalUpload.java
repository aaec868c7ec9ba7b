package dev.ferry.server.fs;

import dev.ferry.runtime.net.Closing;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An upload to a local file. A replacing upload writes a hidden temp file beside the target
 * ({@link UploadTemp}) and publishes it with one atomic rename, so readers see either the whole old file
 * or the whole new one, and a failed or aborted upload leaves the old file byte for byte. In-place
 * uploads (append, resume, STOU's new file) write the target directly and remember how to undo that: the
 * old length and modification time, the old bytes a REST+STOR overwrites (copied aside first), or that the
 * upload created the file. Undoing needs the server to run: a crash of the server in the middle of an
 * in-place upload leaves what was written so far (docs/uploads.md).
 *
 * <p>The data thread writes and commits; the control thread may abort (ABOR) at any time, which closes
 * the channel under the writer. State changes hold one lock, so commit and abort never both happen.
 */
final class LocalUpload implements Upload {
    private enum State { OPEN, COMMITTED, ABORTED }

    /**
     * How an in-place upload is undone. {@code created}: the upload made the file, so it is removed; else the
     * file is cut back to {@code length}, {@code tail} (the old bytes from there on, if a REST+STOR rewrites
     * them) is written after it, and its modification time goes back to {@code modified}. The bytes are undone
     * through {@code file}, a channel of its own opened with the upload, so that it is this file that is cut
     * back even if it was renamed or replaced meanwhile; the name is used (for the time, for removal) only
     * while it still leads to the file with {@code key}.
     */
    private record Undo(FileChannel file, Object key, boolean created, long length, UploadTemp tail, FileTime modified) {}

    private final ReentrantLock lock = new ReentrantLock();
    private final FileChannel channel;
    private final UploadTemp temp;      // a replacing upload's new content; null in place
    private final Undo undo;            // null for a replacing upload
    private final Path target;
    private final VirtualPath virtualPath;
    private final Jail jail;
    private State state = State.OPEN;

    private LocalUpload(FileChannel channel, UploadTemp temp, Undo undo, Path target, VirtualPath virtualPath, Jail jail) {
        this.channel = channel;
        this.temp = temp;
        this.undo = undo;
        this.target = target;
        this.virtualPath = virtualPath;
        this.jail = jail;
    }

    /** STOR: a new temp file in the target's directory (same file system, so the rename is atomic). */
    static LocalUpload replacing(Path target, VirtualPath virtualPath, Jail jail) throws IOException {
        UploadTemp temp;
        try {
            temp = UploadTemp.create(target.getParent(), jail.modes());
        } catch (IOException e) {
            throw jail.hide(e, virtualPath);
        }
        return new LocalUpload(temp.channel, temp, null, target, virtualPath, jail);
    }

    /** APPE: at the end of the file, or a new file. */
    static LocalUpload appending(Path target, boolean exists, VirtualPath virtualPath, Jail jail) throws IOException {
        if (!exists) {
            LocalUpload created = created(target, virtualPath, jail);
            if (created != null) {
                return created;
            }
        }
        FileChannel channel = open(target, virtualPath, jail, StandardOpenOption.APPEND);
        try {
            return new LocalUpload(channel, null, undoing(target, channel.size(), null), target, virtualPath, jail);
        } catch (IOException e) {
            Closing.quietly(channel);
            throw jail.hide(e, virtualPath);
        }
    }

    /** REST n + STOR: from byte n of the file (or a new file from 0); the bytes from n on are saved aside first. */
    static LocalUpload resuming(Path target, boolean exists, long offset, VirtualPath virtualPath, Jail jail)
            throws IOException {
        if (!exists) {
            if (offset > 0) {
                throw beyondEnd(virtualPath, offset, 0);
            }
            LocalUpload created = created(target, virtualPath, jail);
            if (created != null) {
                return created;
            }
        }
        // READ too: the bytes from n on are copied out through this channel.
        FileChannel channel = open(target, virtualPath, jail, StandardOpenOption.READ);
        long size;
        UploadTemp tail = null;
        Undo undo = null;
        try {
            size = channel.size();
            if (offset <= size) {
                if (offset < size) {
                    // REST n + STOR: the bytes after n are the ones being sent again, but until the upload
                    // succeeds they are the file's: kept aside (not flushed, they matter only while this runs).
                    tail = UploadTemp.create(target.getParent(), jail.modes());
                    copy(channel, offset, size - offset, tail.channel);
                }
                undo = undoing(target, offset, tail);
                channel.truncate(offset);
                channel.position(offset);
                return new LocalUpload(channel, null, undo, target, virtualPath, jail);
            }
        } catch (IOException e) {
            Closing.quietly(channel);
            if (undo != null) {
                Closing.quietly(undo.file);
            }
            if (tail != null) {
                tail.discard();
            }
            throw jail.hide(e, virtualPath);
        }
        Closing.quietly(channel);
        throw beyondEnd(virtualPath, offset, size);
    }

    /** STOU: the empty file just made for this upload; removed if it fails. */
    static LocalUpload intoNewFile(Path target, VirtualPath virtualPath, Jail jail) throws IOException {
        return intoOwnFile(open(target, virtualPath, jail), target, virtualPath, jail);
    }

    /** A new file at {@code target}; FileAlreadyExistsException when the name is taken, even meanwhile. */
    static LocalUpload newFileOnly(Path target, VirtualPath virtualPath, Jail jail) throws IOException {
        LocalUpload upload = created(target, virtualPath, jail);
        if (upload == null) {
            throw new FileAlreadyExistsException(virtualPath.toString());
        }
        return upload;
    }

    /** A new file at {@code target}, or null when something appeared there meanwhile. */
    private static LocalUpload created(Path target, VirtualPath virtualPath, Jail jail) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(target, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), jail.modes().forFile(jail.fileSystem()));
        } catch (FileAlreadyExistsException e) {
            return null;
        } catch (IOException e) {
            throw jail.hide(e, virtualPath);
        }
        try {
            jail.modes().setFile(target);
        } catch (IOException e) {
            Closing.quietly(channel);
            Files.deleteIfExists(target);
            throw jail.hide(e, virtualPath);
        }
        return intoOwnFile(channel, target, virtualPath, jail);
    }

    /** An upload into a file it made itself ({@code channel}): undoing it removes the file. */
    private static LocalUpload intoOwnFile(FileChannel channel, Path target, VirtualPath virtualPath, Jail jail)
            throws IOException {
        try {
            return new LocalUpload(channel, null, new Undo(null, key(target), true, 0, null, null), target, virtualPath, jail);
        } catch (IOException e) {
            Closing.quietly(channel);
            throw jail.hide(e, virtualPath);
        }
    }

    /** How to put the existing file at {@code target} back to its first {@code length} bytes (and {@code tail}). */
    private static Undo undoing(Path target, long length, UploadTemp tail) throws IOException {
        FileChannel file = FileChannel.open(target, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        try {
            return new Undo(file, key(target), false, length, tail, Files.getLastModifiedTime(target, LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            Closing.quietly(file);
            throw e;
        }
    }

    private static Object key(Path file) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /** Whether {@code file} still names the file with {@code key} (a null key: cannot tell, so no). */
    private static boolean stillNames(Path file, Object key) {
        try {
            return key != null && key.equals(key(file));
        } catch (IOException e) {
            return false;
        }
    }

    private static FileChannel open(Path target, VirtualPath virtualPath, Jail jail, OpenOption... extra) throws IOException {
        List<OpenOption> options = new ArrayList<>(List.of(StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
        options.addAll(List.of(extra));
        try {
            return FileChannel.open(target, options.toArray(OpenOption[]::new));
        } catch (IOException e) {
            throw jail.hide(e, virtualPath);
        }
    }

    static IOException beyondEnd(VirtualPath file, long offset, long size) {
        return new IOException(file + ": restart offset " + offset + " is beyond the end of the file (" + size + " bytes)");
    }

    @Override
    public WritableByteChannel channel() {
        return channel;
    }

    @Override
    public long commit(Precondition precondition) throws IOException {
        lock.lock();
        try {
            if (state == State.COMMITTED) {
                throw new IllegalStateException("upload already committed");
            }
            if (state == State.ABORTED) {
                throw new IOException(virtualPath + ": upload aborted");
            }
            long size;
            try {
                // Durable before visible: without this a crash after the rename could leave an empty
                // file where the old one was.
                channel.force(true);
                size = channel.size();
            } catch (IOException e) {
                abortQuietly();
                throw jail.hide(e, virtualPath);
            }
            // Asked after the flush, the last moment before the bytes become the file's: the flush takes time.
            String unmet = precondition.unmetBecause();
            if (unmet != null) {
                PreconditionFailedException refused = new PreconditionFailedException(unmet);
                try {
                    abortNow();
                } catch (IOException e) {
                    refused.addSuppressed(e);
                }
                throw refused;
            }
            try {
                if (temp != null) {
                    keepPermissionsOfReplacedFile();
                    temp.publishAs(target);
                } else {
                    channel.close();
                    forget();
                }
            } catch (IOException e) {
                abortQuietly();
                throw jail.hide(e, virtualPath);
            }
            state = State.COMMITTED;
            return size;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void abort() throws IOException {
        lock.lock();
        try {
            if (state == State.OPEN) {
                abortNow();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        try {
            abort();
        } catch (IOException ignored) {
            // the upload failed already (or was abandoned); that is what is reported
        }
    }

    private void abortQuietly() {
        try {
            abortNow();
        } catch (IOException ignored) {
            // the upload failed already; that error is the one reported
        }
    }

    /** Puts the file back as it was; the lock is held. */
    private void abortNow() throws IOException {
        state = State.ABORTED;
        if (temp != null) {
            // The old file was never touched: the temp file goes, and with it the new bytes.
            temp.discard();
            return;
        }
        // Closed first: a write still under way (ABOR from the control thread) ends before the file is undone.
        Closing.quietly(channel);
        try {
            undo();
        } catch (IOException e) {
            throw jail.hide(e, virtualPath);
        } finally {
            forget();
        }
    }

    private void undo() throws IOException {
        if (undo.created) {
            // Not if the name was given to another file meanwhile (a STOR of the same name that finished).
            if (stillNames(target, undo.key)) {
                Files.deleteIfExists(target);
            }
            return;
        }
        FileChannel file = undo.file;
        if (file.size() > undo.length) {
            file.truncate(undo.length);
        }
        if (undo.tail != null) {
            copy(undo.tail.channel, 0, undo.tail.channel.size(), file, undo.length);
        }
        file.force(true);
        if (stillNames(target, undo.key)) {
            Files.setLastModifiedTime(target, undo.modified);
        }
    }

    /** An in-place upload's undo is no longer needed (done, or the upload committed): its channel and saved end go. */
    private void forget() {
        if (undo.file != null) {
            Closing.quietly(undo.file);
        }
        if (undo.tail != null) {
            undo.tail.discard();
        }
    }

    /** Copies {@code count} bytes of {@code from} at {@code position} to the end of {@code to}. */
    private static void copy(FileChannel from, long position, long count, FileChannel to) throws IOException {
        long done = 0;
        while (done < count) {
            long n = from.transferTo(position + done, count - done, to);
            if (n <= 0) {
                throw new IOException("the file ended while its end was being saved");
            }
            done += n;
        }
    }

    /** Copies {@code count} bytes of {@code from} at {@code position} into {@code to} at {@code at}. */
    private static void copy(FileChannel from, long position, long count, FileChannel to, long at) throws IOException {
        long done = 0;
        while (done < count) {
            from.position(position + done);
            long n = to.transferFrom(from, at + done, count - done);
            if (n <= 0) {
                throw new IOException("the saved end of the file could not be written back");
            }
            done += n;
        }
    }

    /**
     * SECURITY: the new file takes the old file's permissions, so replacing a private (0600) file
     * does not publish its new content with the default, wider mode.
     */
    private void keepPermissionsOfReplacedFile() throws IOException {
        if (!target.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        PosixFileAttributes old;
        try {
            old = Files.readAttributes(target, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (old.isRegularFile()) {
            Files.setPosixFilePermissions(temp.path, old.permissions());
        }
    }
}
