package dev.ferry.server.data;

import dev.ferry.protocol.address.HostPort;

/** How the next data connection will be made: set by PASV/EPSV/PORT/EPRT, used once by a transfer. */
public sealed interface DataEndpoint {

    /** Passive: we listen; the client connects (RFC 959 PASV, RFC 2428 EPSV). */
    record Passive(PassiveListener listener, long deadlineNanos) implements DataEndpoint {}

    /** Active: we connect to the client (RFC 959 PORT, RFC 2428 EPRT). */
    record Active(HostPort target) implements DataEndpoint {}

    /** Gives up an endpoint no transfer will use: a passive listener's port goes back to the pool. */
    static void discard(DataEndpoint endpoint) {
        if (endpoint instanceof Passive p) {
            p.listener().close();
        }
    }
}
