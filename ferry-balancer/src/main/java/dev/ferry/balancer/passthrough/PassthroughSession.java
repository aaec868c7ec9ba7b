package dev.ferry.balancer.passthrough;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.BackendConnect;
import dev.ferry.balancer.data.Flow;
import dev.ferry.balancer.data.Relay;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.runtime.log.SessionLog;
import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.PeerEnd;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One client's control connection in TLS passthrough: the balancer never reads what the client and
 * the backend say to each other, it relays bytes.
 *
 * <p>Design: admission (the per-address limit, max sessions and queue) as for a proxied session; then a backend is chosen
 * by the policy from what is known before a byte is relayed (the client's address: leastconn,
 * roundrobin and source work, user cannot), connected within the connect timeout under its
 * max-connecting slots, given the PROXY header if configured, and its clear-text greeting read
 * (RFC 4217 §4: TLS starts only at AUTH TLS). A backend that fails any of that is replaced, up to the
 * retries; once the greeting is passed on, the client is committed to that backend, and both
 * directions are relayed by {@link Relay} until either side ends. Before that point the balancer can
 * still answer in clear text (421); after it, it can only close the connection.
 *
 * <p>Data connections reach the session through {@link Passthrough}: a connection on a port of this
 * backend's passive range from this client's address is relayed to the same port on the backend's
 * host. The control connection is idle only when no byte moved for the client idle timeout and no
 * data connection of the session is running (a long transfer keeps it quiet).
 */
public final class PassthroughSession implements Runnable, ClientSession {

    private final BalancerContext ctx;
    private final ControlSessions sessions;
    /** Small buffers for the control connection's relay, which holds them while it waits. */
    private final BufferPool controlBuffers;
    private final SocketChannel client;
    private final InetSocketAddress clientAddress;
    private final String id;
    /** The session's lines: no user (it logs in inside TLS, which the balancer does not read). */
    private final SessionLog log;
    private final long startNanos = System.nanoTime();
    private final Instant startedAt = Instant.now();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final LongAdder controlUp = new LongAdder();
    private final LongAdder controlDown = new LongAdder();
    private final LongAdder bytesUp = new LongAdder();
    private final LongAdder bytesDown = new LongAdder();
    private final AtomicInteger transfers = new AtomicInteger();
    /** Data connections relaying now, whose bytes the backend's totals do not hold yet. */
    private final Set<Transfer> running = ConcurrentHashMap.newKeySet();
    // Volatile: the admin page, the data ports and a stop read these from their own threads.
    private volatile Backend backend;
    private volatile SocketChannel backendChannel;
    private volatile boolean relaying;
    private volatile String ending = "closed";
    /** Counted among its address's connections ({@link Admission#arrive}). */
    private boolean arrived;
    private boolean admitted;
    private long connectMillis = -1;
    /** A backend's 421 greeting, passed on as it is when no backend takes the client. */
    private byte[] refusal;
    /** The chosen backend's greeting, passed on as it is. */
    private byte[] greeting;

    private record Transfer(LongAdder up, LongAdder down) {}

    PassthroughSession(BalancerContext ctx, ControlSessions sessions, BufferPool controlBuffers, SocketChannel client)
            throws IOException {
        this.ctx = ctx;
        this.sessions = sessions;
        this.controlBuffers = controlBuffers;
        this.client = client;
        this.clientAddress = (InetSocketAddress) client.getRemoteAddress();
        this.id = "b" + Long.toString(ctx.sessionIds().incrementAndGet(), 36);
        this.log = ctx.log().session(id, HostPort.text(clientAddress));
    }

    @Override
    public void run() {
        ctx.live().add(this);
        try {
            // SECURITY: a banned address (by hand, or by another node when the list is shared: the logins here are
            // inside TLS, so this balancer counts no failures of its own) is refused before anything else.
            if (ctx.bans().isBanned(clientAddress.getAddress())) {
                ending = "refused-banned";
                ctx.refusals().log(level -> log.at(level, "refused").with("reason", "banned"));
                BackendConnect.writeAll(client, Reply.of(421, "Too many failed logins from your address; try again later.").toBytes());
                return;
            }
            // SECURITY: as for a proxied session, one address holds at most its share of the balancer, queued
            // connections included, so that it cannot lock everyone else out; over it, refused at once. (The
            // login timeout cannot apply here: the login is inside TLS, which the balancer does not read.)
            if (!ctx.admission().arrive(clientAddress.getAddress(), ctx.settings().perAddressLimit())) {
                ending = "refused-max-per-address";
                ctx.refusals().log(level -> log.at(level, "refused").with("reason", "max-per-address"));
                BackendConnect.writeAll(client, Reply.of(421, "Too many connections from your address; try again later.").toBytes());
                return;
            }
            arrived = true;
            Admission.Outcome outcome = ctx.admission().enter();
            if (outcome != Admission.Outcome.ADMITTED) {
                ending = outcome == Admission.Outcome.QUEUE_FULL ? "refused-max-sessions" : "queue-timeout";
                String reason = outcome == Admission.Outcome.QUEUE_FULL ? "max-sessions" : "queue-timeout";
                ctx.refusals().log(level -> log.at(level, "refused").with("reason", reason));
                BackendConnect.writeAll(client, Reply.of(421, "Too many users connected; try again later.").toBytes());
                return;
            }
            admitted = true;
            byte[] greeting = chooseAndConnect();
            if (greeting == null) {
                ending = "no-backend";
                BackendConnect.writeAll(client, refusal != null ? refusal : Reply.of(421, "No server available; try again later.").toBytes());
                return;
            }
            sessions.add(this);
            relaying = true;
            BackendConnect.writeAll(client, greeting);
            Relay.run(client, backendChannel, controlBuffers, ctx.watchdog(), ctx.settings().timeouts().clientIdle(),
                    () -> !running.isEmpty(), controlUp::add, controlDown::add);
        } catch (IOException e) {
            log.debug("session-error").with("error", e.toString()).log();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ending = "balancer-stop";
        } finally {
            finish();
        }
    }

    /** The greeting of the backend that took the client, or null when none did (within the retries). */
    private byte[] chooseAndConnect() throws IOException {
        // No user name: it is sent inside TLS. Passthrough refuses "balance user" at start.
        BackendConnect.Opened<SocketChannel> opened = BackendConnect.firstThatOpens(ctx, log, clientAddress, null, this::open);
        if (opened == null) {
            return null;
        }
        backend = opened.backend();
        backendChannel = opened.connection();
        connectMillis = opened.connectMillis();
        return greeting;
    }

    /** Connects, sends the PROXY header, reads a 220 greeting; any failure means "try another backend". */
    private SocketChannel open(Backend b, Duration timeout) throws IOException {
        return BackendConnect.control(ctx, b, timeout, proxyHeader(), channel -> {
            byte[] bytes = BackendGreeting.read(channel);
            int code = BackendGreeting.code(bytes);
            if (code != 220) {
                if (code == 421) {
                    // Up, but not taking this client now (its limits, a ban): another backend may.
                    refusal = bytes;
                }
                throw new IOException("greeting " + code);
            }
            greeting = bytes;
            return channel;
        });
    }

    private ProxyHeader proxyHeader() throws IOException {
        // proxy-protocol.txt §2.2.5: the balancer's name of the session, for the server's log (v2 only).
        return new ProxyHeader(clientAddress, (InetSocketAddress) client.getLocalAddress()).withUniqueId(ctx.log().node() + "/" + id);
    }

    /** True when {@code port} is in the passive range of this session's backend (as it was when chosen). */
    boolean ownsDataPort(int port) {
        Backend b = backend;
        if (b == null) {
            return false;
        }
        BalancerSettings.BackendSpec spec = b.spec();
        return spec.hasPassiveRange() && port >= spec.passiveLow() && port <= spec.passiveHigh();
    }

    /**
     * Relays a data connection that arrived on {@code port} to the same port on the backend's host,
     * and counts it for the session, its backend and the metrics.
     */
    void relayData(SocketChannel clientData, int port) {
        Backend b = backend;
        InetSocketAddress target = new InetSocketAddress(b.address().getAddress(), port);
        Transfer t = new Transfer(new LongAdder(), new LongAdder());
        running.add(t);
        long start = System.nanoTime();
        SocketChannel backendData;
        try {
            backendData = BackendConnect.data(ctx, target, ctx.source());
        } catch (IOException e) {
            running.remove(t);
            log.info("data-connect-failed").with("target", HostPort.text(target)).with("error", e.getMessage()).log();
            Closing.quietly(clientData);
            return;
        }
        transfers.incrementAndGet();
        try {
            // The control connections are encrypted, but the balancer still sees them end: a FIN on a data
            // connection whose sender's control connection has gone is passed on as a reset (Flow).
            Relay.run(clientData, backendData, ctx.buffers(), ctx.watchdog(), ctx.settings().timeouts().data(),
                    t.up()::add, t.down()::add, new Flow(() -> !PeerEnd.seen(client), () -> !PeerEnd.seen(backendChannel)));
        } finally {
            long up = t.up().sum();
            long down = t.down().sum();
            bytesUp.add(up);
            bytesDown.add(down);
            b.countTransfer();
            b.addBytes(up, down);
            running.remove(t);
            long millis = (System.nanoTime() - start) / 1_000_000L;
            ctx.metrics().transferDone(up, down, System.nanoTime() - start);
            // The command is inside TLS: what the balancer knows of the transfer is its bytes and its port.
            // DEBUG as a proxied session's clean relay (SessionTransfers.logTransfer says why); whether this one
            // ended cleanly is inside TLS, and the session line counts it.
            log.debug("transfer").with("mode", "passthrough").with("port", port).with("bytes_up", up).with("bytes_down", down)
                    .with("ms", millis).with("backend", b.name()).log();
        }
    }

    /** Called once, when the control connection ended (or never reached a backend): closes and logs. */
    private void finish() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        sessions.remove(this);
        Closing.quietly(client);
        Closing.quietly(backendChannel);
        Backend b = backend;
        if (b != null) {
            b.sessionEnded();
        }
        log.info("session").with("mode", "passthrough").with("backend", b == null ? null : b.name())
                .with("connect_ms", connectMillis).with("total_ms", (System.nanoTime() - startNanos) / 1_000_000L)
                .with("bytes_up", bytesUp.sum()).with("bytes_down", bytesDown.sum()).with("transfers", transfers.get())
                .with("control_up", controlUp.sum()).with("control_down", controlDown.sum()).with("end", ending).log();
        // Last: whoever sees the session gone (a stop, the admin page) also finds its line logged.
        ctx.ended(this, arrived, admitted);
    }

    /**
     * Ends the session from outside. Before relaying began the client is told 421 in clear text; after
     * it, the control connection carries TLS the balancer cannot write into, so it is only closed (the
     * client sees the connection end). Its data connections run on until they end.
     */
    @Override
    public void terminate(String end, String text) {
        ending = end;
        if (!relaying) {
            try {
                BackendConnect.writeAll(client, Reply.of(421, text).toBytes());
            } catch (IOException ignored) {
                // the client is gone
            }
        }
        shutdown(client);
        shutdown(backendChannel);
    }

    // ---- read by the admin page (any thread) -------------------------------------------------

    @Override public String id() { return id; }
    @Override public InetSocketAddress clientAddress() { return clientAddress; }
    /** Always null: the user name travels inside TLS. */
    @Override public String user() { return null; }
    @Override public Backend backend() { return backend; }
    @Override public Instant startedAt() { return startedAt; }
    /** Always null: commands travel inside TLS. */
    @Override public Verb lastVerb() { return null; }
    @Override public long bytesUp() { return bytesUp.sum() + inFlightUp(); }
    @Override public long bytesDown() { return bytesDown.sum() + inFlightDown(); }
    @Override public int transfers() { return transfers.get(); }

    @Override
    public long transferBytes() {
        return running.isEmpty() ? -1 : inFlightUp() + inFlightDown();
    }

    @Override
    public long inFlightUp() {
        return running.stream().mapToLong(t -> t.up().sum()).sum();
    }

    @Override
    public long inFlightDown() {
        return running.stream().mapToLong(t -> t.down().sum()).sum();
    }

    /** Bytes of the control connection, client to backend (TLS records, as relayed). */
    public long controlBytesUp() { return controlUp.sum(); }

    /** Bytes of the control connection, backend to client. */
    public long controlBytesDown() { return controlDown.sum(); }

    // ---- I/O helpers ------------------------------------------------------------------------

    private static void shutdown(SocketChannel c) {
        if (c == null) {
            return;
        }
        try {
            c.shutdownInput();
        } catch (IOException | RuntimeException ignored) {
            // already shut, closed or not connected
        }
        try {
            c.shutdownOutput();
        } catch (IOException | RuntimeException ignored) {
            // already shut, closed or not connected
        }
    }
}
