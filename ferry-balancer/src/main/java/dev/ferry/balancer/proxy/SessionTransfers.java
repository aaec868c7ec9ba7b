package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.BackendConnect;
import dev.ferry.balancer.backend.BackendReply;
import dev.ferry.balancer.data.Flow;
import dev.ferry.balancer.data.Relay;
import dev.ferry.balancer.data.TlsRelay;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.log.SessionLog;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.tls.TlsEndpoint;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.slf4j.event.Level;

/**
 * A session's data connections and what their ends mean for the transfers' final replies.
 *
 * <p>Design: each data connection, passive or active, is {@link #carry carried} on a thread of its own: its
 * {@link Flow} is known to its route before any socket is made, the backend's data port is connected, and the
 * bytes are relayed ({@link Relay}, or {@link TlsRelay} when either side speaks TLS) and counted for the session,
 * its backend and the metrics. The backend pump asks {@link #finalReply} what the client is told when the
 * backend's final reply for a transfer comes: a success reply is a promise, so a 2xx reaches the client only when
 * the direction that carried the file ended cleanly ({@link #complete}, the table); any final reply waits until
 * the backend-to-client direction is over, so the client has the data and its end before it reads that the
 * transfer is over. A relay that stalls for the data timeout is answered 426 here, since a stalled backend may
 * never answer.
 *
 * <p>Threads: relays write the counters, the admin page reads them; the backend pump waits on flows; the session
 * {@link #end ends} them all.
 */
final class SessionTransfers {

    /** The client's side of a data connection, made for {@code flow}; null when it could not be (the route failed, the flow was abandoned). */
    @FunctionalInterface
    interface ClientEnd {
        SocketChannel open(Flow flow);
    }

    /** What the client is told of a transfer, the backend's final reply and the data's facts known. */
    sealed interface Completion {
        /** The backend's reply goes to the client as it is. */
        record PassOn() implements Completion {}
        /** The balancer answered the transfer already (its data timed out): the backend's reply is dropped. */
        record Drop() implements Completion {}
        /** The client gets {@code reply} instead; {@code reason} is the log's, null when the failure was logged where it happened. */
        record Replace(Reply reply, String reason) implements Completion {}
    }

    private final SessionLog log;
    private final BalancerContext ctx;
    private final Connection client;
    /** The client's TLS for data connections now (PROT P), or null (PROT C). */
    private final Supplier<TlsEndpoint> clientDataTls;
    private final ReplyOrder order;
    private final ClientReplies replies;
    private volatile Backend backend;
    private volatile Connection backendControl;

    /** Data connections being made or relayed now: given up when the session ends. */
    private final Set<Flow> flows = ConcurrentHashMap.newKeySet();
    private final AtomicInteger running = new AtomicInteger();
    private volatile boolean ended;
    /** Bytes of the transfer in progress (null: none), not yet in the backend's totals. */
    private volatile LongAdder currentUp;
    private volatile LongAdder currentDown;
    private volatile long bytesUp;
    private volatile long bytesDown;
    private final AtomicInteger count = new AtomicInteger();

    SessionTransfers(SessionLog log, BalancerContext ctx, Connection client, Supplier<TlsEndpoint> clientDataTls,
                     ReplyOrder order, ClientReplies replies) {
        this.log = log;
        this.ctx = ctx;
        this.client = client;
        this.clientDataTls = clientDataTls;
        this.order = order;
        this.replies = replies;
    }

    /** The backend chosen at USER and its control connection: every data connection goes to it. Set once, before any transfer. */
    void serve(Backend chosen, Connection control) {
        this.backend = chosen;
        this.backendControl = control;
    }

    long bytesUp() { return bytesUp; }
    long bytesDown() { return bytesDown; }
    int count() { return count.get(); }

    /** True while a data connection is being made or relayed: its control connections are not idle. */
    boolean running() {
        return running.get() > 0;
    }

    /** Bytes the running transfer has moved so far (both directions), or -1 when none runs. */
    long transferBytes() {
        LongAdder up = currentUp;
        LongAdder down = currentDown;
        return up == null || down == null ? -1 : up.sum() + down.sum();
    }

    /** Bytes up of the transfer in progress, which the backend's totals do not hold yet (0: none). */
    long inFlightUp() {
        LongAdder up = currentUp;
        return up == null ? 0 : up.sum();
    }

    /** Bytes down of the transfer in progress, which the backend's totals do not hold yet (0: none). */
    long inFlightDown() {
        LongAdder down = currentDown;
        return down == null ? 0 : down.sum();
    }

    /**
     * One data connection of {@code route}, on the caller's thread: its client side opened by {@code clientEnd},
     * then the backend's passive port connected, then relayed to its end.
     */
    void carry(DataRoute route, ClientEnd clientEnd) {
        running.incrementAndGet();
        Flow flow = newFlow(route);
        try {
            SocketChannel clientSide = clientEnd.open(flow);
            if (clientSide == null) {
                return;
            }
            SocketChannel backendSide = connectBackend(route, flow, clientSide);
            if (backendSide != null) {
                relay(route, flow, clientSide, backendSide);
            }
        } finally {
            flows.remove(flow);
            running.decrementAndGet();
        }
    }

    /**
     * ABOR (RFC 959 §4.1.3): the client gives its transfer up and need not read its data connection any
     * more (ftplib and Commons Net read the 426 and 226 first, then close it), so the transfer's final
     * reply must not wait for that connection's end. An upload's relay is given up (reset on both sides):
     * its end must never reach the backend as a clean one, which would commit the file. A download's relay
     * is left to the backend, which aborts it when it reads the ABOR: reset here first, the backend could
     * see its data connection fail before the ABOR and answer for a lost connection instead (it did in 2
     * of 3 runs of CommonsNetTransfersTest's abort).
     */
    void clientAborts() {
        order.forEach(a -> {
            if (a.kind == Awaited.Kind.TRANSFER && !a.answered()) {
                a.abortedByClient();
                Flow f = a.route == null ? null : a.route.flow();
                if (f != null && a.upload()) {
                    f.giveUp("client sent ABOR");
                }
            }
        });
    }

    /**
     * The session ended: a running transfer is reset (its client or its backend has gone, so nothing it still
     * carries can be confirmed to anyone). A transfer whose data already ended cleanly is not running: its last
     * bytes may still wait in our socket for a client that reads slowly (QUIT during a transfer is answered after
     * it, RFC 959 §4.1.1), and a reset would drop them; the relay ends when that client closes, or at the data
     * timeout.
     */
    void end(String why) {
        ended = true;
        for (Flow f : flows) {
            if (f.down() != Flow.End.CLEAN && f.up() != Flow.End.CLEAN) {
                f.giveUp(why);
            }
        }
    }

    /**
     * A transfer's final reply from the backend, as the client gets it (null: not at all). Any final reply waits
     * until the backend -> client direction is over (at most the data timeout): a client that reads 226 first may
     * close the data connection before the last bytes came, or (curl in active mode) take the transfer as failed.
     */
    byte[] finalReply(BackendReply reply, Awaited a) {
        DataRoute route = a.route;
        if (route != null) {
            // The transfer is over: a port its client never connected to (a 550 before any data, the
            // backend's accept timeout) is free again at once, not at the route's deadline.
            route.cancel(ctx.dataPorts());
        }
        Flow flow = route == null ? null : route.flow();
        Flow.End carried = null;
        if (!a.begun() && reply.code >= 300) {
            // Refused before it began (no 150: 425, 450, 550, 554 for a REST beyond the end...): no data will
            // move, and a client that connected its data connection first (Commons Net) keeps it open until
            // it reads this reply, so waiting for that connection's end would hold the reply for the data timeout.
            if (flow != null) {
                flow.giveUp("backend refused the transfer (" + reply.code + ")");
            }
        } else if (flow != null) {
            Duration wait = a.isAbortedByClient() ? Duration.ZERO : ctx.settings().timeouts().data();
            if (reply.code < 300 && !a.upload()) {
                flow.confirmDown();
            }
            Flow.End down = flow.awaitDown(wait);
            carried = a.upload() ? flow.awaitUp(wait) : down;
        }
        Completion c = complete(reply.code, a.answered(), route == null ? null : route.failure(), route != null, flow != null, carried);
        return switch (c) {
            case Completion.PassOn p -> reply.toBytes();
            case Completion.Drop d -> null;
            case Completion.Replace r -> {
                if (r.reason() != null) {
                    // SECURITY (of the data): a 2xx is a promise that the bytes arrived; the backend cannot know what
                    // happened between the balancer and the client, so its 2xx is not passed on when the relay failed.
                    log.info("transfer-failed").with("cmd", a.verb).with("backend_reply", reply.code).with("reason", r.reason())
                            .with("detail", flow == null ? null : flow.givenUpBecause()).with("backend", backend.name()).log();
                }
                yield r.reply().toBytes();
            }
        };
    }

    /**
     * The completion rules, pure: the client hears the backend's {@code code} unless the balancer answered the
     * transfer already ({@code answered}), its data connection could not be made ({@code failure}, that reply
     * instead), or the backend claims success ({@code code} below 300) for data the balancer did not carry to its
     * end: no data command ({@code routed} false) or no data connection ({@code connected} false) gives 425, a
     * direction that carried the file and did not end {@link Flow.End#CLEAN} (or not yet: null) gives 426.
     */
    static Completion complete(int code, boolean answered, Reply failure, boolean routed, boolean connected, Flow.End carried) {
        if (answered) {
            return new Completion.Drop();
        }
        if (failure != null) {
            return new Completion.Replace(failure, null);
        }
        if (code >= 300) {
            return new Completion.PassOn();
        }
        String why = !routed ? "no-data-command" : !connected ? "no-data-connection"
                : carried == null ? "data-still-moving" : carried != Flow.End.CLEAN ? "data-" + carried.name().toLowerCase(Locale.ROOT) : null;
        if (why == null) {
            return new Completion.PassOn();
        }
        return new Completion.Replace(connected ? Replies.DATA_CONNECTION_LOST
                : Reply.of(425, "No data connection was made; transfer not done."), why);
    }

    /**
     * The flow of a route's data connection, known to the route before any connection is made (the backend's
     * final reply may come as soon as the backend's side is connected). A clean end is passed on only while
     * its sender's control connection is there: a peer that died ends its data with the same FIN as one that
     * finished (an upload would be committed cut short).
     */
    private Flow newFlow(DataRoute route) {
        Connection control = backendControl;
        Flow flow = new Flow(() -> !client.peerEnded(), () -> control == null || !control.peerEnded());
        route.flow(flow);
        flows.add(flow);
        if (ended) {
            flow.giveUp("session ended");
        }
        return flow;
    }

    /**
     * Connects to the backend's passive port; null when it cannot be reached (then the client's side is
     * reset, the transfer will be answered 425, and the backend is counted an error).
     */
    private SocketChannel connectBackend(DataRoute route, Flow flow, SocketChannel clientSide) {
        try {
            return BackendConnect.data(ctx, route.backendTarget(), ctx.source());
        } catch (java.io.IOException e) {
            log.warn("data-connect-failed").with("side", "backend").with("target", HostPort.text(route.backendTarget()))
                    .with("error", e.getMessage()).with("backend", backend.name()).log();
            backend.countError();
            route.fail(Reply.of(425, "Cannot open the data connection to the server."));
            Flow.reset(clientSide);
            flow.abandon("backend data port unreachable");
            return null;
        }
    }

    /**
     * Relays one data connection, both sides connected, and counts it for the session, its backend
     * and the metrics: every transfer, passive or active, passes here.
     */
    private void relay(DataRoute route, Flow flow, SocketChannel clientSide, SocketChannel backendSide) {
        count.incrementAndGet();
        LongAdder up = new LongAdder();
        LongAdder down = new LongAdder();
        currentDown = down;
        currentUp = up;
        long start = System.nanoTime();
        LongConsumer upCounter = n -> {
            bytesUp += n;
            up.add(n);
        };
        LongConsumer downCounter = n -> {
            bytesDown += n;
            down.add(n);
        };
        try {
            TlsEndpoint clientTls = clientDataTls.get();
            boolean backendFtps = ctx.tls() != null && ctx.tls().backends() != null;
            if (clientTls != null || backendFtps) {
                TlsRelay.Result r = TlsRelay.run(
                        new TlsRelay.ClientSide(clientSide, clientTls, client.tlsSession()),
                        new TlsRelay.BackendSide(backendSide, backendFtps ? ctx.tls().backends().engine(backend.address()) : null),
                        ctx.buffers(), ctx.watchdog(), ctx.settings().timeouts().data(), ctx.settings().tls().handshakeTimeout(),
                        ctx.settings().tls().reuse(), upCounter, downCounter, flow);
                dataTlsOutcome(route, r);
            } else {
                Relay.run(clientSide, backendSide, ctx.buffers(), ctx.watchdog(), ctx.settings().timeouts().data(),
                        upCounter, downCounter, flow);
            }
        } finally {
            if (flow.up() == null || flow.down() == null) {
                flow.abandon("relay ended early");
            }
            backend.countTransfer();
            backend.addBytes(up.sum(), down.sum());
            // Counted by the backend now: the status page must not add these bytes again.
            currentUp = null;
            currentDown = null;
            ctx.metrics().transferDone(up.sum(), down.sum(), System.nanoTime() - start);
            logTransfer(route, flow, up.sum(), down.sum(), (System.nanoTime() - start) / 1_000_000L);
        }
        if (flow.stall() != null) {
            dataTimedOut(route, flow);
        }
    }

    /**
     * One relayed data connection, at its end: {@code cmd} is the transfer command (absent for a data connection
     * that no command used), {@code result} how the file's direction ended ({@link Flow.End}: clean, reset,
     * timeout, given_up; absent when it never ended).
     */
    private void logTransfer(DataRoute route, Flow flow, long up, long down, long millis) {
        Verb cmd = route.command();
        boolean upload = cmd == Verb.STOR || cmd == Verb.APPE || cmd == Verb.STOU;
        Flow.End end = upload ? flow.up() : flow.down();
        // A clean relay is DEBUG: the server logs every transfer (with proxy_session=, which finds this session)
        // and the balancer's session line counts them, as HAProxy logs one line per session. At INFO this line
        // cost the balancer a fifth more CPU per small file (measured, docs/performance.md); one that did not end
        // cleanly is what an operator looks for, and stays INFO.
        Level level = end == Flow.End.CLEAN ? Level.DEBUG : Level.INFO;
        log.at(level, "transfer").with("cmd", cmd).with("mode", route.mode.name().toLowerCase(Locale.ROOT))
                .with("bytes_up", up).with("bytes_down", down).with("ms", millis)
                .with("result", end == null ? null : end.name().toLowerCase(Locale.ROOT)).with("backend", backend.name()).log();
    }

    /**
     * A transfer's data connection moved nothing for the data timeout and was reset. A backend that stalled
     * may never answer, so the client is told 426 now (the backend's own final reply, if it comes, is
     * dropped); a stall on the backend's side counts against the backend.
     */
    private void dataTimedOut(DataRoute route, Flow flow) {
        Awaited transfer = order.answerTransfer(route);
        Flow.Stall stall = flow.stall();
        // Whose side stopped: the file's direction was blocked writing to its receiver, or reading from its
        // sender. Without a transfer command there is no file, and nothing for the backend to send.
        String stalled = transfer == null ? "client"
                : transfer.upload() ? (stall.upWriting() ? "backend" : "client")
                : (stall.downWriting() ? "client" : "backend");
        log.warn("data-timeout").with("cmd", transfer == null ? null : transfer.verb).with("stalled", stalled)
                .with("backend", backend.name()).log();
        if (stalled.equals("backend")) {
            backend.countError();
        }
        if (transfer != null) {
            replies.sendQuietly(Replies.DATA_CONNECTION_TIMED_OUT);
        }
    }

    /**
     * A data connection whose TLS failed before any byte moved: the backend's side was reset, so it
     * answers 426; the client is told why instead, as ferry server tells it (RFC 4217 §10.2: 522).
     */
    private void dataTlsOutcome(DataRoute route, TlsRelay.Result r) {
        switch (r.outcome()) {
            case RELAYED -> log.debug("data-tls").with("tls", r.clientTls()).log();
            case CLIENT_TLS_FAILED -> {
                log.info("data-tls-failed").with("side", "client").with("error", Printable.of(r.error(), 160)).log();
                route.fail(Replies.DATA_TLS_FAILED);
            }
            case CLIENT_NOT_RESUMED -> {
                ctx.refusals().log(level -> log.at(level, "data-refused").with("reason", "tls-session-not-resumed"));
                route.fail(Replies.DATA_TLS_NOT_RESUMED);
            }
            case BACKEND_TLS_FAILED -> {
                log.warn("data-tls-failed").with("side", "backend").with("backend", backend.name())
                        .with("error", Printable.of(r.error(), 160)).log();
                backend.countError();
                route.fail(Reply.of(425, "Cannot open the data connection to the server."));
            }
        }
    }
}
