package dev.ferry.server.session;

import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.data.PassiveListener;
import dev.ferry.server.data.TransferProgress;
import dev.ferry.server.data.Transfers;
import dev.ferry.server.fs.DirectoryListing;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.listing.ListFormat;
import dev.ferry.server.listing.MlsxFormat;
import dev.ferry.server.metrics.ServerMetrics.Direction;
import dev.ferry.runtime.net.PeerEnd;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.TlsEndpoint;
import dev.ferry.runtime.tls.TlsChannel;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Data-connection commands: PORT, EPRT, PASV, EPSV, and the commands that move bytes over a data
 * connection (RETR, STOR, APPE, STOU, LIST, NLST, MLSD), plus ABOR.
 */
final class DataCommands {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.session");

    enum ListingKind { LIST, NLST, MLSD }

    /** The result of an upload not committed because its control connection ended (log and metrics). */
    static final String CONTROL_CLOSED = "control-closed";
    /** The reply to such an upload, for a client that may still read (it shut only its sending side). */
    private static final Reply NOT_STORED = Reply.of(426, "Control connection closed during the upload; nothing was stored.");

    /** Downloads up to this size run on the control thread (see retrieve). */
    static final long INLINE_TRANSFER_BYTES = 64 * 1024;

    private final Session s;

    DataCommands(Session session) {
        this.s = session;
    }

    // ---- endpoints -------------------------------------------------------------------------

    Reply port(String arg) {
        Reply refused = refuseActive("PORT");
        if (refused != null) {
            return refused;
        }
        HostPort target = HostPort.parsePort(arg);
        if (target == null) {
            return Reply.of(501, "Syntax: PORT h1,h2,h3,h4,p1,p2 (each 0-255).");
        }
        return setActive(target, "PORT");
    }

    Reply eprt(String arg) {
        Reply refused = refuseActive("EPRT");
        if (refused != null) {
            return refused;
        }
        String trimmed = arg.trim();
        if (trimmed.length() > 3 && trimmed.charAt(1) != '1' && trimmed.charAt(1) != '2'
                && trimmed.charAt(2) == trimmed.charAt(0)) {
            return Reply.of(522, "Network protocol not supported, use (1,2)");
        }
        HostPort target = HostPort.parseEprt(arg);
        if (target == null) {
            return Reply.of(501, "Syntax: EPRT |1|a.b.c.d|port| or EPRT |2|ipv6|port|.");
        }
        return setActive(target, "EPRT");
    }

    private Reply refuseActive(String verb) {
        if (s.epsvAll) {
            return Reply.of(501, verb + " refused: EPSV ALL is in effect (RFC 2428 §4).");
        }
        if (!s.ctx.settings().allowActiveMode()) {
            return Reply.of(502, "Active mode is disabled on this server; use PASV or EPSV.");
        }
        return null;
    }

    private Reply setActive(HostPort target, String verb) {
        // SECURITY: data connections only to the client's own address (RFC 2577 §3, FTP bounce):
        // otherwise the server could be made to connect to, and send data to, any third party. Through
        // a trusted proxy that address is the proxy's, which rewrote PORT/EPRT to a listener of its own.
        if (!HostPort.sameHost(target.address(), s.dataPeer)) {
            LOG.info("{} event=active-refused verb={} target={} reason=foreign-address", s.id, verb, target.toSocketAddress());
            return Reply.of(501, verb + " refused: data connections go only to your own address.");
        }
        // SECURITY: privileged ports are refused (RFC 2577 §3) so a PORT cannot reach a local service.
        if (target.port() < 1024) {
            return Reply.of(501, verb + " refused: port " + target.port() + " is below 1024.");
        }
        discardEndpoint();
        s.endpoint = new DataEndpoint.Active(target);
        return Reply.of(200, verb + " command successful.");
    }

    Reply pasv() throws IOException {
        if (s.epsvAll) {
            return Reply.of(501, "PASV refused: EPSV ALL is in effect (RFC 2428 §4).");
        }
        InetSocketAddress local = s.connection.localAddress();
        Inet4Address advertised = s.ctx.passiveAddressing().advertise(s.client, local.getAddress());
        if (advertised == null) {
            return Reply.of(425, "PASV needs IPv4; use EPSV on this connection.");
        }
        PassiveListener listener = openListener(local.getAddress());
        if (listener == null) {
            return Reply.of(425, "No passive port available; try again later.");
        }
        return Reply.of(227, HostPort.format227(advertised, listener.port()));
    }

    Reply epsv(String arg) throws IOException {
        InetAddress local = s.connection.localAddress().getAddress();
        int family = HostPort.protocolNumber(local);
        if (arg != null) {
            String a = arg.trim();
            if (a.equalsIgnoreCase("ALL")) {
                s.epsvAll = true;
                return Reply.of(200, "EPSV ALL accepted.");
            }
            if (!a.equals("1") && !a.equals("2")) {
                return a.matches("\\d{1,5}")
                        ? Reply.of(522, "Network protocol not supported, use (" + family + ")")
                        : Reply.of(501, "Syntax: EPSV [1|2|ALL].");
            }
            if (Integer.parseInt(a) != family) {
                return Reply.of(522, "Network protocol not supported, use (" + family + ")");
            }
        }
        PassiveListener listener = openListener(local);
        if (listener == null) {
            return Reply.of(425, "No passive port available; try again later.");
        }
        return Reply.of(229, HostPort.format229(listener.port()));
    }

    private PassiveListener openListener(InetAddress bindAddress) throws IOException {
        discardEndpoint();
        PassiveListener listener = s.ctx.passivePorts().open(bindAddress);
        if (listener == null) {
            LOG.info("{} event=passive-exhausted range={}", s.id, s.ctx.passivePorts().size());
            return null;
        }
        Duration timeout = s.ctx.settings().passive().acceptTimeout();
        s.endpoint = new DataEndpoint.Passive(listener, System.nanoTime() + timeout.toNanos());
        return listener;
    }

    /** Closes an unused passive listener (its port goes back to the pool). */
    void discardEndpoint() {
        if (s.endpoint instanceof DataEndpoint.Passive p) {
            p.listener().close();
        }
        s.endpoint = null;
    }

    List<String> describeEndpoint() {
        return switch (s.endpoint) {
            case null -> List.of("No data connection set up.");
            case DataEndpoint.Passive p -> List.of("Passive mode: listening on port " + p.listener().port() + ".");
            case DataEndpoint.Active a -> List.of("Active mode: will connect to " + a.target().toSocketAddress() + ".");
        };
    }

    // ---- transfers -------------------------------------------------------------------------

    Reply retrieve(String arg) throws IOException {
        long offset = takeRestOffset();
        VirtualPath path;
        SeekableByteChannel in;
        long size;
        try {
            path = s.resolve(arg);
            // One resolution: openRead checks that the path is a regular file inside the jail.
            in = s.storage.openRead(path, 0);
            size = in.size();
        } catch (InvalidVirtualPathException e) {
            return Reply.of(550, e.getMessage());
        } catch (NoSuchFileException e) {
            return Reply.of(550, arg + ": No such file.");
        } catch (AccessDeniedException e) {
            return Reply.of(550, arg + ": Permission denied.");
        } catch (java.nio.file.FileSystemException e) {
            return Reply.of(550, arg + ": Not a plain file.");
        }
        if (offset > size) {
            Transfer.closeQuietly(in);
            return Reply.of(554, "Restart offset " + offset + " is beyond the end of the file (" + size + " bytes).");
        }
        in.position(offset);
        boolean ascii = s.ascii;
        String opening = "Opening " + (ascii ? "ASCII" : "BINARY") + " mode data connection for " + path
                + " (" + (size - offset) + " bytes).";
        // A small file is sent in microseconds: on the control thread, saving a thread hand-off per
        // file; ABOR has nothing to interrupt in that time. Only once the data connection is there:
        // waiting for it (up to the accept timeout) or connecting out must leave the control
        // connection free to read ABOR.
        boolean inline = size - offset <= INLINE_TRANSFER_BYTES && dataConnectionWaiting();
        start("RETR", path, opening, new TransferBody() {
            @Override
            public long run(DataConnection data, Watchdog.Guard guard, TransferProgress progress) throws IOException {
                Duration timeout = s.ctx.settings().limits().dataTimeout();
                // sendfile only in clear text (PROT C): TLS must encrypt every byte in user space.
                if (!ascii && in instanceof FileChannel file && data.plain()) {
                    return Transfers.sendFile(file, offset, data.socket(), guard, timeout, progress);
                }
                return Transfers.send(in, data.channel(), ascii, s.ctx.buffers(), guard, timeout, progress);
            }

            @Override
            public void finish(boolean success) {
                Transfer.closeQuietly(in);
            }
        }, Direction.DOWNLOAD, inline);
        return null;
    }

    private boolean dataConnectionWaiting() throws IOException {
        return s.endpoint instanceof DataEndpoint.Passive p && p.listener().connectionWaiting(s.dataPeer);
    }

    Reply store(String arg, boolean append) throws IOException {
        long offset = takeRestOffset();
        VirtualPath path;
        try {
            path = s.resolve(arg);
        } catch (InvalidVirtualPathException e) {
            return Reply.of(553, e.getMessage());
        }
        UploadMode mode = append ? UploadMode.APPEND : offset > 0 ? UploadMode.RESUME : UploadMode.REPLACE;
        return startUpload(path, mode, offset, append ? "APPE" : "STOR", null);
    }

    Reply storeUnique(String arg) throws IOException {
        takeRestOffset();
        VirtualPath created;
        try {
            VirtualPath hint = arg == null ? null : s.resolve(arg);
            VirtualPath dir = hint == null ? s.cwd : hint.parent();
            created = s.storage.createUnique(dir, hint == null ? "ftp" : hint.name());
        } catch (InvalidVirtualPathException e) {
            return Reply.of(553, e.getMessage());
        } catch (NoSuchFileException | java.nio.file.NotDirectoryException e) {
            // "STOU file/x" where file is not a directory: the same answer as a missing one.
            return Reply.of(553, "No such directory.");
        } catch (AccessDeniedException e) {
            return Reply.of(550, "Permission denied.");
        } catch (IOException e) {
            return Reply.of(451, "Cannot create a unique file here.");
        }
        // RFC 1123 §4.1.2.9: the generated name goes in the 150 reply, as "150 FILE: name".
        return startUpload(created, UploadMode.UNIQUE, 0, "STOU", "FILE: " + created.name());
    }

    private Reply startUpload(VirtualPath path, UploadMode mode, long offset, String verb, String opening)
            throws IOException {
        try {
            FileInfo existing = s.storage.stat(path);
            if (existing.type() == FileType.DIRECTORY) {
                return Reply.of(550, path + ": Is a directory.");
            }
        } catch (NoSuchFileException e) {
            // a new file
        }
        Upload upload;
        try {
            upload = s.storage.openUpload(path, mode, offset);
        } catch (NoSuchFileException e) {
            return Reply.of(553, path.parent() + ": No such directory.");
        } catch (AccessDeniedException e) {
            return Reply.of(550, path + ": Permission denied.");
        } catch (IOException e) {
            return Reply.of(mode == UploadMode.RESUME ? 554 : 451, "Cannot store " + path + ": " + e.getMessage());
        }
        boolean ascii = s.ascii;
        String text = opening != null ? opening
                : "Opening " + (ascii ? "ASCII" : "BINARY") + " mode data connection for " + path + ".";
        start(verb, path, text, new TransferBody() {
            @Override
            public long run(DataConnection data, Watchdog.Guard guard, TransferProgress progress) throws IOException {
                WritableByteChannel out = new LocalWrites(upload.channel());
                return Transfers.receive(data.channel(), out, ascii, s.ctx.buffers(), guard,
                        s.ctx.settings().limits().dataTimeout(), progress);
            }

            @Override
            public void beforeSuccessReply(long dataEndedNanos) throws IOException {
                try {
                    // A 226 means the bytes are in the file system: commit before replying. The control
                    // connection is asked once more at the last moment (see controlEnded), after the flush and
                    // at least UPLOAD_END_GRACE after the data ended, the time a dying client's two ends may lie apart.
                    upload.commit(() -> PeerEnd.endedWithin(DataCommands.this::controlEnded, dataEndedNanos,
                            PeerEnd.UPLOAD_END_GRACE) ? CONTROL_CLOSED : null);
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
                        LOG.warn("{} event=storage-error cmd={} path={} during=undo error={}", s.id, verb, path, e.getMessage());
                    }
                }
                upload.close();
            }
        }, Direction.UPLOAD, false);
        return null;
    }

    Reply list(String arg, ListingKind kind) throws IOException {
        takeRestOffset();
        String pathArg = kind == ListingKind.MLSD ? arg : stripListOptions(arg);
        VirtualPath path;
        FileInfo info;
        try {
            path = pathArg == null || pathArg.isEmpty() ? s.cwd : s.resolve(pathArg);
            info = s.storage.stat(path);
        } catch (InvalidVirtualPathException e) {
            return Reply.of(550, e.getMessage());
        } catch (NoSuchFileException e) {
            return Reply.of(550, (pathArg == null ? s.cwd.toString() : pathArg) + ": No such file or directory.");
        }
        if (kind == ListingKind.MLSD && info.type() != FileType.DIRECTORY) {
            // RFC 3659 §7.2.2: MLSD of a non-directory is an error.
            return Reply.of(501, pathArg + ": Not a directory.");
        }
        boolean writable = s.account.writable();
        java.util.Set<String> facts = s.mlstFacts;
        String displayArg = pathArg;
        start(kind.name(), path, "Opening ASCII mode data connection for file list.", new TransferBody() {
            @Override
            public long run(DataConnection data, Watchdog.Guard guard, TransferProgress progress) throws IOException {
                try (LineSink sink = new LineSink(data.channel(), s.ctx.buffers(), guard,
                        s.ctx.settings().limits().dataTimeout(), progress)) {
                    Instant now = Instant.now();
                    if (info.type() != FileType.DIRECTORY) {
                        sink.line(switch (kind) {
                            case LIST -> ListFormat.listLine(info, now);
                            case NLST -> displayArg;
                            case MLSD -> throw new AssertionError();
                        });
                        return sink.total();
                    }
                    try (DirectoryListing entries = s.storage.list(path)) {
                        for (FileInfo entry : entries) {
                            sink.line(switch (kind) {
                                case LIST -> ListFormat.listLine(entry, now);
                                case NLST -> entry.name();
                                case MLSD -> MlsxFormat.factsLine(entry, entry.name(),
                                        entry.type() == FileType.DIRECTORY ? "dir" : "file", writable, facts);
                            });
                        }
                    }
                    return sink.total();
                }
            }
        }, Direction.LIST, false);
        return null;
    }

    /** "LIST -la dir": clients pass ls options; they are ignored, the path is what matters. */
    static String stripListOptions(String arg) {
        if (arg == null) {
            return null;
        }
        String rest = arg;
        while (rest.startsWith("-")) {
            int space = rest.indexOf(' ');
            if (space < 0) {
                return null;
            }
            rest = rest.substring(space + 1).stripLeading();
        }
        return rest.isEmpty() ? null : rest;
    }

    private long takeRestOffset() {
        long o = s.restOffset;
        s.restOffset = 0;
        return o;
    }

    // ---- running a transfer ----------------------------------------------------------------

    /**
     * An open data connection: the socket, and the channel the bytes go through (the socket itself under
     * PROT C, TLS over it under PROT P).
     */
    record DataConnection(SocketChannel socket, ByteChannel channel) {
        boolean plain() {
            return channel == socket;
        }
    }

    /** The part of a transfer that differs per command. */
    interface TransferBody {
        long run(DataConnection data, Watchdog.Guard guard, TransferProgress progress) throws IOException;

        /** {@code dataEndedNanos}: when the data connection's end was read ({@link System#nanoTime()}). */
        default void beforeSuccessReply(long dataEndedNanos) throws IOException {}

        default void finish(boolean success) {}
    }

    /** A failure of local storage, as opposed to the data connection: 451, not 426. */
    static final class LocalIOException extends IOException {
        LocalIOException(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** Marks write failures of the file as local. */
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

    private void start(String verb, VirtualPath path, String openingText, TransferBody body, Direction direction,
                       boolean inline) {
        DataEndpoint endpoint = s.endpoint;
        s.endpoint = null;
        TransferProgress progress = new TransferProgress(verb + " " + path);
        Transfer[] self = new Transfer[1];
        Transfer t = new Transfer(progress, () -> runTransfer(self[0], endpoint, verb, path, openingText, body, direction));
        self[0] = t;
        s.transfers++;
        if (inline) {
            runTransfer(t, endpoint, verb, path, openingText, body, direction);
        } else {
            s.transfer = t;
            t.start();
        }
    }

    private void runTransfer(Transfer t, DataEndpoint endpoint, String verb, VirtualPath path, String openingText,
                             TransferBody body, Direction direction) {
        long start = System.nanoTime();
        boolean upload = direction == Direction.UPLOAD;
        SocketChannel[] data = new SocketChannel[1];
        Watchdog.Guard guard = s.ctx.watchdog().guard(() -> {
            SocketChannel c = data[0];
            if (c != null) {
                Transfer.closeQuietly(c);
            }
        });
        boolean success = false;
        String result = "failed";
        TlsChannel tls = null;
        String tlsText = "";
        // Failure replies go out after the cleanup (an aborted upload's temp file is gone by then).
        Reply failure = null;
        s.ctx.metrics().transferStarted();
        try {
            data[0] = connect(t, endpoint, guard);
            if (data[0] == null) {
                result = t.aborted() ? "aborted" : "no-data-connection";
                return;
            }
            t.attach(data[0]);
            s.replies.send(150, openingText);
            ByteChannel channel = data[0];
            if (s.protectData) {
                // RFC 4217 §10.2: the handshake follows the 150; a failed or unacceptable one is answered 522.
                long handshakeStart = System.currentTimeMillis();
                tls = new TlsChannel(data[0], s.sessionTls.dataEngine(), false);
                guard.arm(s.ctx.settings().tls().handshakeTimeout());
                try {
                    tls.handshake();
                } catch (IOException e) {
                    result = t.aborted() ? "aborted" : "tls-failed";
                    failure = t.aborted() ? Reply.of(426, "Transfer aborted.")
                            : Reply.of(522, "TLS negotiation on the data connection failed.");
                    LOG.info("{} event=data-tls-failed cmd={} error={}", s.id, verb,
                            dev.ferry.protocol.Printable.of(String.valueOf(e.getMessage()), 160));
                    return;
                }
                guard.disarm();
                boolean resumed = TlsEndpoint.resumes(tls.session(), s.controlTlsSession, handshakeStart);
                tlsText = " tls=" + (resumed ? "resumed" : "full");
                // SECURITY: a data connection that resumes the control connection's TLS session comes from the
                // holder of that session's keys; any other client that reached the passive port first (port
                // theft, RFC 4217 §10.2 and §15.2.6) is refused when reuse is required.
                if (!resumed && s.sessionTls.reuse() == SessionReuse.REQUIRED) {
                    result = "tls-not-resumed";
                    failure = Reply.of(522, "The data connection must resume the control connection's TLS session "
                            + "(TLS session reuse is required).");
                    LOG.info("{} event=data-refused cmd={} reason=tls-session-not-resumed", s.id, verb);
                    return;
                }
                channel = tls;
            }
            body.run(new DataConnection(data[0], channel), guard, t.progress);
            long dataEnded = System.nanoTime();
            if (upload && !t.aborted() && controlEnded()) {
                // The data connection ended cleanly, but the client's control connection has ended too: a client
                // killed mid-upload (or a balancer in front of us) ends both at once, and its data connection's
                // FIN looks just like the end of a file (RFC 959 §3.4: in stream mode the close of the data
                // connection is the end of the file). A client that finished its file waits for our reply.
                result = CONTROL_CLOSED;
                failure = NOT_STORED;
                return;
            }
            if (tls != null && upload && !tls.endedCleanly() && !t.aborted()) {
                // SECURITY: the data ended without TLS close_notify: whoever cut the connection may have cut the
                // file short (RFC 8446 §6.1, truncation), so the upload is not committed.
                throw new IOException("data connection closed without TLS close_notify");
            }
            if (t.aborted()) {
                // Aborted (ABOR, session end) while the last read returned: aborting shuts the data
                // connection's output first, a client may answer with its own FIN, and the upload's read
                // then sees a clean end of file. That is not the end of the client's file: no commit.
                throw new IOException("transfer aborted");
            }
            guard.arm(s.ctx.settings().limits().dataTimeout());
            if (tls != null) {
                // close_notify tells the client the data is complete (a download) and answers its own (an upload).
                tls.shutdownOutput();
            }
            data[0].close();
            guard.disarm();
            body.beforeSuccessReply(dataEnded);
            success = true;
            result = "ok";
            s.replies.send(226, "Transfer complete (" + t.progress.bytes() + " bytes).");
        } catch (Upload.PreconditionFailedException e) {
            result = e.reason();
            failure = NOT_STORED;
        } catch (LocalIOException e) {
            result = "local-error";
            LOG.warn("{} event=storage-error cmd={} path={} error={}", s.id, verb, path, e.getMessage());
            failure = Reply.of(451, "Local error: " + path + " could not be " + (upload ? "stored." : "read."));
        } catch (IOException e) {
            if (t.aborted() && upload && controlEnded()) {
                result = CONTROL_CLOSED;
                failure = NOT_STORED;
            } else if (t.aborted()) {
                result = "aborted";
                failure = Reply.of(426, "Transfer aborted.");
            } else if (guard.fired()) {
                result = "timeout";
                failure = Reply.of(426, "Data connection timed out; transfer aborted.");
            } else {
                result = "connection-lost";
                failure = Reply.of(426, "Data connection lost; transfer aborted.");
            }
            LOG.debug("{} transfer {} ended: {}", s.id, verb, e.toString());
        } finally {
            guard.close();
            if (data[0] != null) {
                Transfer.closeQuietly(data[0]);
            }
            body.finish(success);
            if (failure != null) {
                s.trySend(failure);
            }
            long moved = t.progress.bytes();
            if (upload) {
                s.bytesIn += moved;
            } else {
                s.bytesOut += moved;
            }
            long nanos = System.nanoTime() - start;
            s.ctx.metrics().transferEnded(direction, result, moved, nanos);
            LOG.info("{} event=transfer cmd={} path={} bytes={} ms={} result={}{}", s.id, verb, path,
                    moved, nanos / 1_000_000L, result, tlsText);
            s.armIdle();
        }
    }

    /**
     * Whether the client's control connection has ended (its FIN or a reset arrived, {@link
     * dev.ferry.runtime.net.PeerEnd}), asked of the socket without reading, so the session's reader loses
     * nothing; under TLS and through a trusted proxy it is the socket under them that is asked. Not when the
     * server itself ends the session (a stop shuts the input too): that is an abort, and no upload commits
     * then either.
     */
    private boolean controlEnded() {
        return !s.stopping() && s.connection.peerEnded();
    }

    /** Opens the data connection the last PORT/PASV asked for; replies 425 and returns null if it cannot. */
    private SocketChannel connect(Transfer t, DataEndpoint endpoint, Watchdog.Guard guard) throws IOException {
        switch (endpoint) {
            case null -> {
                s.replies.send(425, "Use PORT, PASV, EPRT or EPSV first.");
                return null;
            }
            case DataEndpoint.Passive p -> {
                t.attach(p.listener());
                long left = (p.deadlineNanos() - System.nanoTime()) / 1_000_000L;
                SocketChannel c = p.listener().accept(s.dataPeer, left, peer ->
                        LOG.info("{} event=data-refused from={} reason=foreign-address", s.id, peer));
                if (c == null) {
                    if (!t.aborted()) {
                        s.replies.send(425, "No data connection received within "
                                + describe(s.ctx.settings().passive().acceptTimeout()) + ".");
                    }
                    return null;
                }
                return c;
            }
            case DataEndpoint.Active a -> {
                SocketChannel c = SocketChannel.open();
                t.attach(c);
                guard.arm(s.ctx.settings().limits().dataTimeout());
                try {
                    // From the address the client reached us at, as vsftpd does: a multi-homed server's data
                    // connections then come from where the client (or a balancer pinning data connections to
                    // the backend it dialled) expects them, not from whatever address the routing table picks.
                    // Through a trusted proxy this is the real socket's address, not the PROXY header's.
                    c.bind(new InetSocketAddress(s.connection.localAddress().getAddress(), 0));
                    c.connect(a.target().toSocketAddress());
                    guard.disarm();
                    return c;
                } catch (IOException e) {
                    guard.disarm();
                    Transfer.closeQuietly(c);
                    if (!t.aborted()) {
                        s.replies.send(425, "Cannot open data connection to " + a.target().toSocketAddress() + ".");
                    }
                    return null;
                }
            }
        }
    }

    // ---- ABOR ------------------------------------------------------------------------------

    /** ABOR while a transfer runs: RFC 959 §4.1.3, the transfer answers 426, then ABOR answers 226. */
    void abortRunning() throws IOException {
        Transfer t = s.transfer;
        t.abort();
        t.join();
        s.transfer = null;
        s.armIdle();
        LOG.info("{} event=abort", s.id);
        s.replies.send(226, "ABOR successful.");
    }

    Reply abortIdle() {
        discardEndpoint();
        return Reply.of(225, "No transfer to abort.");
    }

    private static String describe(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** Buffered CRLF lines to a data connection (listings are always CRLF, RFC 959 §3.1.1.1). */
    private static final class LineSink implements AutoCloseable {
        private final WritableByteChannel out;
        private final dev.ferry.runtime.net.BufferPool pool;
        private final ByteBuffer buffer;
        private final Watchdog.Guard guard;
        private final Duration timeout;
        private final TransferProgress progress;
        private long total;

        LineSink(WritableByteChannel out, dev.ferry.runtime.net.BufferPool pool, Watchdog.Guard guard, Duration timeout,
                 TransferProgress progress) {
            this.out = out;
            this.pool = pool;
            this.buffer = pool.take();
            this.guard = guard;
            this.timeout = timeout;
            this.progress = progress;
        }

        void line(String text) throws IOException {
            byte[] bytes = (text + "\r\n").getBytes(StandardCharsets.UTF_8);
            if (bytes.length > buffer.remaining()) {
                flush();
            }
            if (bytes.length > buffer.remaining()) {
                Transfers.writeFully(out, ByteBuffer.wrap(bytes), guard, timeout);
            } else {
                buffer.put(bytes);
            }
            total += bytes.length;
        }

        long total() {
            return total;
        }

        private void flush() throws IOException {
            buffer.flip();
            long n = Transfers.writeFully(out, buffer, guard, timeout);
            progress.addListed(n);
            buffer.clear();
        }

        @Override
        public void close() throws IOException {
            try {
                flush();
            } finally {
                pool.give(buffer);
            }
        }
    }
}
