package dev.ferry.server.session;

import dev.ferry.protocol.address.HostPort;
import dev.ferry.server.data.PassiveListener;

/** How the next data connection will be made: set by PASV/EPSV/PORT/EPRT, used once by a transfer. */
sealed interface DataEndpoint {

    /** Passive: we listen; the client connects (RFC 959 PASV, RFC 2428 EPSV). */
    record Passive(PassiveListener listener, long deadlineNanos) implements DataEndpoint {}

    /** Active: we connect to the client (RFC 959 PORT, RFC 2428 EPRT). */
    record Active(HostPort target) implements DataEndpoint {}
}
