package dev.ferry.config;

import java.nio.file.Path;

/**
 * Where the daemons' log lines go and in which shape: the {@code log:} section of a Ferry file and the
 * {@code --log-format} and {@code --xferlog} flags. Both daemons read it at start only (Logback is set up
 * once, before the first line); a reload leaves it as it is.
 *
 * @param format  the console (stderr) lines: logfmt text or one JSON object per line
 * @param xferlog the file that receives one xferlog line per transfer, or null for none
 */
public record LogSettings(Format format, Path xferlog) {

    /** The console line's shape. */
    public enum Format {
        /** {@code 2026-12-07T14:07:36.123+00:00 INFO  ferry.server node=s1 event=...}: for people and grep. */
        LOGFMT,
        /** One JSON object per line, each field a member: for jq and log shippers. */
        JSON
    }

    /** logfmt on stderr, no xferlog file. */
    public static final LogSettings DEFAULTS = new LogSettings(Format.LOGFMT, null);

    public LogSettings withFormat(Format f) {
        return new LogSettings(f, xferlog);
    }

    public LogSettings withXferlog(Path file) {
        return new LogSettings(format, file);
    }
}
