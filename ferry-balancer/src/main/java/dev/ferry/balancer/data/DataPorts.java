package dev.ferry.balancer.data;

import dev.ferry.balancer.log.RefusalLog;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.log.NodeName;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

/**
 * The balancer's passive port range, shared by client addresses.
 *
 * <p>Design: each port has one long-lived listener (opened on first use, on the client-facing
 * address). A PASV/EPSV reply registers a <em>route</em> for (port, client address) before the
 * client is told the port; the listener hands the next connection from that address to that
 * route, exactly once. Because routes are keyed by client address, one port serves sessions of
 * different clients at the same time, and a small range carries many concurrent transfers; a port
 * never holds two pending routes of one address, so a client's connection can never be given to
 * another of its own sessions. A connection from an address without a route is closed: nobody can
 * steal a data connection by racing to an advertised port.
 */
public final class DataPorts implements AutoCloseable {

    /** Where a data connection goes once accepted, and until when it may arrive. */
    public record Route(InetAddress client, Consumer<SocketChannel> onConnect, Runnable onExpire, long deadlineNanos) {}

    private final InetAddress bindAddress;
    private final EventLog log;
    /** Connections from the wrong host are anyone's to send: their lines are bounded. */
    private final RefusalLog refusals = new RefusalLog();
    private final int low;
    private final int high;
    private final Map<Integer, Port> ports = new HashMap<>();
    private int next;
    private volatile boolean closed;

    /** low == 0: one ephemeral listener per route (the kernel picks the port). Logs as the local host's node (tests). */
    public DataPorts(InetAddress bindAddress, int low, int high) {
        this(bindAddress, low, high, new EventLog(LoggerFactory.getLogger("ferry.balancer"), NodeName.local()));
    }

    /** low == 0: one ephemeral listener per route (the kernel picks the port); {@code log}: the balancer's. */
    public DataPorts(InetAddress bindAddress, int low, int high, EventLog log) {
        this.bindAddress = bindAddress;
        this.log = log;
        this.low = low;
        this.high = high;
        this.next = low;
    }

    /**
     * Registers a route on a port that has none pending for this client and returns the port, or
     * -1 when every port already has one (425 to the client).
     */
    public int register(Route route) throws IOException {
        if (low == 0) {
            Port p = openPort(0);
            synchronized (this) {
                ports.put(p.port, p);
            }
            synchronized (p) {
                p.routes.put(route.client(), route);
            }
            return p.port;
        }
        int span = high - low + 1;
        synchronized (this) {
            for (int i = 0; i < span; i++) {
                int candidate = next;
                next = candidate == high ? low : candidate + 1;
                Port p = ports.get(candidate);
                if (p == null) {
                    try {
                        p = openPort(candidate);
                    } catch (IOException portTakenElsewhere) {
                        continue;
                    }
                    ports.put(candidate, p);
                }
                synchronized (p) {
                    p.expire(System.nanoTime());
                    if (!p.routes.containsKey(route.client())) {
                        p.routes.put(route.client(), route);
                        return candidate;
                    }
                }
            }
        }
        return -1;
    }

    /**
     * Drops {@code route} if it still waits on {@code port} (its session ended, asked for another data
     * connection, or its transfer was answered: proxy.DataRoute#cancel). By identity: once a route was used or expired, the same port and address may already
     * hold another session's route, which must stay.
     */
    public void cancel(int port, Route route) {
        Port p;
        synchronized (this) {
            p = ports.get(port);
        }
        if (p != null) {
            boolean removed;
            synchronized (p) {
                // ==, not equals: two routes of one address can be equal records (same callbacks, same deadline).
                removed = p.routes.get(route.client()) == route;
                if (removed) {
                    p.routes.remove(route.client());
                }
            }
            if (removed && p.oneShot) {
                p.close();
            }
        }
    }

    /**
     * Ports with a route waiting for its data connection: what the range is short of when clients
     * get 425. Expired routes do not count (they are dropped at the port's next use).
     */
    public int portsInUse() {
        long now = System.nanoTime();
        int inUse = 0;
        synchronized (this) {
            for (Port p : ports.values()) {
                synchronized (p) {
                    if (p.routes.values().stream().anyMatch(r -> r.deadlineNanos() - now > 0)) {
                        inUse++;
                    }
                }
            }
        }
        return inUse;
    }

    private Port openPort(int port) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(bindAddress, port), 256);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        Port p = new Port(server, ((InetSocketAddress) server.getLocalAddress()).getPort(), port == 0);
        Thread.ofVirtual().start(p::acceptLoop);
        return p;
    }

    /** Ports in the range; 0 when the kernel picks a port for each route. */
    public int size() {
        return low == 0 ? 0 : high - low + 1;
    }

    @Override
    public void close() {
        closed = true;
        List<Port> all;
        synchronized (this) {
            all = new ArrayList<>(ports.values());
            ports.clear();
        }
        for (Port p : all) {
            p.close();
        }
    }

    private final class Port {
        final ServerSocketChannel server;
        final int port;
        final boolean oneShot;
        final Map<InetAddress, Route> routes = new HashMap<>();

        Port(ServerSocketChannel server, int port, boolean oneShot) {
            this.server = server;
            this.port = port;
            this.oneShot = oneShot;
        }

        void expire(long now) {
            routes.values().removeIf(r -> {
                if (now - r.deadlineNanos() > 0) {
                    r.onExpire().run();
                    return true;
                }
                return false;
            });
        }

        void acceptLoop() {
            while (!closed) {
                SocketChannel c;
                try {
                    c = server.accept();
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    log.warn("data-accept-failed").with("port", port).with("error", e.toString()).log();
                    continue;
                }
                Route route;
                InetSocketAddress from;
                InetAddress peer;
                try {
                    from = (InetSocketAddress) c.getRemoteAddress();
                    peer = from.getAddress();
                } catch (IOException e) {
                    Flow.reset(c);
                    continue;
                }
                synchronized (this) {
                    expire(System.nanoTime());
                    // SECURITY: only a client with a pending route on this port gets a connection
                    // handed over (port theft, RFC 2577 §6), and each route is used once.
                    route = routes.remove(peer);
                }
                if (route == null) {
                    refusals.log(level -> log.at(level, "data-refused").with("client", HostPort.text(from)).with("port", port)
                            .with("reason", "no-route"));
                    // Reset, never a clean close: a FIN would read as "empty file, complete" to whoever sent it.
                    Flow.reset(c);
                    continue;
                }
                route.onConnect().accept(c);
                if (oneShot) {
                    close();
                    return;
                }
            }
        }

        void close() {
            if (oneShot) {
                synchronized (DataPorts.this) {
                    ports.remove(port);
                }
            }
            try {
                server.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
