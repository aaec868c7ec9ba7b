package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.BackendReply;
import dev.ferry.balancer.backend.Features;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.protocol.line.ControlLine;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.IdleParker;
import dev.ferry.runtime.net.SocketConnection;
import dev.ferry.runtime.net.Watchdog;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client's control connection through the balancer: its lifecycle and its two pumps.
 *
 * <p>Design: the balancer greets the client and answers what comes before USER itself ({@link BeforeLogin}),
 * so the backend can be chosen from the user name. After USER two pumps run: client to backend (commands
 * forwarded as sent, each noted in the {@link ReplyOrder}), and backend to client (whole replies, each final
 * one matched to the command it answers). Replies the balancer makes itself wait their turn in the
 * {@link ReplyOrder}, so pipelined clients see replies in order. Every data connection goes through a
 * {@link DataRoute} with the backend in passive mode: a client's PASV/EPSV through the {@link PassiveBridge},
 * its PORT/EPRT through the {@link ActiveBridge}; the {@link SessionTransfers} carry the data and decide what
 * a transfer's final reply becomes (a success reply is a promise: 2xx only for data relayed to its end).
 * Each part owns its state and sees narrow interfaces ({@link ClientReplies}, {@link BackendCommands}), not
 * this class.
 *
 * <p>Idle sessions cost no threads: a pump that has waited {@link IdleParker#PARK_AFTER_MILLIS} without input
 * hands its socket to the {@link dev.ferry.runtime.net.IdleParker} and its thread ends; a new one
 * continues when bytes arrive. So that a parked pump always wakes up, nothing here closes a socket
 * while the session lives: ending, timeouts and stuck writes shut the sockets down (a parked read
 * then sees end of stream), and the last pump to end closes everything in {@link #finish()}.
 *
 * <p>Abuse (docs/balancer.md, admission): a connection counts against its client address's limit from the
 * accept ({@link Admission#arrive}); once greeted, it must be logged in (230 from its backend) within the
 * login timeout, whatever it sends meanwhile; the login timeout and the client idle timeout end a session
 * with a 421 that says which.
 *
 * <p>TLS termination (docs/ftps.md): the balancer answers AUTH, PBSZ, PROT and CCC itself, before and
 * after login ({@link ControlProtection}, the server's rules); the control connection is TLS between client
 * and balancer ({@link ClientTls}), and TLS or plain between balancer and backend as configured.
 */
public final class ProxySession implements Runnable, ClientSession {

    private static final int MAX_CLIENT_LINE = 4096;
    /** The server's words for a banned address (its Session.BANNED), so that a client hears one thing at either door. */
    static final Reply BANNED = Reply.of(421, "Too many failed logins from your address; try again later.");
    /** The start of the server's 421 after a session's last allowed failure (LoginCommands.TOO_MANY_FAILURES). */
    private static final String TOO_MANY_FAILURES_TEXT = "Too many failed logins";

    private final BalancerContext ctx;
    private final SessionFacts facts;
    private final Connection clientConn;
    private final boolean implicitTls;
    private final ControlProtection protection;
    private final ControlWriter clientOut;
    private final Watchdog.Guard clientGuard;
    /** Armed while a command awaits its reply (by the {@link ReplyOrder}): a backend that stops answering ends the session. */
    private final Watchdog.Guard serverIdleGuard;
    /** Armed from the greeting until the backend accepts the login: what the client sends meanwhile does not reset it. */
    private final Watchdog.Guard loginGuard;
    /** Set once, by whichever comes first: the login (230/232 from the backend) or the login timeout. */
    private final AtomicBoolean loginOver = new AtomicBoolean();
    private final ClientTls clientTls;
    private final BeforeLogin beforeLogin;
    private final ReplyOrder order;
    private final PendingRoute pending;
    private final SessionTransfers transfers;
    private final AtomicInteger pumps = new AtomicInteger(2);
    private final AtomicBoolean finished = new AtomicBoolean();
    /** Counted among its address's connections ({@link Admission#arrive}), and holding an admission slot. */
    private boolean arrived;
    private boolean admitted;
    private ControlLineReader clientReader;
    private boolean clientWaiting;

    // Set at login, before the pumps start; volatile where the admin page or a timeout reads them.
    private volatile Backend backend;
    private volatile Connection backendConn;
    private ControlWriter backendOut;
    private ControlLineReader backendReader;
    private PassiveBridge passive;
    private ActiveBridge active;
    private ClientCommands commands;
    /** This session's place in its user's count (SessionLimits), from the backend's 230 to the session's end. */
    private volatile SessionLimits.Lease userLease;

    /** A client accepted on a listener; {@code implicitTls}: the implicit-FTPS one (TLS before the greeting). */
    public static ProxySession accepted(BalancerContext ctx, SocketChannel client, boolean implicitTls) throws IOException {
        return new ProxySession(ctx, new SocketConnection(client), implicitTls, BackendDialer.sockets(ctx));
    }

    /** A session over any control connection, reaching backends through {@code dialer} (unit tests: in memory). */
    public ProxySession(BalancerContext ctx, Connection client, boolean implicitTls, BackendDialer dialer) {
        this.ctx = ctx;
        String id = "b" + Long.toString(ctx.sessionIds().incrementAndGet(), 36);
        InetSocketAddress from = client.remoteAddress();
        this.facts = new SessionFacts(id, from, ctx.log().session(id, HostPort.text(from)));
        this.clientConn = client;
        this.implicitTls = implicitTls;
        this.protection = ControlProtection.forBalancer(ctx.tls() != null, implicitTls);
        Watchdog.Guard clientWriteGuard = ctx.watchdog().guard(() -> ControlWriter.shutdown(clientConn));
        this.clientOut = new ControlWriter(client, clientWriteGuard, () -> ctx.settings().timeouts().data());
        this.clientGuard = ctx.watchdog().guard(this::clientIdleExpired);
        this.serverIdleGuard = ctx.watchdog().guard(this::serverIdleExpired);
        this.loginGuard = ctx.watchdog().guard(this::loginExpired);
        this.clientTls = new ClientTls(ctx, facts, client, clientWriteGuard, protection, implicitTls);
        this.beforeLogin = new BeforeLogin(ctx, facts, client, clientOut, clientGuard, protection, clientTls, dialer);
        this.order = new ReplyOrder(serverIdleGuard, () -> ctx.settings().timeouts().serverIdle());
        this.pending = new PendingRoute(ctx.dataPorts());
        this.transfers = new SessionTransfers(facts.log, ctx, client, clientTls::forData, order, clientOut);
    }

    private void serverIdleExpired() {
        if (transfers.running() || order.awaitingDataConnection(ctx.settings().timeouts().data().toNanos())) {
            // The backend answers a transfer at its end: while bytes move, or while it waits for the data
            // connection the client has not made yet, it is not silent.
            serverIdleGuard.arm(ctx.settings().timeouts().serverIdle());
            return;
        }
        facts.ending("server-idle-timeout");
        facts.log.warn("server-idle-timeout").with("backend", backend == null ? null : backend.name()).log();
        if (backend != null) {
            backend.countError();
        }
        Thread.ofVirtual().start(() -> closeWith(Reply.of(421, "Server did not answer in time; closing the connection.")));
    }

    private void clientIdleExpired() {
        if (transfers.running()) {
            // A control connection that is quiet while its data connection transfers is not idle.
            clientGuard.arm(ctx.settings().timeouts().clientIdle());
            return;
        }
        facts.ending("client-idle-timeout");
        timedOut(BalancerMetrics.Timeout.CLIENT_IDLE, Replies.IDLE_TIMEOUT);
    }

    /** The login timeout ran out: unless the backend accepted the login just now, the session ends. */
    private void loginExpired() {
        if (!loginOver.compareAndSet(false, true)) {
            return;
        }
        facts.ending("login-timeout");
        timedOut(BalancerMetrics.Timeout.LOGIN, Replies.LOGIN_TIMEOUT);
    }

    /** A timeout ends the session: counted, logged, the client told 421 and both connections shut (off the watchdog's thread). */
    private void timedOut(BalancerMetrics.Timeout kind, Reply reply) {
        ctx.metrics().timedOut(kind);
        if (kind == BalancerMetrics.Timeout.LOGIN) {
            // A refusal anyone can cause by connecting and waiting: bounded as the others are.
            ctx.refusals().log(level -> facts.log.at(level, "timeout").with("kind", kind.label()));
        } else {
            facts.log.info("timeout").with("kind", kind.label()).log();
        }
        Thread.ofVirtual().start(() -> closeWith(reply));
    }

    /**
     * Backend pump, each reply: 230 (or 232, RFC 2228) is the backend accepting the login, after USER/PASS (or
     * ACCT), the only commands that log in; from then on the login timeout no longer applies.
     */
    private void loginReplied(int code) {
        if ((code == 230 || code == 232) && loginOver.compareAndSet(false, true)) {
            loginGuard.disarm();
        }
    }

    /**
     * Backend pump, each final reply to a client's USER, PASS or ACCT: the backend's verdict on the login, logged
     * as the server logs its own ({@code event=login}, {@code event=login-failed} with the same leading fields), so
     * that one fail2ban filter matches the balancer's log, where the client's address is (the servers see the
     * balancer's). The password never reaches the log: only the reply's code does.
     */
    private boolean loginOutcome(Verb verb, BackendReply reply) {
        if (verb != Verb.USER && verb != Verb.PASS && verb != Verb.ACCT) {
            return false;
        }
        int code = reply.code;
        InetAddress client = facts.client.getAddress();
        if (code == 230 || code == 232) {
            facts.log.info("login").with("backend", backend.name()).log();
            String user = facts.user();
            if (user != null && !anonymousName(user)) {
                // SECURITY: an anonymous login always succeeds; letting it clear the count would let a guesser
                // reset it between attempts (the server keeps the same rule).
                ctx.bans().recordSuccess(client);
            }
            countUser(user);
            return false;
        }
        boolean failed = code == 530 || (code >= 500 && verb != Verb.USER)
                // The server's 421 after a session's last allowed attempt is a failed guess too; its other 421s
                // (accounts unavailable, too many sessions, banned) are not.
                || (code == 421 && verb != Verb.USER && reply.lines.size() == 1
                        && reply.text().startsWith(TOO_MANY_FAILURES_TEXT));
        if (!failed) {
            return false;
        }
        // A 5xx to USER other than 530 (a syntax error) refuses the command, not a login attempt.
        boolean banned = ctx.bans().recordFailure(client);
        var line = facts.log.info("login-failed").with("backend", backend.name()).with("reason", code);
        if (banned) {
            line.with("banned", true);
        }
        line.log();
        return banned;
    }

    /** RFC 1635's names for an anonymous login; the balancer does not know the servers' accounts. */
    private static boolean anonymousName(String user) {
        return user.equalsIgnoreCase("anonymous") || user.equalsIgnoreCase("ftp");
    }

    /** The user's session through this balancer, for the admin page; a second login (after REIN) replaces it. */
    private void countUser(String user) {
        SessionLimits.Lease previous = userLease;
        userLease = user == null ? null : ctx.sessions().acquire(user, 0, facts.id);
        if (previous != null) {
            previous.close();
        }
    }

    /**
     * Ends the session from outside (the balancer stops, an administrator ends it): the client is
     * told 421, and both sockets are shut so that blocked or parked pumps end on their own.
     */
    @Override
    public void terminate(String end, String text) {
        facts.ending(end);
        closeWith(Reply.of(421, text));
    }

    /** Tells the client {@code reply} and shuts both connections: the pumps end on their own. */
    private void closeWith(Reply reply) {
        clientOut.sendQuietly(reply);
        ControlWriter.shutdown(clientConn);
        ControlWriter.shutdown(backendConn);
    }

    @Override public String id() { return facts.id; }
    @Override public InetSocketAddress clientAddress() { return facts.client; }
    @Override public String user() { return facts.user(); }
    @Override public Backend backend() { return backend; }
    @Override public Instant startedAt() { return facts.startedAt; }
    @Override public Verb lastVerb() { return facts.lastVerb(); }
    @Override public long bytesUp() { return transfers.bytesUp(); }
    @Override public long bytesDown() { return transfers.bytesDown(); }
    @Override public int transfers() { return transfers.count(); }
    @Override public long transferBytes() { return transfers.transferBytes(); }
    @Override public long inFlightUp() { return transfers.inFlightUp(); }
    @Override public long inFlightDown() { return transfers.inFlightDown(); }

    @Override
    public void run() {
        ctx.live().add(this);
        boolean relaying = false;
        try {
            // SECURITY: a banned address is refused first: no TLS handshake, no admission slot, no backend dialled.
            if (ctx.bans().isBanned(facts.client.getAddress())) {
                facts.ending("refused-banned");
                ctx.refusals().log(level -> facts.log.at(level, "refused").with("reason", "banned"));
                if (!implicitTls) {
                    // As for max-per-address below: on the implicit-FTPS listener a clear-text 421 means nothing.
                    clientOut.send(BANNED);
                }
                return;
            }
            // SECURITY: counted from the accept, before the TLS handshake and the queue, so that one address cannot
            // hold more than its share of the balancer (connections in a handshake or queued included) and lock
            // everyone else out; over it, refused at once rather than queued.
            if (!ctx.admission().arrive(facts.client.getAddress(), ctx.settings().perAddressLimit())) {
                facts.ending("refused-max-per-address");
                ctx.refusals().log(level -> facts.log.at(level, "refused").with("reason", "max-per-address"));
                if (!implicitTls) {
                    // On the implicit-FTPS listener the client expects a TLS handshake first: a clear-text 421 would
                    // only be a handshake error, and a handshake for every refused connection is what a flood wants.
                    clientOut.send(Replies.TOO_MANY_FROM_ADDRESS);
                }
                return;
            }
            arrived = true;
            if (implicitTls && !clientTls.start()) {
                return;
            }
            Admission.Outcome admission = ctx.admission().enter();
            if (admission != Admission.Outcome.ADMITTED) {
                boolean full = admission == Admission.Outcome.QUEUE_FULL;
                facts.ending(full ? "refused-max-sessions" : "queue-timeout");
                ctx.refusals().log(level -> facts.log.at(level, "refused").with("reason", full ? "max-sessions" : "queue-timeout"));
                clientOut.send(Replies.TOO_MANY_USERS);
                return;
            }
            admitted = true;
            // SECURITY: a session holds a slot; one that is not logged in within the login timeout gives it back,
            // however many NOOPs it sends, so idle or stalling pre-login connections cannot fill max-sessions.
            loginGuard.arm(ctx.settings().timeouts().login());
            clientOut.send(Reply.of(220, ctx.settings().greeting()));
            clientReader = new ControlLineReader(clientConn, MAX_CLIENT_LINE);
            BeforeLogin.LoggedIn in = beforeLogin.run(clientReader);
            if (in != null) {
                loggedIn(in);
                relaying = true;
            }
        } catch (IOException e) {
            facts.log.debug("session-error").with("stage", "before-login").with("error", e.toString()).log();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            facts.ending("balancer-stop");
        } finally {
            if (!relaying) {
                finish();
            }
        }
        if (relaying) {
            Thread.ofVirtual().start(this::backendLoop);
            clientLoop();
        }
    }

    /** A backend took the session: its data parts are set up, and it gets the USER, whose answer goes to the client. */
    private void loggedIn(BeforeLogin.LoggedIn in) throws IOException {
        backend = in.backend();
        backendConn = in.connection();
        backendReader = in.replies();
        facts.connectMillis(in.connectMillis());
        backendOut = new ControlWriter(backendConn, ctx.watchdog().guard(() -> ControlWriter.shutdown(backendConn)),
                () -> ctx.settings().timeouts().data());
        transfers.serve(backend, backendConn);
        InetAddress client = facts.client.getAddress();
        InetAddress local = clientConn.localAddress().getAddress();
        passive = new PassiveBridge(facts.log, ctx, client, local, backend.address().getAddress(), pending, transfers);
        active = new ActiveBridge(facts.log, ctx, client, local, backend.address(), pending, this::sendToBackend, transfers);
        commands = new ClientCommands(facts, protection, ctx.tls() != null && ctx.tls().backends() != null, pending, active,
                transfers, this::sendToBackend, this::sendInOrder);
        sendToBackend(in.userLine(), Awaited.forwarded(Verb.USER));
    }

    /** Called once, by the last pump to end (or before the pumps start): closes and logs. */
    private void finish() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        ctx.ended(this, arrived, admitted);
        SessionLimits.Lease lease = userLease;
        if (lease != null) {
            lease.close();
        }
        clientGuard.close();
        clientOut.close();
        serverIdleGuard.close();
        loginGuard.close();
        if (backendOut != null) {
            backendOut.close();
        }
        // A session's data routes end with it: a waiting port is freed, a running transfer is reset.
        pending.cancel();
        order.forEach(a -> {
            if (a.route != null) {
                a.route.cancel(ctx.dataPorts());
            }
        });
        transfers.end("session ended (" + facts.ending() + ")");
        Closing.quietly(clientConn);
        Closing.quietly(backendConn);
        if (backend != null) {
            backend.sessionEnded();
        }
        facts.log.info("session").with("backend", backend == null ? null : backend.name())
                .with("connect_ms", facts.connectMillis()).with("total_ms", facts.elapsedMillis())
                .with("bytes_up", transfers.bytesUp()).with("bytes_down", transfers.bytesDown())
                .with("transfers", transfers.count()).with("end", facts.ending()).log();
    }

    /** A pump ended: wake the other one (its socket's input is shut) and finish when both are done. */
    private void pumpEnded(Connection other) {
        if (other != null) {
            other.shutdownInput();
        }
        if (pumps.decrementAndGet() == 0) {
            finish();
        }
    }

    /** Gives the pump's thread up until {@code conn} has input; {@code resume} continues the pump. */
    private void park(Connection conn, ControlLineReader reader, Runnable resume) throws IOException {
        reader.releaseBuffers();
        conn.releaseIdleBuffers();
        SocketChannel channel = conn.parkableChannel();
        channel.configureBlocking(false);
        ctx.idleParker().park(channel, () -> {
            try {
                channel.configureBlocking(true);
            } catch (IOException | RuntimeException e) {
                // closed meanwhile: the pump's next read fails and it ends normally
            }
            resume.run();
        });
    }

    /**
     * True when the pump should park: it can (a socket, a parker) and nothing came for a while.
     *
     * <p>Only a pump that may be idle asks: the wait for input is a timed park of its virtual thread, and
     * each timed park schedules and cancels a timer on the JDK scheduler's delay thread, which is woken
     * for both (measured on 2,000 small files through the balancer: 9.4 of the balancer's ~40 context
     * switches per file were that thread's, one or two per timed read). A pump that expects its peer's
     * next bytes soon reads without a timeout instead, bounded by a timeout of the session's that shuts
     * the connection and so ends the read: the backend pump while a command awaits its reply (the
     * server-idle timeout, which runs exactly then), the client pump between a PASV/EPSV/PORT/EPRT and its
     * transfer command (the client-idle timeout; a client goes on with its transfer command at once).
     */
    private boolean idleFor(Connection conn, ControlLineReader reader) throws IOException {
        return ctx.idleParker() != null && conn.parkableChannel() != null && !reader.awaitInput(IdleParker.PARK_AFTER_MILLIS);
    }

    /** Client to backend: commands forwarded as sent; data commands set up routes; PORT/EPRT become PASV. */
    private void clientLoop() {
        try {
            while (true) {
                if (!clientWaiting) {
                    clientGuard.arm(ctx.settings().timeouts().clientIdle());
                    clientWaiting = true;
                }
                if (!pending.waiting() && idleFor(clientConn, clientReader)) {
                    park(clientConn, clientReader, this::clientLoop);
                    return;
                }
                ControlLine next;
                try {
                    next = clientReader.readLine();
                } catch (EOFException e) {
                    break;
                }
                clientWaiting = false;
                clientGuard.disarm();
                switch (next) {
                    case ControlLine.Text t -> commands.handle(t.text());
                    case ControlLine.TooLong tl -> sendInOrder(Replies.lineTooLong(tl.limit()));
                    case ControlLine.BadEncoding b -> sendInOrder(Replies.BAD_UTF8);
                }
            }
        } catch (IOException e) {
            facts.log.debug("session-error").with("stage", "client").with("error", e.toString()).log();
        }
        pumpEnded(backendConn);
    }

    /** Backend to client: whole replies; 227/229 rewritten; a transfer's final reply only as the data allows. */
    private void backendLoop() {
        try {
            while (true) {
                if (!order.awaiting() && idleFor(backendConn, backendReader)) {
                    park(backendConn, backendReader, this::backendLoop);
                    return;
                }
                BackendReply reply = BackendReply.read(backendReader);
                loginReplied(reply.code);
                Awaited answered = reply.isFinal() ? order.take() : null;
                boolean banned = answered != null && loginOutcome(answered.verb, reply);
                byte[] out = reply.isFinal() ? finalReply(reply, answered) : preliminaryReply(reply);
                if (out != null) {
                    clientOut.write(out);
                }
                if (answered != null) {
                    order.replied();
                }
                if (banned) {
                    // The ban holds at once: this connection ends too, as the server ends the session it bans.
                    facts.ending("banned");
                    clientOut.sendQuietly(BANNED);
                    break;
                }
                if (reply.code == 421 || reply.code == 221) {
                    break;
                }
            }
        } catch (BackendReply.Hostile e) {
            facts.ending("backend-protocol-error");
            facts.log.warn("backend-protocol-error").with("backend", backend.name()).with("error", e.getMessage()).log();
            backend.countError();
            clientOut.sendQuietly(Reply.of(421, "Server error; closing the connection."));
        } catch (EOFException e) {
            backendLost("backend-closed", "Server closed the connection.");
        } catch (IOException e) {
            backendLost("backend-error", "Server connection lost.");
        }
        order.backendEnded();
        pumpEnded(clientConn);
    }

    /** The backend's connection ended while nothing else was ending the session: the client is told 421. */
    private void backendLost(String ending, String text) {
        if (facts.endingUnknown() && clientConn.isOpen()) {
            facts.ending(ending);
            clientOut.sendQuietly(Reply.of(421, text));
        }
    }

    /** A 1xx as the client gets it (null: not at all); it marks the transfer at the head as begun. */
    private byte[] preliminaryReply(BackendReply reply) {
        Awaited head = order.head();
        if (head != null && head.kind == Awaited.Kind.TRANSFER) {
            head.begin();
        }
        return head != null && (head.answered() || head.route != null && head.route.failure() != null)
                ? null // the transfer already failed at the balancer: its 150 would promise data that never comes
                : reply.toBytes();
    }

    /** A final reply as the client gets it (null: not at all), by what it answers (null: unsolicited, passed on). */
    private byte[] finalReply(BackendReply reply, Awaited answered) throws IOException {
        return answered == null ? reply.toBytes() : switch (answered.kind) {
            // FEAT after login: the backend's extensions, with the TLS the client has here (RFC 2389, Features).
            case FORWARDED -> answered.verb == Verb.FEAT ? featuresAfterLogin(reply) : reply.toBytes();
            case PASSIVE -> passive.answer(reply, answered);
            case ACTIVE -> active.ready(reply, answered);
            case TRANSFER -> transfers.finalReply(reply, answered);
        };
    }

    private byte[] featuresAfterLogin(BackendReply reply) {
        Reply rewritten = Features.rewriteReply(reply.code, reply.lines, protection.offered());
        return rewritten == null ? reply.toBytes() : rewritten.toBytes();
    }

    /**
     * Sends a command to the backend, first noting what its final reply will answer. A client far ahead of
     * its replies waits here (bounded by the server-idle timeout) instead of growing the queue.
     */
    private void sendToBackend(String line, Awaited what) throws IOException {
        order.expect(what);
        backendOut.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** A reply of our own after the backend answered every earlier command (pipelining order). */
    private void sendInOrder(Reply reply) throws IOException {
        order.awaitTurn();
        clientOut.send(reply);
    }
}
