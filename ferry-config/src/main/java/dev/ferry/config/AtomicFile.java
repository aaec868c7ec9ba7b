package dev.ferry.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Replaces a file's contents so that a reader (the server, on SIGHUP) sees either the old file or the new
 * one, never a half-written one, and a crash leaves one of the two: the text goes to a temp file in the same
 * directory (a rename is atomic only within one file system), which is synced, checked, given the old file's
 * mode, owner and group, and renamed over the target; then the directory is synced so that the rename itself
 * survives a power cut.
 */
public final class AtomicFile {

    /** A check of the new file before it replaces the old one; it throws to stop the replacement. */
    @FunctionalInterface
    public interface Check {
        void accept(Path newFile) throws ConfigException;
    }

    /** The mode of a new file: it holds password hashes, so its owner only. */
    public static final Set<PosixFilePermission> NEW_FILE_MODE = PosixFilePermissions.fromString("rw-------");

    private AtomicFile() {
    }

    /**
     * Writes {@code text} (UTF-8) to {@code target}, keeping its mode, owner and group when it exists; a symbolic
     * link is followed, so the file it points to is replaced and the link stays.
     */
    public static void replace(Path target, String text, Check check) throws IOException, ConfigException {
        Path file = Files.exists(target) ? target.toRealPath() : target.toAbsolutePath();
        Path directory = file.getParent();
        PosixFileAttributes old = Files.exists(file)
                ? Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS) : null;
        Set<PosixFilePermission> mode = old == null ? NEW_FILE_MODE : old.permissions();
        // SECURITY: created with the owner-only mode from the start (not chmod-ed after writing), so the hashes
        // are never readable by others, even for a moment; the umask can only take bits away from it.
        Path temp = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(NEW_FILE_MODE));
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer bytes = StandardCharsets.UTF_8.encode(text);
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            check.accept(temp);
            if (old != null) {
                PosixFileAttributeView view = Files.getFileAttributeView(temp, PosixFileAttributeView.class);
                try {
                    if (!old.owner().equals(view.readAttributes().owner())) {
                        view.setOwner(old.owner());
                    }
                    if (!old.group().equals(view.readAttributes().group())) {
                        view.setGroup(old.group());
                    }
                } catch (FileSystemException e) {
                    throw new IOException("cannot give the new " + file.getFileName() + " the owner " + old.owner().getName()
                            + " and group " + old.group().getName() + " of the old one (run this as root or as the file's owner);"
                            + " the file is unchanged", e);
                }
            }
            Files.setPosixFilePermissions(temp, mode);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + file + " atomically (" + e.getMessage() + "); the file is unchanged", e);
            }
            moved = true;
            try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
                dir.force(true);
            } catch (IOException e) {
                // Some file systems cannot sync a directory; the rename is done, only its durability is weaker.
            }
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }
}
