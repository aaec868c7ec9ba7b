package dev.ferry.runtime.net;

import dev.ferry.protocol.address.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;

/**
 * A bound control-connection listener, as both daemons open theirs: SO_REUSEADDR (a restart must not wait for
 * the old connections' TIME_WAIT), a deep backlog (a burst of connects queues in the kernel while the
 * {@link Acceptor} is at its permit limit), and a start-up error that names the address.
 */
public final class Listener implements AutoCloseable {

    /** Connects the kernel queues while the acceptor waits for a permit (the session limit). */
    static final int BACKLOG = 4096;

    private final ServerSocketChannel channel;
    private final InetSocketAddress configured;

    private Listener(ServerSocketChannel channel, InetSocketAddress configured) {
        this.channel = channel;
        this.configured = configured;
    }

    /**
     * Binds {@code address}.
     *
     * @param purpose what the listener is for, in the error message ("" or e.g. " for implicit FTPS")
     * @throws IOException "cannot listen PURPOSE on ADDRESS: why", with nothing left open
     */
    public static Listener bind(InetSocketAddress address, String purpose) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address, BACKLOG);
            return new Listener(channel, address);
        } catch (IOException e) {
            Closing.quietly(channel);
            throw new IOException("cannot listen" + purpose + " on " + HostPort.text(address) + ": " + e.getMessage(), e);
        }
    }

    public ServerSocketChannel channel() {
        return channel;
    }

    /** The bound address (the real port when the configured one was 0); the configured one once closed. */
    public InetSocketAddress address() {
        try {
            InetSocketAddress bound = (InetSocketAddress) channel.getLocalAddress();
            return bound != null ? bound : configured;
        } catch (IOException e) {
            return configured;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
