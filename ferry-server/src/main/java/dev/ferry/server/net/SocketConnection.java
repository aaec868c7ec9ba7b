package dev.ferry.server.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** A {@link Connection} over a connected socket channel. */
public final class SocketConnection implements Connection {

    private final SocketChannel channel;
    private final InetSocketAddress local;
    private final InetSocketAddress remote;

    public SocketConnection(SocketChannel channel) throws IOException {
        this.channel = channel;
        this.local = (InetSocketAddress) channel.getLocalAddress();
        this.remote = (InetSocketAddress) channel.getRemoteAddress();
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void shutdownInput() {
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            closeQuietly();
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    public void closeQuietly() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is best effort; the descriptor is released either way
        }
    }
}
