package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An upload to a local file. A replacing upload writes a hidden temp file beside the target and
 * publishes it with one atomic rename, so readers see either the whole old file or the whole new
 * one, and a failed or aborted upload leaves the old file byte for byte. In-place uploads (append,
 * resume) write the target directly.
 *
 * <p>The data thread writes and commits; the control thread may abort (ABOR) at any time, which
 * closes the channel under the writer. State changes are synchronized so commit and abort never
 * both happen.
 */
final class LocalUpload implements Upload {
    private enum State { OPEN, COMMITTED, ABORTED }

    private final FileChannel channel;
    private final Path temp;      // null for in-place uploads
    private final Path target;
    private final VirtualPath virtualPath;
    private final Jail jail;
    private State state = State.OPEN;

    private LocalUpload(FileChannel channel, Path temp, Path target, VirtualPath virtualPath, Jail jail) {
        this.channel = channel;
        this.temp = temp;
        this.target = target;
        this.virtualPath = virtualPath;
        this.jail = jail;
    }

    /** Starts a replacing upload: a new temp file in the target's directory (same file system, so the rename is atomic). */
    static LocalUpload replacing(Path target, VirtualPath virtualPath, Jail jail) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path temp = target.resolveSibling(Jail.UPLOAD_PREFIX + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
            try {
                FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS);
                return new LocalUpload(channel, temp, target, virtualPath, jail);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw jail.hide(e, virtualPath);
                }
            } catch (IOException e) {
                throw jail.hide(e, virtualPath);
            }
        }
    }

    static LocalUpload inPlace(FileChannel channel, Path target, VirtualPath virtualPath, Jail jail) {
        return new LocalUpload(channel, null, target, virtualPath, jail);
    }

    @Override
    public WritableByteChannel channel() {
        return channel;
    }

    @Override
    public synchronized long commit() throws IOException {
        if (state == State.COMMITTED) {
            throw new IllegalStateException("upload already committed");
        }
        if (state == State.ABORTED) {
            throw new IOException(virtualPath + ": upload aborted");
        }
        try {
            // Durable before visible: without this a crash after the rename could leave an empty
            // file where the old one was.
            channel.force(true);
            long size = channel.size();
            channel.close();
            if (temp != null) {
                keepPermissionsOfReplacedFile();
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            }
            state = State.COMMITTED;
            return size;
        } catch (IOException e) {
            discard();
            throw jail.hide(e, virtualPath);
        }
    }

    @Override
    public synchronized void abort() {
        if (state == State.OPEN) {
            discard();
        }
    }

    @Override
    public void close() {
        abort();
    }

    private void discard() {
        state = State.ABORTED;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was published; the temp file is removed below either way
        }
        if (temp != null) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // a leftover temp file stays hidden from listings and unaddressable
            }
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
            Files.setPosixFilePermissions(temp, old.permissions());
        }
    }
}
