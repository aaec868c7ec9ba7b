package dev.ferry.balancer.passthrough;

import dev.ferry.protocol.address.HostPort;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.net.Closing;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A listener on every port of every backend's passive range, all served by one selector thread:
 * ranges of many ports would otherwise cost a blocked thread each. Accepting is all this class does;
 * {@link Handler} decides, on the selector thread and without blocking, whether a connection is
 * relayed (it starts a thread of its own for that) or closed.
 *
 * <p>Ports are only added (a reload may bring a backend with a new range), never closed before the
 * balancer stops: a backend retired by a reload keeps sessions whose data connections still come.
 */
final class DataPortListeners implements AutoCloseable {

    private static final int BACKLOG = 64;

    /** What to do with an accepted data connection; runs on the selector thread, must not block. */
    @FunctionalInterface
    interface Handler {
        void accepted(SocketChannel connection, int port);
    }

    private final InetAddress bindAddress;
    private final Handler handler;
    private final Selector selector;
    private final Map<Integer, ServerSocketChannel> open = new HashMap<>();   // guarded by this
    private final Queue<ServerSocketChannel> toRegister = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closed;
    private final EventLog log;

    DataPortListeners(InetAddress bindAddress, Handler handler, EventLog log) throws IOException {
        this.bindAddress = bindAddress;
        this.log = log;
        this.handler = handler;
        this.selector = Selector.open();
        // A platform thread: a selector's wait would hold a virtual thread's carrier anyway.
        this.thread = Thread.ofPlatform().daemon().name("ferry-passthrough-data").start(this::acceptLoop);
    }

    /**
     * Listens on every port of {@code ranges} not listened on yet. All or nothing: when one port
     * cannot be bound, the ports this call opened are closed again and the error names the port and
     * its backend.
     *
     * @return how many ports were added
     */
    synchronized int open(PassiveRanges ranges) throws IOException {
        Map<Integer, ServerSocketChannel> fresh = new HashMap<>();
        try {
            for (PassiveRanges.Range r : ranges.ranges()) {
                for (int port = r.low(); port <= r.high(); port++) {
                    if (!open.containsKey(port)) {
                        fresh.put(port, bind(port, r.backend()));
                    }
                }
            }
        } catch (IOException e) {
            fresh.values().forEach(Closing::quietly);
            throw e;
        }
        open.putAll(fresh);
        toRegister.addAll(fresh.values());
        selector.wakeup();
        return fresh.size();
    }

    private ServerSocketChannel bind(int port, String backend) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        InetSocketAddress address = new InetSocketAddress(bindAddress, port);
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(address, BACKLOG);
            server.configureBlocking(false);
            return server;
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + HostPort.text(address) + " (passive-ports of backend " + backend + "): "
                    + e.getMessage(), e);
        }
    }

    /** Ports listened on. */
    synchronized int size() {
        return open.size();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                selector.select();
                for (ServerSocketChannel s = toRegister.poll(); s != null; s = toRegister.poll()) {
                    s.register(selector, SelectionKey.OP_ACCEPT, ((InetSocketAddress) s.getLocalAddress()).getPort());
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    acceptAll(key);
                }
                selector.selectedKeys().clear();
            } catch (ClosedSelectorException e) {
                return;
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    log.warn("data-accept-failed").with("error", e.toString()).log();
                }
            }
        }
    }

    private void acceptAll(SelectionKey key) {
        ServerSocketChannel server = (ServerSocketChannel) key.channel();
        int port = (Integer) key.attachment();
        while (true) {
            SocketChannel c;
            try {
                c = server.accept();
                if (c == null) {
                    return;
                }
                c.configureBlocking(true);
            } catch (IOException e) {
                log.debug("data-accept-failed").with("port", port).with("error", e.toString()).log();
                return;
            }
            handler.accepted(c, port);
        }
    }

    @Override
    public void close() {
        closed = true;
        List<ServerSocketChannel> all;
        synchronized (this) {
            all = new ArrayList<>(open.values());
            open.clear();
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
        all.forEach(Closing::quietly);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
