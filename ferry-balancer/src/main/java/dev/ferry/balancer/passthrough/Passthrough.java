package dev.ferry.balancer.passthrough;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.Closing;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * TLS passthrough at {@code ferry balancer} (docs/tls-passthrough.md): the balancer holds no key and
 * cannot read the control connection, so it cannot rewrite PASV replies. Instead every backend has a
 * passive range of its own, announces the balancer's address in its 227 replies, and the balancer
 * listens on all those ports and relays a connection on port P to the backend whose range holds P,
 * at that backend's host and the same port P.
 *
 * <p>What {@link dev.ferry.balancer.FtpBalancer} needs of this mode: {@link #check} before anything
 * is bound, {@link #start}, a session per accepted client ({@link #session}), {@link #reload},
 * {@link #close}.
 */
public final class Passthrough implements AutoCloseable {

    /**
     * A control connection's relay holds one buffer per direction for the whole session (it waits in
     * a read), so its buffers are small: a TLS record at most (16 KiB of data and its overhead), not
     * the 256 KiB of a data connection's. 2000 sessions then hold 70 MiB of direct memory, not 1 GiB.
     */
    static final int CONTROL_BUFFER = 16 * 1024 + 1024;

    private final BalancerContext ctx;
    private final ControlSessions sessions = new ControlSessions();
    private final BufferPool controlBuffers = new BufferPool(CONTROL_BUFFER, 256);
    private final DataPortListeners dataPorts;
    private volatile PassiveRanges ranges;

    private Passthrough(BalancerContext ctx, InetAddress bindAddress) throws IOException {
        this.ctx = ctx;
        this.ranges = PassiveRanges.of(ctx.settings().backends());
        this.dataPorts = new DataPortListeners(bindAddress, this::dataConnection, ctx.log());
    }

    /**
     * What makes {@code settings} unusable in TLS passthrough, one message each (empty: fine).
     * Settings that passthrough simply does not use (the balancer's own passive ports, public address
     * and networks, the greeting) are not errors: docs/tls-passthrough.md says so.
     */
    public static List<String> problems(BalancerSettings settings) {
        List<String> problems = new ArrayList<>();
        if (settings.balance() == BalancerSettings.Balance.USER) {
            problems.add("balance user is impossible in TLS passthrough: the user name travels inside TLS, which the "
                    + "balancer does not decrypt; use leastconn, roundrobin or source");
        }
        if (settings.tls().certificate() != null || settings.tls().key() != null) {
            problems.add("a TLS certificate is given, but in TLS passthrough the balancer holds no key (the backends do); "
                    + "remove it, or use TLS termination");
        }
        if (settings.tls().implicitListen() != null) {
            problems.add("an implicit-FTPS listener is not available in TLS passthrough (explicit FTPS only: AUTH TLS on the "
                    + "control connection)");
        }
        problems.addAll(PassiveRanges.problems(settings.backends()));
        int listenPort = settings.listen().getPort();
        for (PassiveRanges.Range r : PassiveRanges.of(settings.backends()).ranges()) {
            if (r.contains(listenPort)) {
                problems.add("the passive-ports of backend " + r.backend() + " (" + r.low() + "-" + r.high()
                        + ") include the balancer's own listen port " + listenPort);
            }
        }
        return problems;
    }

    /** Fails with every problem of {@link #problems}, in one message. */
    public static void check(BalancerSettings settings) throws IOException {
        List<String> problems = problems(settings);
        if (!problems.isEmpty()) {
            throw new IOException("TLS passthrough: " + String.join("; ", problems));
        }
    }

    /**
     * Listens on every backend's passive range, on {@code bindAddress} (the address the balancer's
     * control listener is bound to, which clients reach and backends announce).
     */
    public static Passthrough start(BalancerContext ctx, InetAddress bindAddress) throws IOException {
        check(ctx.settings());
        Passthrough p = new Passthrough(ctx, bindAddress);
        try {
            p.dataPorts.open(p.ranges);
        } catch (IOException e) {
            p.close();
            throw e;
        }
        ctx.log().info("passthrough").with("data_ports", p.dataPorts.size()).with("ranges", p.ranges)
                .with("proxy_protocol", ctx.settings().proxyProtocol().name().toLowerCase(java.util.Locale.ROOT)).log();
        return p;
    }

    /** The session of a client the acceptor took; the caller runs it on a thread of its own. */
    public Runnable session(SocketChannel client) throws IOException {
        return new PassthroughSession(ctx, sessions, controlBuffers, client);
    }

    /**
     * A configuration read again: refused as a whole (nothing changes) when it does not suit
     * passthrough; else the ports of new ranges are listened on. Call before anything else of the
     * reload is applied.
     *
     * @throws IllegalArgumentException with every problem, when the new settings do not suit
     */
    public void reload(BalancerSettings next) {
        List<String> problems = problems(next);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("TLS passthrough: " + String.join("; ", problems));
        }
        PassiveRanges fresh = PassiveRanges.of(next.backends());
        try {
            int added = dataPorts.open(fresh);
            if (added > 0) {
                ctx.log().info("passthrough-ports-added").with("ports", added).with("ranges", fresh).log();
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        ranges = fresh;
    }

    /** The backends' passive ranges in force, each relayed to its backend ("ftp1:40000-40049,ftp2:..."). */
    public String passivePortsText() {
        return PassiveRanges.of(ctx.settings().backends()).ranges().stream()
                .map(r -> r.backend() + ":" + r.low() + "-" + r.high())
                .collect(Collectors.joining(","));
    }

    /** Ports listened on for data connections. */
    public int dataPortCount() {
        return dataPorts.size();
    }

    private void dataConnection(SocketChannel connection, int port) {
        InetSocketAddress from;
        InetAddress peer;
        try {
            from = (InetSocketAddress) connection.getRemoteAddress();
            peer = from.getAddress();
        } catch (IOException e) {
            Closing.quietly(connection);
            return;
        }
        // SECURITY: a data port is relayed only for a client address with a live session on the
        // backend that owns the port. Otherwise the ports would be an open relay to every backend's
        // passive listeners, and anyone could race a client to its port (RFC 2577 §6). Among sessions of
        // one backend the balancer cannot tell ports apart (the PASV reply is encrypted): the backend's
        // own checks (TLS session reuse on the data connection) do that; docs/tls-passthrough.md.
        PassthroughSession session = sessions.owning(peer, port);
        if (session == null) {
            String reason = ranges.owner(port) == null ? "no-backend" : "no-session";
            ctx.refusals().log(level -> ctx.log().at(level, "data-refused").with("client", HostPort.text(from)).with("port", port)
                    .with("reason", reason));
            Closing.quietly(connection);
            return;
        }
        Thread.ofVirtual().name("ferry-passthrough-data-" + port).start(() -> session.relayData(connection, port));
    }

    @Override
    public void close() {
        dataPorts.close();
    }
}
