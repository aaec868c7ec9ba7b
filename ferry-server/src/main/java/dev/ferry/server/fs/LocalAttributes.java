package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Reads a {@link FileInfo} from a local path with one stat call, using the richest attribute view
 * the file system offers: "unix" (mode, link count, device and inode), else "posix", else "basic"
 * with synthesized permissions. Links are never followed here; callers pass real paths.
 */
final class LocalAttributes {
    private static final String UNIX_ATTRIBUTES =
            "unix:mode,nlink,dev,ino,size,lastModifiedTime,isDirectory,isRegularFile,isSymbolicLink";

    private final boolean unix;
    private final boolean posix;

    LocalAttributes(FileSystem fileSystem) {
        this.unix = fileSystem.supportedFileAttributeViews().contains("unix");
        this.posix = fileSystem.supportedFileAttributeViews().contains("posix");
    }

    /** What a listing needs, or for a symbolic link only {@code isLink} (callers resolve it). */
    record Read(boolean isLink, FileInfo info) {}

    Read read(Path path, String name) throws IOException {
        if (unix) {
            Map<String, Object> a = Files.readAttributes(path, UNIX_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
            if ((Boolean) a.get("isSymbolicLink")) {
                return new Read(true, null);
            }
            FileType type = type((Boolean) a.get("isDirectory"), (Boolean) a.get("isRegularFile"));
            String id = Long.toHexString((Long) a.get("dev")) + "." + Long.toHexString((Long) a.get("ino"));
            return new Read(false, new FileInfo(name, type, (Long) a.get("size"),
                    ((FileTime) a.get("lastModifiedTime")).toInstant(), rwx((Integer) a.get("mode")),
                    (Integer) a.get("nlink"), id));
        }
        BasicFileAttributes a = posix
                ? Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                : Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isSymbolicLink()) {
            return new Read(true, null);
        }
        FileType type = type(a.isDirectory(), a.isRegularFile());
        String permissions = a instanceof PosixFileAttributes p
                ? PosixFilePermissions.toString(p.permissions())
                : type == FileType.DIRECTORY ? "rwxr-xr-x" : "rw-r--r--";
        return new Read(false, new FileInfo(name, type, a.size(), a.lastModifiedTime().toInstant(), permissions, 1,
                uniqueId(a.fileKey(), path)));
    }

    private static FileType type(boolean directory, boolean regular) {
        return directory ? FileType.DIRECTORY : regular ? FileType.FILE : FileType.OTHER;
    }

    /** The nine permission characters of a Unix mode. */
    static String rwx(int mode) {
        char[] out = new char[9];
        String letters = "rwx";
        for (int i = 0; i < 9; i++) {
            out[i] = (mode & (1 << (8 - i))) != 0 ? letters.charAt(i % 3) : '-';
        }
        return new String(out);
    }

    /**
     * Without inode numbers: the file key if the platform has one, else the real path; hashed so
     * the id neither leaks the local path nor contains characters a fact value may not hold.
     */
    private static String uniqueId(Object fileKey, Path path) {
        String source = fileKey != null ? fileKey.toString() : path.toString();
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(source.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JDK", e);
        }
    }
}
