package dev.ferry.server.command;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.server.events.EventHooks;
import dev.ferry.server.fs.DirectoryListing;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.listing.ListFormat;
import dev.ferry.server.listing.MlsxFormat;
import dev.ferry.server.log.SessionEvents;
import dev.ferry.server.policy.AccountQuota;
import dev.ferry.server.policy.Right;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Commands that act on paths over the control connection only. The gate has resolved each path argument
 * (Verb.PathKind) before a handler runs; a handler turns the file system's answer into a reply value.
 */
public final class FileCommands {

    private static final DateTimeFormatter MDTM = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);
    /** Strict: the default (smart) resolver would quietly turn February 31 into February 28. */
    private static final DateTimeFormatter MFMT = DateTimeFormatter.ofPattern("uuuuMMddHHmmss")
            .withResolverStyle(ResolverStyle.STRICT);
    /** ASCII SIZE needs a scan of the file; beyond this it is refused rather than stalling the session. */
    private static final long ASCII_SIZE_SCAN_LIMIT = 64L << 20;
    /** STAT of a directory sends its listing over the control connection; bounded like any reply. */
    private static final int STAT_LISTING_LIMIT = 10_000;

    private final SessionState s;
    private final SessionEvents log;
    private final Quotas quotas;
    private final EventHooks events;

    /** {@code events}: where DELE and RNTO report what they did. */
    public FileCommands(SessionState state, SessionEvents log, Quotas quotas, EventHooks events) {
        this.s = state;
        this.log = log;
        this.quotas = quotas;
        this.events = events;
    }

    private EventHooks.Origin origin() {
        return new EventHooks.Origin(s.user(), log.client(), log.id());
    }

    /**
     * The account's quota, counted before a change that frees room (so a first count cannot see the change and
     * the adjustment count it again); null for an account without one, or whose usage cannot be counted now.
     */
    private AccountQuota openQuota(String verb, VirtualPath path) {
        AccountQuota quota = quotas.current();
        if (quota == null) {
            return null;
        }
        try {
            quota.open();
            return quota;
        } catch (IOException e) {
            // The change goes ahead, uncounted: refusing deletes because the usage cannot be counted (a ledger
            // that cannot be reached, a home too big to walk) would leave a full account stuck. A first count made
            // later sees the file gone; a ledger that had counted it keeps the room taken (the safe side) until
            // it is recounted.
            log.warn("quota-error").with("cmd", verb).with("path", path).with("during", "open")
                    .with("error", e.getMessage()).log();
            return null;
        }
    }

    /** A file of {@code size} bytes is gone: its room is free. */
    private void freed(AccountQuota quota, VirtualPath path, long size) {
        try {
            quota.adjust(-size, -1);
        } catch (IOException e) {
            // The file is gone and the client told so; the usage is off until the ledger is recounted.
            log.warn("quota-error").with("path", path).with("during", "adjust").with("error", e.getMessage()).log();
        }
    }

    /** Path failure as a reply value; {@code creating}: the name was to be created (553 per RFC 959). */
    private static Reply failure(String arg, IOException e, boolean creating) {
        return switch (e) {
            case NoSuchFileException x -> Reply.of(550, arg + ": No such file or directory.");
            case FileAlreadyExistsException x -> Reply.of(550, arg + ": Already exists.");
            case DirectoryNotEmptyException x -> Reply.of(550, arg + ": Directory not empty.");
            case NotDirectoryException x -> Reply.of(550, arg + ": Not a directory.");
            case AccessDeniedException x -> Reply.of(550, arg + ": Permission denied.");
            default -> Reply.of(creating ? 553 : 550, arg + ": " + safeMessage(e));
        };
    }

    private static String safeMessage(IOException e) {
        // Storage exceptions carry virtual paths only; still, keep the text short and on one line.
        String m = e.getMessage();
        return m == null ? "Operation failed." : Printable.of(m, Replies.ECHO_LIMIT);
    }

    /** A handler body acting on a resolved path; I/O failures become reply values in {@link #onPath}. */
    @FunctionalInterface
    private interface PathAction {
        Reply apply() throws IOException;
    }

    /** Runs {@code action}; an I/O failure becomes the matching reply ({@code creating}: 553 per RFC 959). */
    private static Reply onPath(String arg, boolean creating, PathAction action) {
        try {
            return action.apply();
        } catch (IOException e) {
            return failure(arg, e, creating);
        }
    }

    public Reply cwd(String arg, VirtualPath path) {
        return onPath(arg, false, () -> {
            FileInfo info = s.storage().stat(path);
            if (info.type() != FileType.DIRECTORY) {
                return Reply.of(550, arg + ": Not a directory.");
            }
            s.cwd(path);
            return Reply.of(250, "Directory changed to " + path + ".");
        });
    }

    public Reply makeDirectory(String arg, VirtualPath path) {
        return onPath(arg, true, () -> {
            s.storage().createDirectory(path);
            log.info("mkdir").with("path", path).log();
            return Reply.of(257, Reply.quotePath(path.toString()) + " created.");
        });
    }

    public Reply removeDirectory(String arg, VirtualPath path) {
        return onPath(arg, false, () -> {
            if (path.isRoot()) {
                return Reply.of(550, "The root directory cannot be removed.");
            }
            s.storage().removeDirectory(path);
            log.info("rmdir").with("path", path).log();
            return Reply.of(250, "Directory removed.");
        });
    }

    public Reply delete(String arg, VirtualPath path) {
        return onPath(arg, false, () -> {
            FileInfo info = s.storage().stat(path);
            if (info.type() == FileType.DIRECTORY) {
                return Reply.of(550, arg + ": Is a directory (use RMD).");
            }
            AccountQuota quota = info.type() == FileType.FILE ? openQuota("DELE", path) : null;
            s.storage().delete(path);
            if (quota != null) {
                freed(quota, path, info.size());
            }
            log.info("delete").with("path", path).log();
            events.delete(origin(), path, info.size());
            return Reply.of(250, "File deleted.");
        });
    }

    public Reply renameFrom(String arg, VirtualPath path) {
        return onPath(arg, false, () -> {
            if (path.isRoot()) {
                return Reply.of(550, "The root directory cannot be renamed.");
            }
            s.storage().stat(path);
            s.renameFrom(path);
            return Reply.of(350, "File exists; send RNTO with the new name.");
        });
    }

    /** RNTO: {@code from} is the pending RNFR's path (the gate checked there is one). */
    public Reply renameTo(String arg, VirtualPath from, VirtualPath to) {
        try {
            if (to.isRoot()) {
                return Reply.of(553, "Cannot rename to the root directory.");
            }
            // Per-folder rights: renaming over an existing entry replaces it, which OVERWRITE governs (SFTPGo's
            // rule); the gate asked RENAME at both ends.
            if (s.account().hasFolderRights() && exists(to)) {
                Reply refused = Gate.folderRefusal(Right.OVERWRITE, to, true, s);
                if (refused != null) {
                    log.refused("RNTO", to, Gate.reason(refused), refused);
                    return refused;
                }
            }
            AccountQuota quota = openQuota("RNTO", to);
            // A rename over a file frees the replaced file's room (its content is gone); a rename onto itself
            // replaces nothing.
            FileInfo replaced = quota == null || from.equals(to) ? null : existingFile(to);
            s.storage().rename(from, to);
            if (replaced != null) {
                freed(quota, to, replaced.size());
            }
            log.info("rename").with("from", from).with("to", to).log();
            events.rename(origin(), from, to, s.storage());
            return Reply.of(250, "Renamed.");
        } catch (IOException e) {
            return failure(arg, e, true);
        }
    }

    private boolean exists(VirtualPath path) throws IOException {
        try {
            s.storage().stat(path);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** The regular file at {@code path}, or null when there is none. */
    private FileInfo existingFile(VirtualPath path) throws IOException {
        try {
            FileInfo info = s.storage().stat(path);
            return info.type() == FileType.FILE ? info : null;
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    public Reply size(String arg, VirtualPath path) {
        return onPath(arg, false, () -> {
            FileInfo info = s.storage().stat(path);
            if (info.type() != FileType.FILE) {
                return Reply.of(550, arg + ": Not a plain file.");
            }
            if (!s.ascii()) {
                return Reply.of(213, Long.toString(info.size()));
            }
            // RFC 3659 §4: SIZE is the number of octets a RETR would send in the current TYPE.
            if (info.size() > ASCII_SIZE_SCAN_LIMIT) {
                return Reply.of(550, "SIZE in ASCII mode is not available for files over 64 MiB; use TYPE I.");
            }
            return Reply.of(213, Long.toString(asciiSize(path, info.size())));
        });
    }

    private long asciiSize(VirtualPath path, long binarySize) throws IOException {
        long lone = 0;
        try (SeekableByteChannel ch = s.storage().openRead(path, 0); InputStream in = Channels.newInputStream(ch)) {
            byte[] buf = new byte[64 * 1024];
            int prev = -1;
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n' && prev != '\r') {
                        lone++;
                    }
                    prev = buf[i];
                }
            }
        }
        return binarySize + lone;
    }

    public Reply modificationTime(String arg, VirtualPath path) {
        return onPath(arg, false, () -> {
            FileInfo info = s.storage().stat(path);
            // RFC 3659 §3.1: YYYYMMDDHHMMSS in UTC.
            return Reply.of(213, MDTM.format(info.lastModified()));
        });
    }

    /** MFMT YYYYMMDDHHMMSS[.sss] path (draft-somers-ftp-mfxx): replies 213 Modify=...; path. */
    public Reply setModificationTime(String arg) {
        int space = arg.indexOf(' ');
        if (space < 0) {
            return Reply.of(501, "Syntax: MFMT YYYYMMDDHHMMSS path.");
        }
        String stamp = arg.substring(0, space);
        String name = arg.substring(space + 1);
        Instant time;
        try {
            String whole = stamp.length() > 14 && stamp.charAt(14) == '.' ? stamp.substring(0, 14) : stamp;
            if (!whole.matches("\\d{14}")) {
                return Reply.of(501, "Syntax: MFMT YYYYMMDDHHMMSS path.");
            }
            time = LocalDateTime.parse(whole, MFMT).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            return Reply.of(501, "Invalid time '" + Printable.of(stamp, Replies.ECHO_LIMIT) + "'.");
        }
        try {
            VirtualPath path = VirtualPath.resolve(s.cwd(), name);
            // the gate saw no path (it is the argument's tail): asked here, with it
            Reply refused = Gate.check(Verb.MFMT, path, s);
            if (refused != null) {
                log.refused("MFMT", path, Gate.reason(refused), refused);
                return refused;
            }
            s.storage().setLastModified(path, time);
            return Reply.of(213, "Modify=" + MDTM.format(time) + "; " + name);
        } catch (InvalidVirtualPathException e) {
            return Reply.of(550, e.getMessage());
        } catch (IOException e) {
            return failure(name, e, false);
        }
    }

    /**
     * HASH path (draft-bryan-ftpext-hash): "213 ALGORITHM 0-END HEX path". Always of the whole file (RANG is not
     * offered), so a digest the storage keeps (an object's checksum) is the answer when it has one, without
     * reading the file back.
     */
    public Reply hash(String arg, VirtualPath path) {
        try {
            // The kept digest first: only a file has one, so when there is one the stat is not needed (on an
            // object store each is a HeadObject).
            Storage.StoredHash stored = s.storage().storedHash(path, s.hashAlgorithm());
            if (stored != null) {
                return Reply.of(213, s.hashAlgorithm() + " 0-" + stored.size() + " " + stored.hex() + " " + arg);
            }
            FileInfo info = s.storage().stat(path);
            if (info.type() != FileType.FILE) {
                return Reply.of(550, arg + ": Not a plain file.");
            }
            MessageDigest digest = MessageDigest.getInstance(s.hashAlgorithm());
            long total = 0;
            try (SeekableByteChannel ch = s.storage().openRead(path, 0); InputStream in = Channels.newInputStream(ch)) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    digest.update(buf, 0, n);
                    total += n;
                }
            }
            return Reply.of(213, s.hashAlgorithm() + " 0-" + total + " " + HexFormat.of().formatHex(digest.digest()) + " " + arg);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            return failure(arg, e, false);
        }
    }

    /** MLST [path] (RFC 3659 §7.2.1): the facts of one entry over the control connection. */
    public Reply mlst(String arg, VirtualPath path) {
        try {
            FileInfo info = s.storage().stat(path);
            String type = info.type() == FileType.DIRECTORY ? "dir" : info.type() == FileType.FILE ? "file" : "OS.unix=other";
            String facts = MlsxFormat.factsLine(info, path.toString(), type, s.account().rightsAt(path, false),
                    s.account().rightsAt(path, true), s.mlstFacts());
            return Reply.multiLine(250, "Listing " + path, List.of(" " + facts), "End");
        } catch (IOException e) {
            return failure(arg == null ? s.cwd().toString() : arg, e, false);
        }
    }

    /** STAT path (RFC 959 §4.1.3): a listing over the control connection, 213 (a directory) or 211. */
    public Reply statPath(String arg, VirtualPath path) {
        try {
            FileInfo info = s.storage().stat(path);
            Instant now = Instant.now();
            List<String> lines = new ArrayList<>();
            if (info.type() == FileType.DIRECTORY) {
                try (DirectoryListing entries = s.storage().list(path)) {
                    for (FileInfo e : entries) {
                        if (lines.size() == STAT_LISTING_LIMIT) {
                            lines.add("(listing truncated after " + STAT_LISTING_LIMIT + " entries; use LIST)");
                            break;
                        }
                        lines.add(ListFormat.listLine(e, now));
                    }
                }
            } else {
                lines.add(ListFormat.listLine(info, now));
            }
            return Reply.multiLine(213, "Status of " + path + ":", lines, "End of status.");
        } catch (IOException e) {
            return failure(arg, e, false);
        }
    }
}
