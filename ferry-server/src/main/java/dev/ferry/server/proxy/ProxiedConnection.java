package dev.ferry.server.proxy;

import dev.ferry.protocol.line.TimedReadable;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.SocketConnection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A control connection that came through a trusted proxy: every byte goes to the socket as usual, but
 * {@link #remoteAddress()} is the client named in the proxy's PROXY header, so that per-address rules and
 * logs apply to the client, while {@link #transportPeer()} stays the proxy, which is where data connections
 * come from. Made only by {@link ProxyGate} after a valid header from a trusted peer.
 */
public final class ProxiedConnection implements Connection, TimedReadable {

    private final SocketConnection socket;
    private final InetSocketAddress client;

    ProxiedConnection(SocketConnection socket, InetSocketAddress client) {
        this.socket = socket;
        this.client = client;
    }

    @Override
    public InetSocketAddress localAddress() {
        return socket.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return client;
    }

    @Override
    public InetSocketAddress transportPeer() {
        return socket.remoteAddress();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return socket.read(dst);
    }

    @Override
    public int readWithin(ByteBuffer dst, long timeoutMillis) throws IOException {
        return socket.readWithin(dst, timeoutMillis);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return socket.write(src);
    }

    @Override
    public void startTls(javax.net.ssl.SSLEngine engine) throws IOException {
        socket.startTls(engine);
    }

    @Override
    public void endTls(long waitForPeerMillis) throws IOException {
        socket.endTls(waitForPeerMillis);
    }

    @Override
    public javax.net.ssl.SSLSession tlsSession() {
        return socket.tlsSession();
    }

    @Override
    public void releaseIdleBuffers() {
        socket.releaseIdleBuffers();
    }

    @Override
    public SocketChannel parkableChannel() {
        return socket.parkableChannel();
    }

    @Override
    public boolean peerEnded() {
        return socket.peerEnded();
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    @Override
    public void shutdownInput() {
        socket.shutdownInput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
