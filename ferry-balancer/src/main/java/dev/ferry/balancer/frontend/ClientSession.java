package dev.ferry.balancer.frontend;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * One client's session through the balancer, as the admin page, the API and a stop see it: a
 * proxied session ({@code proxy.ProxySession}, which reads the control channel) or a TLS passthrough one
 * (dev.ferry.balancer.passthrough, which cannot: its user and last command stay null).
 */
public interface ClientSession {

    String id();

    InetSocketAddress clientAddress();

    /** The name given with USER, or null before it (always null when the balancer cannot read it). */
    String user();

    /** The backend serving the session, or null before one is chosen. */
    Backend backend();

    Instant startedAt();

    /** The verb of the client's last command, or null (before the first, or when unreadable); never an argument. */
    Verb lastVerb();

    long bytesUp();

    long bytesDown();

    int transfers();

    /** Bytes the running transfer has moved so far (both directions), or -1 when none runs. */
    long transferBytes();

    /** Bytes up of transfers in progress, which the backend's totals do not hold yet (0: none). */
    long inFlightUp();

    /** Bytes down of transfers in progress, which the backend's totals do not hold yet (0: none). */
    long inFlightDown();

    /** Ends the session from outside (the balancer stops after its grace period). */
    default void terminate() {
        terminate("balancer-stop", Replies.SHUTTING_DOWN.lines().getFirst());
    }

    /**
     * Ends the session: {@code end} is the session log line's {@code end=} value, {@code text} the 421
     * told to the client where the balancer can still speak on the control connection.
     */
    void terminate(String end, String text);
}
