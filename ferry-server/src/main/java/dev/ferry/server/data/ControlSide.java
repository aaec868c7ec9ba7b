package dev.ferry.server.data;

import dev.ferry.protocol.Reply;
import java.io.IOException;

/** What a transfer needs of its session's control connection; the session implements it. */
public interface ControlSide {

    /** Sends a reply (whole, never interleaved with one from the other thread). */
    void send(Reply reply) throws IOException;

    /** Sends a reply if the connection still takes it. */
    void trySend(Reply reply);

    /**
     * Whether the client's control connection has ended (its FIN or a reset arrived), asked without reading,
     * so the session's reader loses nothing. Not when the server itself ends the session.
     */
    boolean clientEnded();

    /** The transfer is over: the control connection's idle clock runs again. */
    void transferEnded();
}
