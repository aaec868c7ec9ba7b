package dev.ferry.balancer.backend;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.proxy.ProxyProtocol;
import dev.ferry.runtime.log.SessionLog;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.Watchdog;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * How a session reaches a backend, the same for proxied and TLS passthrough sessions: the policy
 * chooses, the backend's max-connecting slots bound the connections being opened, each attempt has
 * the connect timeout (the wait for a slot included), and a backend that fails is replaced by
 * another, up to the retries. What "opened" means (a greeting read, HOST replayed) is the caller's.
 *
 * <p>It reads the balancer through {@link Terms}, not the frontend's whole context: the backend side
 * then knows nothing of listeners, admission or sessions, and passthrough and proxied sessions both
 * reach it without the frontend in between.
 */
public final class BackendConnect {

    /**
     * What connecting reads of the balancer, at each call: a reload changes the settings, the backends
     * in service and the policy for the next connection, not for one being opened.
     */
    public interface Terms {
        /** Closes a connect or set-up that overruns its timeout. */
        Watchdog watchdog();

        /** Each attempt's limit, the wait for a max-connecting slot included. */
        Duration connectTimeout();

        /** Backends tried at most for one session (at least one is). */
        int retries();

        /** What a backend's control connection starts with. */
        BalancerSettings.ProxyProtocol proxyProtocol();

        /**
         * The local address connections to backends come from (the {@code source} setting, as HAProxy's), or
         * null for the one routing picks: what a backend sees as the balancer, and must trust for the PROXY
         * protocol and accept data connections from.
         */
        InetAddress source();

        /**
         * The balancing policy's choice among the backends in service, none of {@code tried}.
         *
         * @param user the USER name, or null where the balancer cannot know it
         * @return null when no backend is left
         */
        Backend choose(InetAddress client, String user, Set<Backend> tried);
    }

    /** Opens a session's connection to {@code backend} within {@code timeout}; an IOException means "try another". */
    @FunctionalInterface
    public interface Opener<T> {
        T open(Backend backend, Duration timeout) throws IOException;
    }

    /** What to do on a backend's control connection once connected (and given its PROXY header). */
    @FunctionalInterface
    public interface Greeter<T> {
        T greet(SocketChannel channel) throws IOException;
    }

    /** The backend that took the session (its session count already raised), and what its opener returned. */
    public record Opened<T>(Backend backend, T connection, long connectMillis) {}

    private BackendConnect() {}

    /**
     * Tries the backends the policy chooses until one opens, at most {@code retries} of them.
     *
     * @param log  the session's log: each failed attempt and the end of the tries are its lines
     * @param user the USER name, or null where the balancer cannot know it
     * @return null when none did (logged)
     */
    public static <T> Opened<T> firstThatOpens(Terms terms, SessionLog log, InetSocketAddress client, String user,
                                               Opener<T> opener) throws InterruptedIOException {
        Set<Backend> tried = new HashSet<>();
        int attempts = Math.max(1, terms.retries());
        for (int attempt = 0; attempt < attempts; ) {
            Backend b = terms.choose(client.getAddress(), user, tried);
            if (b == null) {
                break;
            }
            tried.add(b);
            long t0 = System.nanoTime();
            Duration connectTimeout = terms.connectTimeout();
            try {
                boolean slot = b.beginOpening(connectTimeout);
                if (slot && !b.eligible()) {
                    // Drained (or down) since it was chosen. The opening slot is taken before this second look,
                    // so an operator who drains and then waits for activeSessions() == 0 either sees this
                    // connection counted or it sees the drain and goes elsewhere: never a session opened on a
                    // server that is already being stopped. Not an attempt: nothing was tried on it.
                    b.endOpening();
                    continue;
                }
                if (attempt++ > 0) {
                    b.countRetry();
                }
                if (!slot) {
                    throw new IOException("busy: " + b.openingConnections() + " connections being opened for "
                            + connectTimeout.toMillis() + " ms");
                }
                try {
                    // The wait for a slot counts against the connect timeout: the client waits for both.
                    Duration left = connectTimeout.minusNanos(System.nanoTime() - t0);
                    T connection = opener.open(b, left.isNegative() || left.isZero() ? Duration.ofMillis(1) : left);
                    b.sessionStarted();
                    return new Opened<>(b, connection, (System.nanoTime() - t0) / 1_000_000L);
                } finally {
                    b.endOpening();
                }
            } catch (IOException e) {
                b.countConnectFailure();
                log.info("backend-failed").with("backend", b.name()).with("attempt", attempt).with("error", e.getMessage()).log();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while connecting to a backend");
            }
        }
        log.warn("no-backend").with("tried", tried.size()).log();
        return null;
    }

    /**
     * Connects a control connection to {@code backend}, sends {@code header} as the PROXY protocol
     * setting says, then runs {@code greeter}: all within {@code timeout}, after which the channel is
     * closed. On any failure the channel is closed.
     */
    public static <T> T control(Terms terms, Backend backend, Duration timeout, ProxyHeader header, Greeter<T> greeter)
            throws IOException {
        SocketChannel channel = SocketChannel.open();
        Watchdog.Guard guard = terms.watchdog().guard(() -> Closing.quietly(channel));
        try {
            guard.arm(timeout);
            if (terms.source() != null) {
                channel.bind(new InetSocketAddress(terms.source(), 0));
            }
            channel.connect(backend.address());
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            switch (terms.proxyProtocol()) {
                case V1 -> writeAll(channel, ProxyProtocol.encodeV1(header));
                case V2 -> writeAll(channel, ProxyProtocol.encodeV2(header));
                case OFF -> { }
            }
            T result = greeter.greet(channel);
            guard.disarm();
            return result;
        } catch (IOException e) {
            Closing.quietly(channel);
            throw guard.fired() ? new IOException("timeout after " + timeout.toMillis() + " ms") : e;
        } finally {
            guard.close();
        }
    }

    /**
     * Opens a data connection within the connect timeout. {@code from}: the local address to use, or
     * null for the one routing picks. To a backend, {@code from} is the {@code source} setting
     * ({@link Terms#source()}) when set, the address its control connections come from; else routing picks what it picked for the session's
     * control connection to the same host, which is what a backend checking data connections against
     * its control connection's peer expects (ferry server behind PROXY protocol, vsftpd's
     * pasv_promiscuous=NO); binding explicitly would only cost a bind-time port search per transfer
     * (measured under perf on 600 burst sessions with ferry server backends: 2.59 s of balancer CPU
     * against 1.36 s). To a client (active mode) we connect from the address the client reached, which
     * on a balancer with several addresses routing may not pick.
     */
    public static SocketChannel data(Terms terms, InetSocketAddress target, InetAddress from) throws IOException {
        SocketChannel c = SocketChannel.open();
        Watchdog.Guard guard = terms.watchdog().guard(() -> Closing.quietly(c));
        try {
            guard.arm(terms.connectTimeout());
            if (from != null) {
                c.bind(new InetSocketAddress(from, 0));
            }
            c.connect(target);
            return c;
        } catch (IOException e) {
            Closing.quietly(c);
            throw e;
        } finally {
            guard.close();
        }
    }

    /** A plain write of everything, on a channel no pump uses yet. */
    public static void writeAll(SocketChannel channel, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }
}
