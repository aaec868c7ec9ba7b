package dev.ferry.server.fs;

/** How an upload meets an existing file. */
public enum UploadMode {
    /** STOR: write aside, then atomically replace; a failed upload leaves the old file untouched. */
    REPLACE,
    /** APPE: write at the end of the file in place, creating it if missing; a failed upload is cut off again. */
    APPEND,
    /**
     * REST n + STOR: write from byte n in place; a failed upload puts back the old length and, when n was
     * before the end, the old bytes from n on (saved aside before they are overwritten).
     */
    RESUME,
    /** STOU: write into the empty file just made for it ({@link Storage#createUnique}); a failed upload removes it. */
    UNIQUE,
    /**
     * STOR into an anonymous upload directory: a new file only (O_EXCL); an existing name, even a dangling link,
     * fails with {@link java.nio.file.FileAlreadyExistsException}; a failed upload removes the file.
     */
    CREATE
}
