package dev.ferry.balancer.proxy;

import dev.ferry.protocol.Reply;
import java.io.IOException;

/** The client's control connection as a session's parts answer on it: whole replies, one writer at a time. */
@FunctionalInterface
interface ClientReplies {

    void send(Reply reply) throws IOException;

    /** Sends, and says nothing when the client is gone (a reply that ends something the client left anyway). */
    default void sendQuietly(Reply reply) {
        try {
            send(reply);
        } catch (IOException ignored) {
            // the client is gone
        }
    }
}
