package dev.ferry.server.command;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.PeerEnd;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.server.ServerContext;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.auth.UploadDirectory;
import dev.ferry.server.data.ControlSide;
import dev.ferry.server.data.DataConnection;
import dev.ferry.server.data.DataEndpoint;
import dev.ferry.server.data.LineSink;
import dev.ferry.server.data.LocalIOException;
import dev.ferry.server.data.TransferBody;
import dev.ferry.server.data.TransferPlan;
import dev.ferry.server.data.TransferProgress;
import dev.ferry.server.data.TransferRunner;
import dev.ferry.server.data.Transfers;
import dev.ferry.server.events.EventHooks;
import dev.ferry.server.fs.DirectoryListing;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.listing.ListFormat;
import dev.ferry.server.listing.MlsxFormat;
import dev.ferry.server.log.SessionEvents;
import dev.ferry.server.metrics.ServerMetrics.Direction;
import dev.ferry.server.policy.AccountQuota;
import dev.ferry.server.policy.QuotaLedger;
import dev.ferry.server.policy.QuotaReads;
import dev.ferry.server.policy.Right;
import dev.ferry.server.policy.Throttle;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * RETR, STOR, APPE, STOU, LIST, NLST and MLSD: each checks what it can before the data connection (the file
 * opens, the offset fits, the directory exists), answers a refusal as a reply value, and otherwise hands a
 * {@link TransferPlan} to the {@link TransferRunner}, whose replies (150, then 226 or an error) end the
 * command. Every transfer command consumes the REST offset (RFC 3659 §5.3).
 */
public final class TransferCommands {


    /** Downloads up to this size run on the control thread (see retrieve). */
    static final long INLINE_TRANSFER_BYTES = 64 * 1024;

    public enum ListingKind { LIST, NLST, MLSD }

    private final ServerContext ctx;
    private final SessionState state;
    private final TransferRunner runner;
    private final ControlSide control;
    private final SessionEvents log;
    private final InetAddress dataPeer;
    private final Quotas quotas;

    public TransferCommands(ServerContext ctx, SessionState state, TransferRunner runner, ControlSide control,
                            SessionEvents log, InetAddress dataPeer, Quotas quotas) {
        this.ctx = ctx;
        this.quotas = quotas;
        this.log = log;
        this.state = state;
        this.runner = runner;
        this.control = control;
        this.dataPeer = dataPeer;
    }

    /** RETR: {@code path} is the argument resolved by the gate; {@code arg} names it in replies. */
    public Reply retrieve(String arg, VirtualPath path) throws IOException {
        long offset = state.takeRestOffset();
        SeekableByteChannel in;
        long size;
        try {
            // One resolution: openRead checks that the path is a regular file inside the jail.
            in = state.storage().openRead(path, 0);
            size = in.size();
        } catch (NoSuchFileException e) {
            return Reply.of(550, arg + ": No such file.");
        } catch (AccessDeniedException e) {
            return Reply.of(550, arg + ": Permission denied.");
        } catch (FileSystemException e) {
            return Reply.of(550, arg + ": Not a plain file.");
        }
        if (offset > size) {
            Closing.quietly(in);
            return Reply.of(554, "Restart offset " + offset + " is beyond the end of the file (" + size + " bytes).");
        }
        if (offset != 0) {
            // opened at 0; each position() is an lseek, and most downloads start at 0
            in.position(offset);
        }
        boolean ascii = state.ascii();
        String opening = "Opening " + (ascii ? "ASCII" : "BINARY") + " mode data connection for " + path
                + " (" + (size - offset) + " bytes).";
        // A small file is sent in microseconds: on the control thread, saving a thread hand-off per
        // file; ABOR has nothing to interrupt in that time. Only once the data connection is there:
        // waiting for it (up to the accept timeout) or connecting out must leave the control
        // connection free to read ABOR.
        // A limited download is never inline: waiting for its turn could take seconds, the control thread's.
        Throttle throttle = state.downloadThrottle();
        boolean inline = size - offset <= INLINE_TRANSFER_BYTES && !throttle.limited() && dataConnectionWaiting();
        start("RETR", path, opening, Direction.DOWNLOAD, inline, new Download(ctx, in, offset, ascii, throttle));
        return null;
    }

    /**
     * The bytes of a RETR: sendfile in clear text, else through a buffer (TLS, ASCII conversion); {@code throttle}
     * the user's and the server's download rates.
     */
    private record Download(ServerContext ctx, SeekableByteChannel in, long offset, boolean ascii, Throttle throttle)
            implements TransferBody {

        @Override
        public long run(DataConnection data, Watchdog.Guard guard, TransferProgress progress) throws IOException {
            Duration timeout = ctx.settings().limits().dataTimeout();
            // sendfile only in clear text (PROT C): TLS must encrypt every byte in user space.
            if (!ascii && in instanceof FileChannel file && data.plain()) {
                return Transfers.sendFile(file, offset, data.socket(), guard, timeout, progress, throttle);
            }
            return Transfers.send(in, data.channel(), ascii, ctx.buffers(), guard, timeout, progress, throttle);
        }

        @Override
        public void finish(boolean success) {
            Closing.quietly(in);
        }

        @Override
        public long limit() {
            return throttle.rate();
        }
    }

    private boolean dataConnectionWaiting() throws IOException {
        return state.endpoint() instanceof DataEndpoint.Passive p && p.listener().connectionWaiting(dataPeer);
    }

    /** STOR or APPE to {@code path}, resolved by the gate. */
    public Reply store(VirtualPath path, boolean append) throws IOException {
        long offset = state.takeRestOffset();
        UploadMode mode = append ? UploadMode.APPEND : offset > 0 ? UploadMode.RESUME
                : intoUploadDirectory(path) ? UploadMode.CREATE : UploadMode.REPLACE;
        return startUpload(path, mode, offset, append ? "APPE" : "STOR", null, null);
    }

    /** A STOR the gate let through as an anonymous upload: it may create a file, not replace one. */
    private boolean intoUploadDirectory(VirtualPath path) {
        UploadDirectory uploads = state.account().uploads();
        return uploads != null && uploads.rule(Verb.STOR, path, false) == UploadDirectory.Ruling.UPLOAD;
    }

    /** STOU [hint] (RFC 959 §4.1.3): the hint is a name, not a path to write, so the table gives no path kind. */
    public Reply storeUnique(String arg) throws IOException {
        state.takeRestOffset();
        // The quota before the name: a full quota must not leave an empty file behind.
        AccountQuota quota = quotas.current();
        QuotaLedger.Reservation reservation = null;
        if (quota != null) {
            try {
                reservation = quota.reserve(firstBytes(quota, 0, 0), 1);
            } catch (IOException e) {
                return quotaUnavailable("STOU", state.cwd(), e);
            }
            if (reservation == null) {
                return quotaExceeded("STOU", state.cwd(), quota);
            }
        }
        Object created = createUnique(arg);
        if (created instanceof VirtualPath path) {
            // RFC 1123 §4.1.2.9: the generated name goes in the 150 reply, as "150 FILE: name".
            return startUpload(path, UploadMode.UNIQUE, 0, "STOU", "FILE: " + path.name(), reservation);
        }
        if (reservation != null) {
            reservation.release();
        }
        return (Reply) created;
    }

    /** STOU's new empty file: its path, or the reply that refuses it. */
    private Object createUnique(String arg) {
        try {
            VirtualPath hint = arg == null ? null : VirtualPath.resolve(state.cwd(), arg);
            VirtualPath dir = hint == null ? state.cwd() : hint.parent();
            if (!dir.equals(state.cwd())) {
                // the gate saw the working directory; the hint names another one ("STOU ../pub/x"): ask again
                Reply refused = Gate.check(Verb.STOU, dir, state);
                if (refused != null) {
                    return refused;
                }
            }
            return state.storage().createUnique(dir, hint == null ? "ftp" : hint.name());
        } catch (InvalidVirtualPathException e) {
            return Reply.of(553, e.getMessage());
        } catch (NoSuchFileException | NotDirectoryException e) {
            // "STOU file/x" where file is not a directory: the same answer as a missing one.
            return Reply.of(553, "No such directory.");
        } catch (AccessDeniedException e) {
            return Reply.of(550, "Permission denied.");
        } catch (IOException e) {
            return Reply.of(451, "Cannot create a unique file here.");
        }
    }

    /** 552 before the 150 (RFC 959 §4.2): the account's quota is full; nothing was opened. */
    private Reply quotaExceeded(String verb, VirtualPath path, AccountQuota quota) {
        Reply reply = Reply.of(552, "Quota exceeded (" + quota.limitText() + "): " + path + " was not stored.");
        log.refused(verb, path, "quota", reply);
        return reply;
    }

    /** {@code reserved}: STOU's quota reservation, made before its file; null otherwise. */
    private Reply startUpload(VirtualPath path, UploadMode mode, long offset, String verb, String opening,
                              QuotaLedger.Reservation reserved) throws IOException {
        FileInfo existing = null;
        try {
            existing = state.storage().stat(path);
            if (existing.type() == FileType.DIRECTORY) {
                release(reserved);
                return Reply.of(550, path + ": Is a directory.");
            }
        } catch (NoSuchFileException e) {
            // a new file
        } catch (IOException | RuntimeException e) {
            // STOU's reservation is nobody else's to release: left, it would hold its file for the whole lease
            release(reserved);
            throw e;
        }
        boolean exists = existing != null;
        if (mode != UploadMode.UNIQUE) {
            // Per-folder rights (Gate.asked): an existing file needs OVERWRITE, a new one UPLOAD; refused here,
            // before the file is opened, so that nothing is stored.
            Reply refused = Gate.folderRefusal(exists ? Right.OVERWRITE : Right.UPLOAD, path, false, state);
            if (refused != null) {
                log.refused(verb, path, Gate.reason(refused), refused);
                return refused;
            }
            mode = newFileOnly(mode, exists, Gate.folderRefusal(Right.OVERWRITE, path, false, state) == null);
            if (mode == UploadMode.CREATE) {
                // an APPE made a new file: a REST before it offsets nothing
                offset = 0;
            }
        }
        UploadQuota quota = null;
        AccountQuota account = quotas.current();
        if (account != null) {
            // Reserved before anything is opened: a full quota is answered at once, before the 150.
            boolean created = existing == null || mode == UploadMode.UNIQUE;
            long replaced = existing == null ? 0 : existing.size();
            long start = mode == UploadMode.APPEND ? replaced : offset;
            QuotaLedger.Reservation reservation;
            try {
                reservation = reserved != null ? reserved
                        : account.reserve(firstBytes(account, start, replaced), created ? 1 : 0);
            } catch (IOException e) {
                return quotaUnavailable(verb, path, e);
            }
            if (reservation == null) {
                return quotaExceeded(verb, path, account);
            }
            quota = new UploadQuota(reservation, account.quota(), state.storage(), path, mode, start, replaced, created);
        }
        Reply refused;
        try {
            refused = openUpload(path, mode, offset, verb, opening, quota);
        } catch (IOException | RuntimeException e) {
            release(quota == null ? null : quota.reservation());
            throw e;
        }
        if (refused != null) {
            // Not started: the transfer never took the reservation over.
            release(quota == null ? null : quota.reservation());
        }
        return refused;
    }

    /**
     * SECURITY: an account that may upload here but not overwrite opens a file it found missing as new only (O_EXCL,
     * or a conditional write on an object store): a file made by someone else between the stat and the open is
     * then neither replaced (STOR) nor changed (APPE, whose appending to an existing file is an overwrite, which
     * this account may not do).
     */
    static UploadMode newFileOnly(UploadMode mode, boolean exists, boolean mayOverwrite) {
        return !exists && !mayOverwrite && (mode == UploadMode.REPLACE || mode == UploadMode.APPEND)
                ? UploadMode.CREATE : mode;
    }

    /**
     * What an upload reserves before its 150: what ALLO announced, else one byte, so that a quota already full
     * refuses it at once (an empty file too); nothing when only files are limited.
     */
    private long firstBytes(AccountQuota quota, long start, long replaced) {
        long announced = quotas.takeAllocation();
        return quota.quota().bytes() == 0 ? 0 : QuotaReads.growth(start, Math.max(1, announced), replaced);
    }

    /** 451 (RFC 959 §4.2, local error): the ledger cannot be asked, or the account's usage cannot be counted. */
    private Reply quotaUnavailable(String verb, VirtualPath path, IOException e) {
        log.warn("quota-error").with("cmd", verb).with("path", path).with("error", e.getMessage()).log();
        return Reply.of(451, "Quota usage cannot be checked now: " + path + " was not stored.");
    }

    private static void release(QuotaLedger.Reservation reservation) throws IOException {
        if (reservation != null) {
            reservation.release();
        }
    }

    private Reply openUpload(VirtualPath path, UploadMode mode, long offset, String verb, String opening,
                             UploadQuota quota) throws IOException {
        Upload upload;
        try {
            upload = state.storage().openUpload(path, mode, offset);
        } catch (NoSuchFileException e) {
            return Reply.of(553, path.parent() + ": No such directory.");
        } catch (FileAlreadyExistsException e) {
            return Reply.of(550, path + ": File exists; an upload here cannot replace a file.");
        } catch (AccessDeniedException e) {
            return Reply.of(550, path + ": Permission denied.");
        } catch (IOException e) {
            return Reply.of(mode == UploadMode.RESUME ? 554 : 451, "Cannot store " + path + ": " + e.getMessage());
        }
        boolean ascii = state.ascii();
        String text = opening != null ? opening
                : "Opening " + (ascii ? "ASCII" : "BINARY") + " mode data connection for " + path + ".";
        // Taken here, on the control thread that owns the session's state; run by the transfer's thread once committed.
        EventHooks.Origin origin = new EventHooks.Origin(state.user(), log.client(), log.id());
        Storage storage = state.storage();
        Runnable committed = () -> ctx.events().upload(origin, path, storage);
        start(verb, path, text, Direction.UPLOAD, false, new UploadBody(ctx, control, log, upload, verb, path, ascii,
                quota, state.uploadThrottle(), committed));
        return null;
    }

    /** The bytes of a STOR, APPE or STOU, committed only when the whole file is known to have arrived. */
    private record UploadBody(ServerContext ctx, ControlSide control, SessionEvents log, Upload upload, String verb,
                              VirtualPath path, boolean ascii, UploadQuota quota, Throttle throttle,
                              Runnable committed) implements TransferBody {

        @Override
        public long run(DataConnection data, Watchdog.Guard guard, TransferProgress progress) throws IOException {
            WritableByteChannel out = new LocalWrites(upload.channel());
            // Under a quota the bytes are counted as they arrive; past the quota the read throws (552).
            ReadableByteChannel in = quota == null ? data.channel() : quota.reads(data.channel());
            if (!ascii && !throttle.limited() && data.plain() && upload.channel() instanceof FileChannel file) {
                // a local file in clear text: the kernel may move the bytes (splice)
                return Transfers.receiveToFile(data.socket(), in, file, out, ctx.buffers(), guard,
                        ctx.settings().limits().dataTimeout(), progress);
            }
            return Transfers.receive(in, out, ascii, ctx.buffers(), guard,
                    ctx.settings().limits().dataTimeout(), progress, throttle);
        }

        @Override
        public long limit() {
            return throttle.rate();
        }

        @Override
        public void beforeSuccessReply(long dataEndedNanos) throws IOException {
            try {
                UploadQuota.Replaced replaced = quota == null ? null : quota.beforeCommit();
                // A 226 means the bytes are in the file system: commit before replying. The control
                // connection is asked once more at the last moment, after the flush and at least
                // UPLOAD_END_GRACE after the data ended, the time a dying client's two ends may lie apart.
                long size = upload.commit(() -> PeerEnd.endedWithin(control::clientEnded, dataEndedNanos,
                        PeerEnd.UPLOAD_END_GRACE) ? TransferRunner.CONTROL_CLOSED : null);
                if (quota != null) {
                    quota.settle(size, replaced, log);
                }
                // The file is in place: its event is queued, never waited for (the 226 follows at once).
                committed.run();
            } catch (Upload.PreconditionFailedException e) {
                throw e;
            } catch (IOException e) {
                throw new LocalIOException(e);
            }
        }

        @Override
        public void finish(boolean success) {
            if (!success) {
                try {
                    upload.abort();
                } catch (IOException e) {
                    log.warn("storage-error").with("cmd", verb).with("path", path).with("during", "undo")
                            .with("error", e.getMessage()).log();
                }
            }
            upload.close();
            if (!success && quota != null) {
                // After the abort: the room is free again only once the partial upload is gone.
                quota.release(log);
            }
        }
    }

    /** Marks write failures of the file as local (451), not of the data connection (426). */
    private record LocalWrites(WritableByteChannel out) implements WritableByteChannel {
        @Override
        public int write(ByteBuffer src) throws IOException {
            try {
                return out.write(src);
            } catch (IOException e) {
                throw new LocalIOException(e);
            }
        }

        @Override
        public boolean isOpen() {
            return out.isOpen();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /**
     * LIST, NLST or MLSD of {@code path}, resolved by the gate; {@code pathArg} is the argument as the client
     * wrote it (without ls options), null for the working directory.
     */
    public Reply list(String pathArg, VirtualPath path, ListingKind kind) throws IOException {
        state.takeRestOffset();
        FileInfo info;
        try {
            info = state.storage().stat(path);
        } catch (NoSuchFileException e) {
            return Reply.of(550, (pathArg == null ? state.cwd().toString() : pathArg) + ": No such file or directory.");
        }
        if (kind == ListingKind.MLSD && info.type() != FileType.DIRECTORY) {
            // RFC 3659 §7.2.2: MLSD of a non-directory is an error.
            return Reply.of(501, pathArg + ": Not a directory.");
        }
        start(kind.name(), path, "Opening ASCII mode data connection for file list.", Direction.LIST, false,
                new Listing(ctx, kind, state.storage(), path, info, pathArg, state.account(), state.mlstFacts()));
        return null;
    }

    /** The lines of a listing (RFC 959 §4.1.3 LIST and NLST, RFC 3659 §7 MLSD). */
    private record Listing(ServerContext ctx, ListingKind kind, Storage storage, VirtualPath path, FileInfo info,
                           String displayArg, LoginResult.Success account, Set<String> facts) implements TransferBody {

        @Override
        public long run(DataConnection data, Watchdog.Guard guard, TransferProgress progress) throws IOException {
            try (LineSink sink = new LineSink(data.channel(), ctx.buffers(), guard,
                    ctx.settings().limits().dataTimeout(), progress)) {
                Instant now = Instant.now();
                if (info.type() != FileType.DIRECTORY) {
                    sink.line(switch (kind) {
                        case LIST -> ListFormat.listLine(info, now);
                        case NLST -> displayArg;
                        case MLSD -> throw new AssertionError();
                    });
                    return sink.total();
                }
                try (DirectoryListing entries = storage.list(path)) {
                    for (FileInfo entry : entries) {
                        sink.line(switch (kind) {
                            case LIST -> ListFormat.listLine(entry, now);
                            case NLST -> entry.name();
                            case MLSD -> mlsdLine(entry, path, account, facts);
                        });
                    }
                }
                return sink.total();
            }
        }
    }

    /** An MLSD line, its perm fact from the account's rights at the entry (per-folder rights may differ by entry). */
    private static String mlsdLine(FileInfo entry, VirtualPath dir, LoginResult.Success account, Set<String> facts) {
        VirtualPath at;
        try {
            at = dir.child(entry.name());
        } catch (InvalidVirtualPathException e) {
            // a name no client could send back: nothing can be done to it by name, so the folder's rights say
            at = dir;
        }
        return MlsxFormat.factsLine(entry, entry.name(), entry.type() == FileType.DIRECTORY ? "dir" : "file",
                account.rightsAt(at, false), account.rightsAt(at, true), facts);
    }

    private void start(String verb, VirtualPath path, String opening, Direction direction, boolean inline,
                       TransferBody body) {
        runner.start(new TransferPlan(verb, path, opening, state.takeEndpoint(), state.transferTls(), direction,
                inline, body, state.ascii(), state.account().anonymous()));
    }
}
