package dev.ferry.server.fs;

/** How an upload meets an existing file. */
public enum UploadMode {
    /** STOR: write aside, then atomically replace; a failed upload leaves the old file untouched. */
    REPLACE,
    /** APPE: write at the end of the file in place, creating it if missing. */
    APPEND,
    /** REST n + STOR: truncate the file to n bytes in place and write from there. */
    RESUME
}
