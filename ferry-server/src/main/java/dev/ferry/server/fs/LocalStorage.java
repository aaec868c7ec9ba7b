package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Storage in a local directory, which users see as "/".
 *
 * <p>Design: every operation first asks the {@link Jail} for a real path, which is guaranteed to be
 * inside the root (links followed and checked), then acts on that real path with
 * NOFOLLOW_LINKS where the JDK allows it, and rebuilds any exception around the virtual path.
 * Operations on a name (delete, rename, mkdir, upload) act on the entry itself, so a link is
 * removed or renamed as a link, like rm and mv do; reads and uploads go through a link to its
 * target when that target is inside the jail.
 */
public final class LocalStorage implements Storage {
    /** Longest base STOU keeps from a hint, leaving room for a ".n" or random suffix within 255 bytes. */
    private static final int MAX_UNIQUE_BASE_BYTES = 200;
    private static final int UNIQUE_SEQUENTIAL_TRIES = 100;
    private static final int UNIQUE_RANDOM_TRIES = 20;

    private final Jail jail;
    private final LocalAttributes attributes;

    /** With the default umask (022). @param root an existing directory (it may be reached through symbolic links) */
    public LocalStorage(Path root) throws IOException {
        this(root, new FileModes(FileModes.DEFAULT_UMASK));
    }

    /**
     * @param root  an existing directory (it may be reached through symbolic links)
     * @param modes the permissions of the files and directories users create
     */
    public LocalStorage(Path root, FileModes modes) throws IOException {
        this.jail = new Jail(root, modes);
        this.attributes = new LocalAttributes(jail.fileSystem());
    }

    @Override
    public FileInfo stat(VirtualPath path) throws IOException {
        Path real = jail.existing(path);
        return describe(real, path.name(), path);
    }

    @Override
    public DirectoryListing list(VirtualPath directory) throws IOException {
        Path real = jail.existingDirectory(directory);
        return LocalDirectoryListing.open(real, this::describeListed, directory, jail);
    }

    @Override
    public SeekableByteChannel openRead(VirtualPath file, long offset) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        Path real = jail.existing(file);
        FileType type = describe(real, file.name(), file).type();
        // SECURITY: only regular files are opened: a FIFO would block the transfer forever and a
        // device could stream without end.
        if (type == FileType.DIRECTORY) {
            throw new FileSystemException(file.toString(), null, "Is a directory");
        }
        if (type != FileType.FILE) {
            throw new FileSystemException(file.toString(), null, "Not a regular file");
        }
        try {
            FileChannel channel = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            if (offset != 0) {
                // a new channel is at 0 already; each position() is an lseek
                channel.position(offset);
            }
            return channel;
        } catch (IOException e) {
            throw jail.hide(e, file);
        }
    }

    @Override
    public Upload openUpload(VirtualPath file, UploadMode mode, long offset) throws IOException {
        Objects.requireNonNull(mode, "mode");
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        Jail.Entry entry = jail.entry(file);
        Path target = entry.exists() ? entry.target() : entry.path();
        if (entry.exists()) {
            FileType type = describe(target, file.name(), file).type();
            if (type == FileType.DIRECTORY) {
                throw new FileSystemException(file.toString(), null, "Is a directory");
            }
            if (type != FileType.FILE) {
                throw new FileSystemException(file.toString(), null, "Not a regular file");
            }
        }
        return switch (mode) {
            case REPLACE -> LocalUpload.replacing(target, file, jail);
            case APPEND -> LocalUpload.appending(target, entry.exists(), file, jail);
            case RESUME -> LocalUpload.resuming(target, entry.exists(), offset, file, jail);
            case UNIQUE -> {
                if (!entry.exists()) {
                    throw new NoSuchFileException(file.toString());
                }
                yield LocalUpload.intoNewFile(target, file, jail);
            }
            case CREATE -> {
                if (entry.exists()) {
                    throw new FileAlreadyExistsException(file.toString());
                }
                yield LocalUpload.newFileOnly(entry.path(), file, jail);
            }
        };
    }

    @Override
    public VirtualPath createUnique(VirtualPath directory, String hint) throws IOException {
        Path real = jail.existingDirectory(directory);
        String base = uniqueBase(hint);
        int tries = UNIQUE_SEQUENTIAL_TRIES + UNIQUE_RANDOM_TRIES;
        for (int i = 0; i < tries; i++) {
            String name = i == 0 ? base
                    : i < UNIQUE_SEQUENTIAL_TRIES ? base + "." + i
                    : base + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
            VirtualPath candidate;
            try {
                candidate = directory.child(name);
            } catch (InvalidVirtualPathException e) {
                throw new NoSuchFileException(directory.toString(), null, e.getMessage());
            }
            try {
                // CREATE_NEW (O_EXCL) is the atomic test: an existing name, even a dangling link, fails.
                Path made = real.resolve(jail.localName(name, candidate));
                Files.createFile(made, jail.modes().forFile(jail.fileSystem()));
                jail.modes().setFile(made);
                return candidate;
            } catch (FileAlreadyExistsException e) {
                // taken; try the next name
            } catch (IOException e) {
                throw jail.hide(e, directory);
            }
        }
        throw new FileAlreadyExistsException(directory.toString(), null, "no unique name found");
    }

    /** A hint reduced to one valid, visible name of bounded length; "file" when nothing usable is left. */
    private static String uniqueBase(String hint) {
        String base = hint == null ? "" : hint.substring(hint.lastIndexOf('/') + 1);
        if (!VirtualPath.isValidName(base) || base.startsWith(Jail.UPLOAD_PREFIX)) {
            return "file";
        }
        while (base.getBytes(StandardCharsets.UTF_8).length > MAX_UNIQUE_BASE_BYTES) {
            base = base.substring(0, base.offsetByCodePoints(base.length(), -1));
        }
        return base;
    }

    @Override
    public void createDirectory(VirtualPath dir) throws IOException {
        Jail.Entry entry = jail.entry(dir);
        if (entry.exists()) {
            throw new FileAlreadyExistsException(dir.toString());
        }
        try {
            Files.createDirectory(entry.path(), jail.modes().forDirectory(jail.fileSystem()));
            jail.modes().setDirectory(entry.path());
        } catch (IOException e) {
            throw jail.hide(e, dir);
        }
    }

    @Override
    public void removeDirectory(VirtualPath dir) throws IOException {
        // SECURITY: the user's home itself is never removed.
        if (dir.isRoot()) {
            throw new AccessDeniedException("/", null, "Cannot remove the root directory");
        }
        Jail.Entry entry = jail.entry(dir);
        if (!entry.exists()) {
            throw new NoSuchFileException(dir.toString());
        }
        if (entry.isLink() || !Files.isDirectory(entry.path(), LinkOption.NOFOLLOW_LINKS)) {
            throw new NotDirectoryException(dir.toString());
        }
        try {
            Files.delete(entry.path());
        } catch (DirectoryNotEmptyException e) {
            // Temp files of uploads cut short by a crash are invisible to the user, who could never remove
            // them: they must not keep the directory. Those of uploads in progress do, and say so.
            StaleUploads.removeIn(entry.path());
            try {
                Files.delete(entry.path());
            } catch (IOException again) {
                throw jail.hide(again, dir);
            }
        } catch (IOException e) {
            throw jail.hide(e, dir);
        }
    }

    @Override
    public void delete(VirtualPath file) throws IOException {
        Jail.Entry entry = jail.entry(file);
        if (!entry.exists()) {
            throw new NoSuchFileException(file.toString());
        }
        if (!entry.isLink() && Files.isDirectory(entry.path(), LinkOption.NOFOLLOW_LINKS)) {
            throw new FileSystemException(file.toString(), null, "Is a directory");
        }
        try {
            // On a link this removes the link, never its target.
            Files.delete(entry.path());
        } catch (IOException e) {
            throw jail.hide(e, file);
        }
    }

    @Override
    public void rename(VirtualPath from, VirtualPath to) throws IOException {
        // SECURITY: the user's home can be neither moved away nor replaced.
        if (from.isRoot() || to.isRoot()) {
            throw new AccessDeniedException("/", null, "Cannot rename the root directory");
        }
        Jail.Entry source = jail.entry(from);
        if (!source.exists()) {
            throw new NoSuchFileException(from.toString());
        }
        Jail.Entry destination = jail.entry(to);
        if (source.path().equals(destination.path())) {
            return;
        }
        if (destination.exists() && Files.isDirectory(destination.target(), LinkOption.NOFOLLOW_LINKS)) {
            throw new FileSystemException(to.toString(), null, "Is a directory");
        }
        if (!source.isLink() && destination.path().startsWith(source.path())) {
            throw new FileSystemException(from.toString(), to.toString(), "Cannot move a directory into itself");
        }
        try {
            try {
                Files.move(source.path(), destination.path(), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                // a mount point inside the home: fall back to copy and delete
                Files.move(source.path(), destination.path(), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw jail.hide(e, from, to);
        }
    }

    @Override
    public void setLastModified(VirtualPath path, Instant time) throws IOException {
        Path real = jail.existing(path);
        try {
            Files.setLastModifiedTime(real, FileTime.from(time));
        } catch (IOException e) {
            throw jail.hide(e, path);
        }
    }

    private FileInfo describe(Path real, String name, VirtualPath path) throws IOException {
        try {
            LocalAttributes.Read read = attributes.read(real, name);
            if (read.isLink()) {
                // the real path was a link a moment ago it was not: someone is racing us
                throw new NoSuchFileException(path.toString());
            }
            return read.info();
        } catch (IOException e) {
            throw jail.hide(e, path);
        }
    }

    /** A listing entry, or empty to skip it. */
    private Optional<FileInfo> describeListed(Path entry) {
        if (!jail.isListable(entry)) {
            return Optional.empty();
        }
        String name = entry.getFileName().toString();
        try {
            LocalAttributes.Read read = attributes.read(entry, name);
            if (!read.isLink()) {
                return Optional.of(read.info());
            }
            Optional<Path> target = jail.linkTarget(entry);
            if (target.isEmpty()) {
                return Optional.empty();
            }
            LocalAttributes.Read targetRead = attributes.read(target.get(), name);
            return targetRead.isLink() ? Optional.empty() : Optional.of(targetRead.info());
        } catch (IOException e) {
            // vanished or unreadable since the directory was read: not listed
            return Optional.empty();
        }
    }
}
