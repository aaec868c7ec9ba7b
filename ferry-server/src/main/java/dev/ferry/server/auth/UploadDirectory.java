package dev.ferry.server.auth;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import dev.ferry.server.fs.VirtualPath;
import java.util.Objects;

/**
 * A write-only directory for anonymous uploads (vsftpd's {@code anon_upload_enable}, ProFTPD's
 * {@code <Directory incoming>}): anonymous users may store new files in it and do nothing else
 * there, neither list, read, overwrite, append, rename nor delete. Outside it they stay read-only.
 *
 * <p>SECURITY: an anonymous area where anybody can both upload and download is a free file-sharing
 * drop ("warez"): one user uploads, thousands download, on the operator's bandwidth. Here what is
 * uploaded cannot be listed or fetched back until an administrator moves it out, and what is there
 * cannot be replaced or removed by the next anonymous user. The files are also written with mode
 * 0600 (the anonymous storage's umask is 077), so even another service sharing the directory does
 * not serve them.
 *
 * <p>A pure rule of the gate ({@code command.Gate}): a verb and the path it acts on in, a ruling out.
 * Whether a STOR meets an existing file is the file system's answer: the upload then opens the file
 * as new only ({@code UploadMode.CREATE}).
 */
public record UploadDirectory(VirtualPath directory) {

    /** What the rule says of one command. */
    public enum Ruling {
        /** The path is outside the upload directory: the account's usual rights apply. */
        OUTSIDE,
        /** A new upload into the directory: allowed, although the account is otherwise read-only. */
        UPLOAD,
        /** Anything else in the directory: refused ({@link #REFUSED}). */
        REFUSED
    }

    static final Reply REFUSED = Reply.of(550,
            "Permission denied: the upload directory is write-only; new files can be stored there, not listed, read, "
                    + "overwritten, renamed or deleted.");

    public UploadDirectory {
        Objects.requireNonNull(directory, "directory");
        if (directory.isRoot()) {
            throw new IllegalArgumentException("the upload directory cannot be the anonymous home itself");
        }
    }

    /** The reply for {@link Ruling#REFUSED}. */
    public Reply refusal() {
        return REFUSED;
    }

    /**
     * @param where       the path the verb acts on: its resolved argument, or for STOU the directory the file
     *                    goes to; null when the verb names no path
     * @param restPending a REST offset is waiting: a STOR would resume, that is overwrite, a file
     */
    public Ruling rule(Verb verb, VirtualPath where, boolean restPending) {
        if (where == null || !where.startsWith(directory)) {
            return Ruling.OUTSIDE;
        }
        return switch (verb) {
            // a new file below the directory; STOR of the directory itself is answered "Is a directory"
            case STOR -> restPending ? Ruling.REFUSED : Ruling.UPLOAD;
            case STOU -> Ruling.UPLOAD;
            // entering it is how clients upload ("cd incoming; put f"); listing it is not
            case CWD -> Ruling.OUTSIDE;
            default -> verb.permission() == Verb.Permission.NONE ? Ruling.OUTSIDE : Ruling.REFUSED;
        };
    }
}
