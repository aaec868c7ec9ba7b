package dev.ferry.server.listing;

import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Locale;

/**
 * LIST lines in the {@code ls -l} form that FTP clients parse (there is no standard; RFC 959 leaves
 * LIST output to the server, and clients match the Unix layout). Pure functions.
 */
public final class ListFormat {
    /** GNU ls shows the time of day for files changed within about six months, the year otherwise. */
    static final Duration RECENT = Duration.ofDays(180);

    private static final String[] MONTHS =
            {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

    private ListFormat() {
    }

    /**
     * One {@code ls -l} line without CRLF, e.g.
     * {@code "-rw-r--r--   1 ftp      ftp          1234 Nov 24 21:56 name"}. Dates in the last 180
     * days show HH:mm, older or future ones the year, in UTC with English month names. Owner and
     * group are always "ftp" (SECURITY: local user and group ids are not disclosed).
     */
    public static String listLine(FileInfo f, Instant now) {
        return String.format(Locale.ROOT, "%c%s %3d %-8s %-8s %8d %s %s",
                typeLetter(f.type()), f.permissions(), f.linkCount(), "ftp", "ftp", f.size(),
                date(f.lastModified(), now), f.name());
    }

    /** "Nov 24 21:56" (recent) or "Nov 24  2019" (older or in the future), always 12 characters. */
    static String date(Instant time, Instant now) {
        LocalDateTime t = LocalDateTime.ofInstant(Times.clamp(time), ZoneOffset.UTC);
        boolean recent = !time.isAfter(now) && time.isAfter(now.minus(RECENT));
        String monthDay = MONTHS[t.getMonthValue() - 1] + String.format(Locale.ROOT, " %2d ", t.getDayOfMonth());
        return recent
                ? monthDay + String.format(Locale.ROOT, "%02d:%02d", t.getHour(), t.getMinute())
                : monthDay + String.format(Locale.ROOT, "%5d", t.getYear());
    }

    /** '?' for other types, as GNU ls does for a type it cannot name. */
    private static char typeLetter(FileType type) {
        return switch (type) {
            case DIRECTORY -> 'd';
            case FILE -> '-';
            case OTHER -> '?';
        };
    }
}
