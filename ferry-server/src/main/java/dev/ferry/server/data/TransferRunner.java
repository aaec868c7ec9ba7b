package dev.ferry.server.data;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.Xferlog;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.runtime.tls.TlsChannel;
import dev.ferry.runtime.tls.TlsEndpoint;
import dev.ferry.server.ServerContext;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.log.SessionEvents;
import dev.ferry.server.metrics.ServerMetrics.Direction;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.ZonedDateTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one session's transfers, one at a time, and owns what they leave behind: the running transfer (for
 * ABOR, STAT and reply order) and the session's transfer totals.
 *
 * <p>Design: a transfer is a fixed sequence of steps, each a method: open the data connection (accept or
 * connect, RFC 959 §3.2), the 150, the data TLS handshake (PROT P, RFC 4217 §10.2), the {@link TransferBody},
 * the checks before a 226 (the control connection still there, close_notify, no abort), the close and the
 * commit, then the one final reply (226, or 425/426/451/522) and the accounting. Failure replies go out after
 * the cleanup: an aborted upload's temporary file is gone by then. A transfer runs on its own virtual thread,
 * or on the control thread when its plan says so; either way the steps are the same.
 */
public final class TransferRunner {

    /** The classic transfer log, one {@link Xferlog} line per file transfer; operators route it to a file. */
    private static final Logger XFERLOG = LoggerFactory.getLogger("ferry.xferlog");

    /** The result of an upload not committed because its control connection ended (log and metrics). */
    public static final String CONTROL_CLOSED = "control-closed";
    /** The reply to such an upload, for a client that may still read (it shut only its sending side). */
    private static final Reply NOT_STORED =
            Reply.of(426, "Control connection closed during the upload; nothing was stored.");
    private static final Reply ABORTED = Reply.of(426, "Transfer aborted.");
    private static final Reply NO_ENDPOINT = Reply.of(425, "Use PORT, PASV, EPRT or EPSV first.");
    private static final Reply ABOR_SUCCESSFUL = Reply.of(226, "ABOR successful.");

    private final ServerContext ctx;
    private final SessionEvents log;
    /** The client (the PROXY header's, behind a trusted proxy): xferlog's remote-host. */
    private final InetAddress client;
    /** Where data connections must come from and go to (see Session's dataPeer). */
    private final InetAddress dataPeer;
    /** The server address the client reached: active data connections leave from it. */
    private final InetAddress localAddress;
    private final ControlSide control;

    /** The transfer on its own thread, until the control thread has seen it end; control thread only. */
    private Transfer running;
    // Totals for the session's disconnect line: written by the transfer's thread, read after it ended.
    private volatile long bytesIn;
    private volatile long bytesOut;
    private int transfers;

    public TransferRunner(ServerContext ctx, SessionEvents log, InetAddress client, InetAddress dataPeer,
                          InetAddress localAddress, ControlSide control) {
        this.ctx = ctx;
        this.log = log;
        this.client = client;
        this.dataPeer = dataPeer;
        this.localAddress = localAddress;
        this.control = control;
    }

    public long bytesIn() { return bytesIn; }
    public long bytesOut() { return bytesOut; }
    public int transfers() { return transfers; }

    /** Starts {@code plan}: at once on this thread when it is inline, else on a new virtual thread. */
    public void start(TransferPlan plan) {
        Transfer t = new Transfer(new TransferProgress(plan.verb() + " " + plan.path()));
        transfers++;
        if (plan.inline()) {
            run(t, plan);
        } else {
            running = t;
            t.start(() -> run(t, plan));
        }
    }

    /** The transfer running on its own thread, or null. */
    public Transfer running() {
        Transfer t = running;
        return t != null && t.isRunning() ? t : null;
    }

    /** Waits until no transfer runs: a command other than ABOR and STAT is answered after the transfer's reply. */
    public void awaitEnd() {
        if (running != null) {
            running.join();
            running = null;
        }
    }

    /** Stops the running transfer, if any, and waits for it (the session ends). */
    public void abortAndWait() {
        if (running != null) {
            running.abort();
            awaitEnd();
        }
    }

    /** ABOR while a transfer runs: RFC 959 §4.1.3, the transfer answers 426, then ABOR answers 226. */
    public void abortRunning() throws IOException {
        abortAndWait();
        control.transferEnded();
        log.info("abort").log();
        control.send(ABOR_SUCCESSFUL);
    }

    /** One transfer's way through the steps: what the steps share. */
    private final class Run {
        final Transfer t;
        final TransferPlan plan;
        final boolean upload;
        final Watchdog.Guard guard;
        volatile SocketChannel socket;
        TlsChannel tls;
        /** tls= of the transfer line: how the data connection's handshake went (null: PROT C). */
        String tlsText;
        String result = "failed";
        Reply failure;
        /** reason= of the transfer line: the policy that stopped it (null: none did). */
        String reason;

        Run(Transfer t, TransferPlan plan) {
            this.t = t;
            this.plan = plan;
            this.upload = plan.direction() == Direction.UPLOAD;
            // A data timeout closes the data connection, which fails the step blocked on it.
            this.guard = ctx.watchdog().guard(() -> {
                SocketChannel c = socket;
                if (c != null) {
                    Transfer.stop(c);
                }
            });
        }
    }

    private void run(Transfer t, TransferPlan plan) {
        long start = System.nanoTime();
        Run r = new Run(t, plan);
        boolean success = false;
        ctx.metrics().transferStarted();
        ByteChannel channel = null;
        try {
            channel = open(r);
            if (channel == null) {
                return;
            }
            plan.body().run(new DataConnection(r.socket, channel), r.guard, t.progress);
            success = complete(r, System.nanoTime());
        } catch (Upload.PreconditionFailedException e) {
            r.result = e.reason();
            r.failure = NOT_STORED;
        } catch (TransferRefusedException e) {
            r.result = "refused";
            r.reason = e.reason();
            r.failure = e.reply();
            if (r.upload) {
                drain(channel, r.guard);
            }
        } catch (LocalIOException e) {
            r.result = "local-error";
            log.warn("storage-error").with("cmd", plan.verb()).with("path", plan.path()).with("error", e.getMessage())
                    .log();
            r.failure = Reply.of(451, "Local error: " + plan.path() + " could not be "
                    + (r.upload ? "stored." : "read."));
        } catch (IOException e) {
            failed(r, e);
        } catch (RuntimeException e) {
            // A bug in a body or below it (a ledger, a storage engine): the client still gets a final reply rather
            // than waiting for one, nothing is committed (the body's finish undoes an upload), and the log says what.
            r.result = "local-error";
            log.warn("transfer-error").with("cmd", plan.verb()).with("path", plan.path())
                    .with("error", e.getClass().getSimpleName() + ": " + e.getMessage()).log();
            r.failure = Reply.of(451, "Local error: " + plan.path() + " could not be "
                    + (r.upload ? "stored." : "read."));
        } finally {
            end(r, success, start);
        }
    }

    /**
     * After an upload is refused mid-way (552, a quota): what the client still sends is read and dropped, up to
     * {@link #DRAIN_LIMIT} and {@link #DRAIN_TIME}, so that it ends its data connection and then reads the reply.
     * Closed at once instead, the connection is reset under a client still sending, and clients such as curl stop at
     * the send failure without ever reading the 552. Beyond the bounds it is closed as before (a reset).
     */
    private void drain(ByteChannel channel, Watchdog.Guard guard) {
        ByteBuffer scratch = ctx.buffers().take();
        long deadline = System.nanoTime() + DRAIN_TIME.toNanos();
        long dropped = 0;
        try {
            while (dropped < DRAIN_LIMIT) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                guard.arm(Duration.ofNanos(left));
                scratch.clear();
                int n = channel.read(scratch);
                if (n < 0) {
                    return;
                }
                dropped += n;
            }
        } catch (IOException e) {
            // the client gave up first (or the bound's timer closed the connection): nothing more to wait for
        } finally {
            guard.disarm();
            ctx.buffers().give(scratch);
        }
    }

    /** What {@link #drain} reads at most after a refusal: a few seconds of a fast client. */
    static final long DRAIN_LIMIT = 64L << 20;
    static final Duration DRAIN_TIME = Duration.ofSeconds(5);

    /**
     * The data connection, the 150 and, under PROT P, the TLS handshake: the channel the body uses, or null
     * when the transfer ends here (its reply sent, or set as {@code r.failure}).
     */
    private ByteChannel open(Run r) throws IOException {
        r.socket = connect(r.t, r.plan.endpoint(), r.guard);
        if (r.socket == null) {
            r.result = r.t.aborted() ? "aborted" : "no-data-connection";
            return null;
        }
        r.t.attach(r.socket);
        control.send(Reply.of(150, r.plan.opening()));
        return r.plan.tls() == null ? r.socket : handshake(r);
    }

    /** RFC 4217 §10.2: the handshake follows the 150; a failed or unacceptable one is answered 522. */
    private ByteChannel handshake(Run r) {
        DataTls protection = r.plan.tls();
        long handshakeStart = System.currentTimeMillis();
        r.tls = new TlsChannel(r.socket, protection.endpoint().dataEngine(), false);
        r.guard.arm(ctx.settings().tls().handshakeTimeout());
        try {
            r.tls.handshake();
        } catch (IOException e) {
            r.result = r.t.aborted() ? "aborted" : "tls-failed";
            r.failure = r.t.aborted() ? ABORTED : Replies.DATA_TLS_FAILED;
            log.info("data-tls-failed").with("cmd", r.plan.verb())
                    .with("error", Printable.of(String.valueOf(e.getMessage()), 160)).log();
            return null;
        }
        r.guard.disarm();
        boolean resumed = TlsEndpoint.resumes(r.tls.session(), protection.controlSession(), handshakeStart);
        r.tlsText = resumed ? "resumed" : "full";
        // SECURITY: a data connection that resumes the control connection's TLS session comes from the holder
        // of that session's keys; any other client that reached the passive port first (port theft, RFC 4217
        // §10.2 and §15.2.6) is refused when reuse is required.
        if (!resumed && protection.endpoint().reuse() == SessionReuse.REQUIRED) {
            r.result = "tls-not-resumed";
            r.failure = Replies.DATA_TLS_NOT_RESUMED;
            log.info("data-refused").with("cmd", r.plan.verb()).with("reason", "tls-session-not-resumed").log();
            return null;
        }
        return r.tls;
    }

    /**
     * After the body: whether the transfer may be answered 226. Closes the data connection (with close_notify
     * under TLS), lets the body commit, and sends the 226; false with {@code r.failure} set when it may not.
     */
    private boolean complete(Run r, long dataEnded) throws IOException {
        if (r.upload && !r.t.aborted() && control.clientEnded()) {
            // The data connection ended cleanly, but the client's control connection has ended too: a client
            // killed mid-upload (or a balancer in front of us) ends both at once, and its data connection's FIN
            // looks just like the end of a file (RFC 959 §3.4: in stream mode the close of the data connection
            // is the end of the file). A client that finished its file waits for our reply.
            r.result = CONTROL_CLOSED;
            r.failure = NOT_STORED;
            return false;
        }
        if (r.tls != null && r.upload && !r.tls.endedCleanly() && !r.t.aborted()) {
            // SECURITY: the data ended without TLS close_notify: whoever cut the connection may have cut the
            // file short (RFC 8446 §6.1, truncation), so the upload is not committed.
            throw new IOException("data connection closed without TLS close_notify");
        }
        if (r.t.aborted()) {
            // Aborted (ABOR, session end) while the last read returned: aborting shuts the data connection's
            // output first, a client may answer with its own FIN, and the upload's read then sees a clean end
            // of file. That is not the end of the client's file: no commit.
            throw new IOException("transfer aborted");
        }
        r.guard.arm(ctx.settings().limits().dataTimeout());
        if (r.tls != null) {
            // close_notify tells the client the data is complete (a download) and answers its own (an upload).
            r.tls.shutdownOutput();
        }
        r.socket.close();
        r.guard.disarm();
        r.plan.body().beforeSuccessReply(dataEnded);
        r.result = "ok";
        control.send(Reply.of(226, "Transfer complete (" + r.t.progress.bytes() + " bytes)."));
        return true;
    }

    /** The data connection failed: why, as the reply and the log's result. */
    private void failed(Run r, IOException e) {
        if (r.t.aborted() && r.upload && control.clientEnded()) {
            r.result = CONTROL_CLOSED;
            r.failure = NOT_STORED;
        } else if (r.t.aborted()) {
            r.result = "aborted";
            r.failure = ABORTED;
        } else if (r.guard.fired()) {
            r.result = "timeout";
            r.failure = Replies.DATA_CONNECTION_TIMED_OUT;
        } else {
            r.result = "connection-lost";
            r.failure = Replies.DATA_CONNECTION_LOST;
        }
        log.debug("transfer-failed").with("cmd", r.plan.verb()).with("error", e.toString()).log();
    }

    /** Cleanup, then the failure reply (if any), the totals, metrics and the log line. */
    private void end(Run r, boolean success, long start) {
        r.guard.close();
        if (r.socket != null) {
            Transfer.stop(r.socket);
        }
        r.plan.body().finish(success);
        if (r.failure != null) {
            control.trySend(r.failure);
        }
        long moved = r.t.progress.bytes();
        if (r.upload) {
            bytesIn += moved;
        } else {
            bytesOut += moved;
        }
        long nanos = System.nanoTime() - start;
        ctx.metrics().transferEnded(r.plan.direction(), r.result, moved, nanos);
        Event line = log.info("transfer").with("cmd", r.plan.verb()).with("path", r.plan.path()).with("bytes", moved)
                .with("ms", nanos / 1_000_000L).with("result", r.result);
        if (r.tlsText != null) {
            line.with("tls", r.tlsText);
        }
        if (r.reason != null) {
            line.with("reason", r.reason);
        }
        if (r.plan.body().limit() > 0) {
            line.with("limit", r.plan.body().limit());
        }
        line.log();
        xferlog(r, moved, nanos);
        control.transferEnded();
    }

    /**
     * The transfer's xferlog line (RETR, STOR, APPE, STOU; not listings, which xferlog never had). Not for a
     * balancer's health check ({@link SessionEvents#quiet}): its probe transfers are no one's files.
     */
    private void xferlog(Run r, long moved, long nanos) {
        Xferlog.Direction direction = switch (r.plan.verb()) {
            case "RETR" -> Xferlog.Direction.OUTGOING;
            case "STOR", "APPE", "STOU" -> Xferlog.Direction.INCOMING;
            default -> null;
        };
        if (direction == null || log.quiet() || !XFERLOG.isInfoEnabled()) {
            return;
        }
        XFERLOG.info(Xferlog.line(ZonedDateTime.now(), Duration.ofNanos(nanos), client.getHostAddress(), moved,
                r.plan.path().toString(), r.plan.ascii(), direction, r.plan.anonymous(), log.user(),
                "ok".equals(r.result) ? Xferlog.Completion.COMPLETE : Xferlog.Completion.INCOMPLETE));
    }

    /** Opens the data connection the last PORT/PASV asked for; replies 425 and returns null if it cannot. */
    private SocketChannel connect(Transfer t, DataEndpoint endpoint, Watchdog.Guard guard) throws IOException {
        return switch (endpoint) {
            case null -> {
                control.send(NO_ENDPOINT);
                yield null;
            }
            case DataEndpoint.Passive p -> accept(t, p);
            case DataEndpoint.Active a -> connectOut(t, a, guard);
        };
    }

    private SocketChannel accept(Transfer t, DataEndpoint.Passive p) throws IOException {
        t.attach(p.listener());
        long left = (p.deadlineNanos() - System.nanoTime()) / 1_000_000L;
        SocketChannel c = p.listener().accept(dataPeer, left, peer ->
                log.info("data-refused").with("from", peer).with("reason", "foreign-address").log());
        if (c == null && !t.aborted()) {
            control.send(Reply.of(425, "No data connection received within "
                    + describe(ctx.settings().passive().acceptTimeout()) + "."));
        }
        return c;
    }

    private SocketChannel connectOut(Transfer t, DataEndpoint.Active a, Watchdog.Guard guard) throws IOException {
        SocketChannel c = SocketChannel.open();
        t.attach(c);
        guard.arm(ctx.settings().limits().dataTimeout());
        try {
            // From the address the client reached us at, as vsftpd does: a multi-homed server's data
            // connections then come from where the client (or a balancer pinning data connections to
            // the backend it dialled) expects them, not from whatever address the routing table picks.
            // Through a trusted proxy this is the real socket's address, not the PROXY header's.
            c.bind(new InetSocketAddress(localAddress, 0));
            c.connect(a.target().toSocketAddress());
            guard.disarm();
            return c;
        } catch (IOException e) {
            guard.disarm();
            Transfer.stop(c);
            if (!t.aborted()) {
                control.send(Replies.cannotOpenDataConnection(a.target().toSocketAddress()));
            }
            return null;
        }
    }

    private static String describe(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
