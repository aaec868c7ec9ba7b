package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.BackendConnect;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.SocketConnection;
import java.io.IOException;
import java.time.Duration;

/**
 * How a proxied session opens its control connection to a backend: over a socket in the balancer, in memory
 * in unit tests (a scripted backend), so that the session's logic can be driven without sockets.
 */
@FunctionalInterface
public interface BackendDialer {

    /** The set-up run on the fresh connection, within the same timeout (greeting, FTPS, HOST replay). */
    @FunctionalInterface
    interface SetUp {
        void run(Connection connection) throws IOException;
    }

    /**
     * Connects to {@code backend}, sends {@code header} as the PROXY protocol setting says and runs {@code setUp},
     * all within {@code timeout}; the connection is closed on any failure (then "try another backend").
     */
    Connection dial(Backend backend, Duration timeout, ProxyHeader header, SetUp setUp) throws IOException;

    /** The real one: a TCP connection ({@link BackendConnect#control}). */
    static BackendDialer sockets(BalancerContext ctx) {
        return (backend, timeout, header, setUp) -> BackendConnect.control(ctx, backend, timeout, header, channel -> {
            SocketConnection conn = new SocketConnection(channel);
            setUp.run(conn);
            return conn;
        });
    }
}
