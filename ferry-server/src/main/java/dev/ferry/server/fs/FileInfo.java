package dev.ferry.server.fs;

import java.time.Instant;
import java.util.Objects;

/**
 * What a listing or MLST needs to know about one entry.
 *
 * @param name         the entry's name (the last segment; "/" for the root)
 * @param type         file, directory or other
 * @param size         size in bytes
 * @param lastModified modification time
 * @param permissions  nine characters in the {@code ls -l} form, e.g. "rwxr-xr-x"
 * @param linkCount    number of hard links
 * @param uniqueId     stable id of the object (e.g. device and inode in hex), for the MLSx unique fact
 */
public record FileInfo(String name, FileType type, long size, Instant lastModified,
                       String permissions, int linkCount, String uniqueId) {
    public FileInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(lastModified, "lastModified");
        Objects.requireNonNull(permissions, "permissions");
        if (permissions.length() != 9) {
            throw new IllegalArgumentException("permissions must be 9 characters: " + permissions);
        }
    }

    public boolean isDirectory() {
        return type == FileType.DIRECTORY;
    }
}
