package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The permissions of what the server creates for its users (uploads, their temp files, MKD): 0666 and 0777
 * without the bits of the {@code server.umask} setting, as a shell's umask gives.
 *
 * <p>Set twice on purpose: as an attribute of the create call, so that the entry never exists with more than
 * it should (the kernel masks that attribute with the process umask), then exactly with a chmod, so that the
 * setting and not the process umask decides (systemd's UMask=, a shell's umask). Where the file system has no
 * POSIX permissions both are skipped.
 */
public final class FileModes {

    /** What a server creates with when nothing is set: 0644 files and 0755 directories. */
    public static final int DEFAULT_UMASK = 0022;

    private final Set<PosixFilePermission> file;
    private final Set<PosixFilePermission> directory;

    /** @param umask bits 0..0777 taken away from 0666 (files) and 0777 (directories) */
    public FileModes(int umask) {
        if (umask < 0 || umask > 0777) {
            throw new IllegalArgumentException("umask " + Integer.toOctalString(umask) + " is not within 0..0777");
        }
        this.file = permissions(0666 & ~umask);
        this.directory = permissions(0777 & ~umask);
    }

    /** The attributes a create call gets; none on a file system without POSIX permissions. */
    FileAttribute<?>[] forFile(FileSystem fs) {
        return posix(fs) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(file)} : new FileAttribute<?>[0];
    }

    FileAttribute<?>[] forDirectory(FileSystem fs) {
        return posix(fs) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(directory)} : new FileAttribute<?>[0];
    }

    /** The file's exact mode, whatever the process umask took away at create time. */
    void setFile(Path created) throws IOException {
        set(created, file);
    }

    void setDirectory(Path created) throws IOException {
        set(created, directory);
    }

    private static void set(Path created, Set<PosixFilePermission> mode) throws IOException {
        if (posix(created.getFileSystem())
                && !Files.getPosixFilePermissions(created, LinkOption.NOFOLLOW_LINKS).equals(mode)) {
            // NOFOLLOW_LINKS: a link put in the entry's place meanwhile is refused, not its target changed.
            Files.getFileAttributeView(created, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(mode);
        }
    }

    private static boolean posix(FileSystem fs) {
        return fs.supportedFileAttributeViews().contains("posix");
    }

    /** The nine permission bits of {@code mode} (e.g. 0644) as a set. */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values();   // OWNER_READ (0400) ... OTHERS_EXECUTE (0001)
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (0400 >> i)) != 0) {
                set.add(bits[i]);
            }
        }
        return set;
    }
}
