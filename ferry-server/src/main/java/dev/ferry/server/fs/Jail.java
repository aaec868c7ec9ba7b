package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * The two-way mapping between virtual paths and one local directory tree.
 *
 * <p>Design: a virtual path is mapped lexically onto the real root (each segment must stay one file
 * name), then the file system is asked where that really is ({@code toRealPath}, which follows
 * symbolic links) and the answer must lie under the real root, compared as {@link Path}s, never
 * as string prefixes ("/home/ab" does not start with "/home/a"). Names about to be created are
 * checked through their parent's real path, and the name itself must not be a link leading out.
 * Errors go back the other way: whatever the JDK throws is rebuilt around the virtual path, so no
 * local path ever reaches a client.
 *
 * <p>Limit: a local user who can swap a directory for a symbolic link between the check and the use
 * can still race it (the JDK has no openat/O_BENEATH); FTP itself cannot create links. The final
 * component is opened with NOFOLLOW_LINKS, which closes that race for the last name.
 */
final class Jail {
    /** In-progress uploads are written under this prefix; such names are invisible and unaddressable. */
    static final String UPLOAD_PREFIX = ".ferry-upload-";

    /** A name in an existing directory: {@code target} is the real object (the link's target for a link), or null if absent. */
    record Entry(Path path, Path target) {
        boolean exists() {
            return target != null;
        }

        boolean isLink() {
            return target != null && !target.equals(path);
        }
    }

    private final Path realRoot;
    private final FileSystem fileSystem;
    private final String[] localRootTexts;
    private final boolean windows;
    /** What entries made inside the jail are created with (kept here: every upload path is handed the jail). */
    private final FileModes modes;

    Jail(Path root, FileModes modes) throws IOException {
        this.modes = modes;
        this.realRoot = root.toRealPath();
        if (!Files.isDirectory(realRoot)) {
            throw new NotDirectoryException(root.toString());
        }
        this.fileSystem = realRoot.getFileSystem();
        this.windows = fileSystem.getSeparator().equals("\\");
        this.localRootTexts = new String[] {realRoot.toString(), root.toString(), root.toAbsolutePath().toString()};
    }

    FileSystem fileSystem() {
        return fileSystem;
    }

    FileModes modes() {
        return modes;
    }

    /** The real path of an existing object, links followed; it lies inside the jail. */
    Path existing(VirtualPath path) throws IOException {
        Path plain = withoutLinks(path);
        if (plain != null) {
            return plain;
        }
        Path real;
        try {
            real = lexical(path).toRealPath();
        } catch (FileSystemException e) {
            // SECURITY: every failure reads "no such file" (missing, not a directory on the way,
            // link loop, no access behind a link), so a client cannot probe what lies outside.
            throw new NoSuchFileException(path.toString());
        } catch (IOException e) {
            throw hide(e, path);
        }
        // SECURITY: a symbolic link inside the jail must not lead outside it (Path comparison, by name elements).
        if (!contains(real)) {
            throw new NoSuchFileException(path.toString());
        }
        return real;
    }

    /**
     * The local path of {@code path} when the root and every name below it on the way are there and none is a
     * symbolic link: such a path is its own real path, and it lies inside the root by construction (each
     * segment one plain name, see localName). Null otherwise: a link (which {@link #existing} resolves in full
     * and checks), or a name missing or not a directory on the way (which it reports as before).
     *
     * <p>Why: toRealPath asks the file system about every component from "/" on (a failing readlink each,
     * the root's own ancestors included), about 2x the cost of one lstat per name below the root, on every
     * command that names a file. A cache of resolved directories would save more but would have to be trusted
     * between uses: a directory moved out of the root, with a link left in its place, still has the identity
     * a cache checks. Checked name by name each time, the window stays the one the class comment describes.
     */
    private Path withoutLinks(VirtualPath path) throws NoSuchFileException {
        Path local = realRoot;
        if (!plainDirectory(local)) {
            return null;
        }
        var segments = path.segments();
        int last = segments.size() - 1;
        for (int i = 0; i <= last; i++) {
            local = local.resolve(localName(segments.get(i), path));
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(local, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                return null;
            }
            if (attributes.isSymbolicLink() || (i < last && !attributes.isDirectory())) {
                return null;
            }
        }
        return local;
    }

    private static boolean plainDirectory(Path local) {
        try {
            return Files.readAttributes(local, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isDirectory();
        } catch (IOException e) {
            return false;
        }
    }

    /** An existing directory's real path; NotDirectoryException for anything else. */
    Path existingDirectory(VirtualPath path) throws IOException {
        Path real = existing(path);
        if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new NotDirectoryException(path.toString());
        }
        return real;
    }

    /**
     * The entry itself, links not followed: its parent's real path plus its name. The root is its own
     * entry. A link whose target is outside the jail, dangling or looping is refused as missing.
     */
    Entry entry(VirtualPath path) throws IOException {
        if (path.isRoot()) {
            return new Entry(realRoot, realRoot);
        }
        Path parent;
        try {
            parent = existingDirectory(path.parent());
        } catch (NoSuchFileException | NotDirectoryException e) {
            // name the path the caller asked about, not its parent
            throw new NoSuchFileException(path.toString());
        }
        Path local = parent.resolve(localName(path.name(), path));
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(local, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return new Entry(local, null);
        } catch (IOException e) {
            throw hide(e, path);
        }
        if (!attributes.isSymbolicLink()) {
            return new Entry(local, local);
        }
        return new Entry(local, linkTarget(local).orElseThrow(() -> new NoSuchFileException(path.toString())));
    }

    /** A link's real target if it exists inside the jail. */
    Optional<Path> linkTarget(Path link) {
        try {
            Path target = link.toRealPath();
            // SECURITY: a link leading outside the jail is treated as absent, whatever it points to.
            return contains(target) ? Optional.of(target) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    boolean contains(Path real) {
        return real.startsWith(realRoot);
    }

    /** The local file name for one virtual segment; NoSuchFileException if it cannot be exactly one name here. */
    Path localName(String segment, VirtualPath path) throws NoSuchFileException {
        // SECURITY: in-progress uploads are not addressable, so a client cannot read, replace or delete them.
        if (segment.startsWith(UPLOAD_PREFIX)) {
            throw new NoSuchFileException(path.toString());
        }
        Path name;
        try {
            name = fileSystem.getPath(segment);
        } catch (InvalidPathException e) {
            throw new NoSuchFileException(path.toString());
        }
        // SECURITY: a segment must stay one plain name on this file system: on Windows "a\..\.." or
        // "C:x" would otherwise bring separators or a root back in after the virtual path removed them.
        if (name.isAbsolute() || name.getRoot() != null || name.getNameCount() != 1
                || segment.equals(".") || segment.equals("..") || !name.toString().equals(segment)) {
            throw new NoSuchFileException(path.toString());
        }
        // SECURITY: Windows drops trailing dots and spaces from names, so "..." or ".. " could be
        // read there as another name than the one checked here.
        if (windows && (segment.endsWith(".") || segment.endsWith(" "))) {
            throw new NoSuchFileException(path.toString());
        }
        return name;
    }

    /** Whether a local directory entry's name can be shown to and sent back by a client. */
    boolean isListable(Path entry) {
        Path fileName = entry.getFileName();
        String name = fileName.toString();
        if (name.startsWith(UPLOAD_PREFIX)) {
            return false;
        }
        // SECURITY: names with CR, LF, NUL or other control characters would break listing lines and
        // could never be sent back; names whose bytes are not valid in the file system's encoding
        // decode to another name (U+FFFD), which would address a different file.
        if (!VirtualPath.isValidName(name)) {
            return false;
        }
        try {
            return fileSystem.getPath(name).equals(fileName);
        } catch (InvalidPathException e) {
            return false;
        }
    }

    private Path lexical(VirtualPath path) throws NoSuchFileException {
        Path local = realRoot;
        for (String segment : path.segments()) {
            local = local.resolve(localName(segment, path));
        }
        return local;
    }

    IOException hide(IOException e, VirtualPath path) {
        return hide(e, path, null);
    }

    /**
     * Rebuilds an exception around virtual paths: same type where callers care about it, the
     * operating system's reason kept unless it mentions the local root.
     */
    IOException hide(IOException e, VirtualPath path, VirtualPath other) {
        String file = path.toString();
        String second = other == null ? null : other.toString();
        if (e instanceof FileSystemException fse) {
            String reason = scrub(fse.getReason());
            return switch (fse) {
                case NoSuchFileException x -> new NoSuchFileException(file, second, reason);
                case FileAlreadyExistsException x -> new FileAlreadyExistsException(file, second, reason);
                case DirectoryNotEmptyException x -> new DirectoryNotEmptyException(file);
                case NotDirectoryException x -> new NotDirectoryException(file);
                case AccessDeniedException x -> new AccessDeniedException(file, second, reason);
                default -> new FileSystemException(file, second, reason);
            };
        }
        String reason = scrub(e.getMessage());
        return new IOException(file + ": " + (reason == null ? "I/O error" : reason));
    }

    private String scrub(String text) {
        if (text == null) {
            return null;
        }
        for (String local : localRootTexts) {
            if (text.contains(local)) {
                return "I/O error";
            }
        }
        return text;
    }
}
