package dev.ferry.runtime.log;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * One line of the classic transfer log of wu-ftpd and ProFTPD ({@code man 5 xferlog}), which log analysers
 * (xferstats, AWStats, Webalizer) and auditors' scripts read. Pure: everything the line says is passed in.
 *
 * <pre>
 * current-time transfer-time remote-host file-size filename transfer-type special-action-flag direction
 * access-mode username service-name authentication-method authenticated-user-id completion-status
 * Mon Dec  7 14:05:28 2026 3 192.0.2.7 1048576 /pub/a.iso b _ o r alice ftp 0 * c
 * </pre>
 *
 * <p>The fields are split on white space, so none may hold any: a file name's spaces and control characters
 * become {@code _}, as ProFTPD does with its {@code TransferLog} (wu-ftpd wrote them raw, and a name with a
 * space shifted every field after it). The exact name is in the {@code event=transfer} line, quoted.
 */
public final class Xferlog {

    /** ctime(3) without the newline: the day of the month padded with a space, English names. */
    private static final DateTimeFormatter CTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT);

    /** direction: o outgoing (RETR), i incoming (STOR, APPE, STOU). */
    public enum Direction { OUTGOING, INCOMING }

    /** completion-status: c complete, i incomplete. */
    public enum Completion { COMPLETE, INCOMPLETE }

    private Xferlog() {
    }

    /**
     * The line (no line end).
     *
     * @param at        when the transfer ended, in the zone to write it in (the JVM's, as ctime writes local time)
     * @param elapsed   how long the transfer took
     * @param host      the client's address, without port
     * @param bytes     the bytes transferred
     * @param path      the virtual path of the file
     * @param ascii     TYPE A (else binary)
     * @param anonymous an anonymous login (access-mode a), else a real account (r)
     * @param user      the account's name
     */
    public static String line(ZonedDateTime at, Duration elapsed, String host, long bytes, String path, boolean ascii,
                              Direction direction, boolean anonymous, String user, Completion completion) {
        return CTIME.format(at)
                + ' ' + seconds(elapsed)
                + ' ' + field(host)
                + ' ' + bytes
                + ' ' + field(path)
                + ' ' + (ascii ? 'a' : 'b')
                + " _ " // special-action-flag: no compression, tar or other conversion
                + (direction == Direction.OUTGOING ? 'o' : 'i')
                + ' ' + (anonymous ? 'a' : 'r')
                + ' ' + field(user)
                + " ftp 0 * " // service-name, authentication-method (0: none, no RFC 931), authenticated-user-id
                + (completion == Completion.COMPLETE ? 'c' : 'i');
    }

    /**
     * transfer-time in whole seconds, as ProFTPD's mod_xfer writes it: the seconds of the elapsed time, the
     * fraction dropped (a transfer under a second is 0, as in ProFTPD's and wu-ftpd's logs).
     */
    static long seconds(Duration elapsed) {
        return Math.max(0, elapsed.toSeconds());
    }

    /** A field made one token: spaces and control characters become {@code _}; an empty value becomes {@code _}. */
    static String field(String value) {
        if (value == null || value.isEmpty()) {
            return "_";
        }
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            out.append(Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c) ? '_' : c);
        }
        return out.toString();
    }
}
