package dev.ferry.server.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ByteChannel;

/**
 * A control connection as the session sees it: a blocking byte channel plus its two addresses.
 * Real sessions wrap a {@link java.nio.channels.SocketChannel}; unit tests use in-memory pipes.
 */
public interface Connection extends ByteChannel {

    InetSocketAddress localAddress();

    InetSocketAddress remoteAddress();

    /**
     * Makes a blocked read return end-of-stream without closing the connection, so the session can
     * still send a final reply (used on idle timeout). Must not block.
     */
    void shutdownInput();

    /**
     * The socket channel an idle session may hand to the {@link IdleParker} while it waits for its
     * next command, or null when this connection cannot be parked (in-memory test connections).
     */
    default java.nio.channels.SocketChannel parkableChannel() {
        return null;
    }

    /** Closes from any thread, also while another thread is blocked in a read or write. */
    @Override
    void close() throws IOException;
}
