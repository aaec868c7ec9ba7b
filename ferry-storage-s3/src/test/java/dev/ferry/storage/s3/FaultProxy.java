package dev.ferry.storage.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A TCP proxy on 127.0.0.1 between the engine and the store, with a fault a test switches at any time:
 * <ul>
 *   <li>{@link Mode#PASS}: bytes go through both ways;</li>
 *   <li>{@link Mode#STALL}: connections stay open but nothing is forwarded (a store that stopped answering, for
 *       request-timeout); new connections are taken and stall too;</li>
 *   <li>{@link Mode#CUT}: every connection is reset (RST), and so is each new one (a store gone).</li>
 * </ul>
 * Every read waits at most {@link #POLL_MILLIS} before it looks at the mode again; a write that has not finished
 * after {@link #WRITE_TIMEOUT_MILLIS} (the peer stopped reading) resets its connection; {@link #close} resets
 * everything and waits for the threads to end.
 */
final class FaultProxy implements AutoCloseable {

    enum Mode { PASS, STALL, CUT }

    static final int POLL_MILLIS = 100;
    static final int WRITE_TIMEOUT_MILLIS = 5_000;
    static final int CONNECT_TIMEOUT_MILLIS = 2_000;

    private final ServerSocket server;
    private final InetSocketAddress upstream;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile Mode mode = Mode.PASS;
    private volatile boolean closed;

    FaultProxy(URI upstream) throws IOException {
        this.upstream = new InetSocketAddress(upstream.getHost(), upstream.getPort());
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        server.setSoTimeout(POLL_MILLIS);
        this.acceptor = Thread.ofPlatform().daemon().name("fault-proxy-accept").start(this::accept);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    void mode(Mode next) {
        mode = next;
        if (next == Mode.CUT) {
            links.forEach(Link::reset);
        }
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (SocketTimeoutException e) {
                reapStuckWrites();
                continue;
            } catch (IOException e) {
                return; // closed
            }
            if (mode == Mode.CUT) {
                reset(client);
                continue;
            }
            Socket store = new Socket();
            try {
                store.connect(upstream, CONNECT_TIMEOUT_MILLIS);
                client.setSoTimeout(POLL_MILLIS);
                store.setSoTimeout(POLL_MILLIS);
            } catch (IOException e) {
                reset(client);
                reset(store);
                continue;
            }
            Link link = new Link(client, store);
            links.add(link);
            link.start();
        }
    }

    private void reapStuckWrites() {
        long now = System.nanoTime();
        for (Link link : links) {
            long a = link.writeSince.get(0);
            long b = link.writeSince.get(1);
            long limit = TimeUnit.MILLISECONDS.toNanos(WRITE_TIMEOUT_MILLIS);
            if ((a != 0 && now - a > limit) || (b != 0 && now - b > limit)) {
                link.reset();
            }
        }
    }

    /** One proxied connection: a pump per direction. */
    private final class Link {
        final Socket client;
        final Socket store;
        // When the write of each direction started (0: none under way), read by the acceptor's reaper.
        final AtomicLongArray writeSince = new AtomicLongArray(2);
        final Thread[] pumps = new Thread[2];
        volatile boolean dead;
        private int ended;

        Link(Socket client, Socket store) {
            this.client = client;
            this.store = store;
        }

        void start() {
            pumps[0] = Thread.ofVirtual().name("fault-proxy-up").start(() -> pump(client, store, 0));
            pumps[1] = Thread.ofVirtual().name("fault-proxy-down").start(() -> pump(store, client, 1));
        }

        private void pump(Socket from, Socket to, int direction) {
            byte[] buf = new byte[64 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (!dead && !closed) {
                    Mode now = mode;
                    if (now == Mode.CUT) {
                        reset();
                        return;
                    }
                    if (now == Mode.STALL) {
                        Thread.sleep(POLL_MILLIS);
                        continue;
                    }
                    int n;
                    try {
                        n = in.read(buf);
                    } catch (SocketTimeoutException e) {
                        continue;
                    }
                    if (n < 0) {
                        to.shutdownOutput();
                        endOne();
                        return;
                    }
                    writeSince.set(direction, System.nanoTime());
                    out.write(buf, 0, n);
                    writeSince.set(direction, 0);
                }
            } catch (IOException | InterruptedException e) {
                reset();
            }
        }

        private synchronized void endOne() {
            if (++ended == 2) {
                links.remove(this);
                closeQuietly(client);
                closeQuietly(store);
            }
        }

        void reset() {
            dead = true;
            links.remove(this);
            FaultProxy.reset(client);
            FaultProxy.reset(store);
        }

        void join() throws InterruptedException {
            for (Thread t : pumps) {
                if (t != null) {
                    t.join(TimeUnit.SECONDS.toMillis(5));
                }
            }
        }
    }

    /** Closes with SO_LINGER 0: the peer gets a RST, not a FIN. */
    private static void reset(Socket s) {
        try {
            if (!s.isClosed()) {
                s.setSoLinger(true, 0);
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }

    @Override
    public void close() throws Exception {
        closed = true;
        server.close();
        acceptor.join(TimeUnit.SECONDS.toMillis(5));
        for (Link link : Set.copyOf(links)) {
            link.reset();
            link.join();
        }
    }
}
