package dev.ferry.runtime.net;

import dev.ferry.protocol.line.TimedReadable;
import dev.ferry.runtime.tls.TlsChannel;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * A {@link Connection} over a connected socket channel, in clear text until {@link #startTls} switches it
 * to TLS (AUTH TLS, or the implicit-FTPS listener): from then on every read and write goes through a
 * {@link TlsChannel} over the same socket, and the session does not notice the difference.
 */
public final class SocketConnection implements Connection, TimedReadable {

    private final SocketChannel channel;
    private final InetSocketAddress local;
    private final InetSocketAddress remote;
    private InputStream timedInput;
    /** The socket itself, for the TLS layer (which must bypass itself). */
    private final Plain plain = new Plain();
    private volatile TlsChannel tls;
    /** Bytes received after CCC and not read yet (clear text, or at first maybe the peer's closing records). */
    private ByteBuffer afterTls;
    /** After CCC, until the peer's first bytes have come: the TLS layer that may still get the peer's close_notify. */
    private TlsChannel closingTls;

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
        TlsChannel t = tls;
        if (t != null) {
            return t.read(dst);
        }
        if (closingTls != null && !receivedAfterCcc(0)) {
            return -1;
        }
        return afterTls != null ? drainAfterTls(dst) : channel.read(dst);
    }

    @Override
    public int readWithin(ByteBuffer dst, long timeoutMillis) throws IOException {
        TlsChannel t = tls;
        if (t != null) {
            return t.readWithin(dst, timeoutMillis);
        }
        if (closingTls != null && !receivedAfterCcc(timeoutMillis)) {
            return afterTls == null && closingTls == null ? -1 : 0;
        }
        return afterTls != null ? drainAfterTls(dst) : plainReadWithin(dst, timeoutMillis);
    }

    /**
     * The peer's first bytes after CCC: its close_notify (taken off here, with whatever followed it kept) or
     * directly its next command. Returns false when nothing came within {@code timeoutMillis} (0: wait) or the
     * peer closed (then closingTls is null and afterTls empty).
     */
    private boolean receivedAfterCcc(long timeoutMillis) throws IOException {
        if (afterTls == null || !afterTls.hasRemaining()) {
            ByteBuffer first = ByteBuffer.allocate(512);
            int n = timeoutMillis > 0 ? plainReadWithin(first, timeoutMillis) : channel.read(first);
            if (n < 0) {
                closingTls = null;
                afterTls = null;
                return false;
            }
            if (n == 0) {
                return false;
            }
            afterTls = first.flip();
        }
        if (TlsChannel.isRecordStart(afterTls.get(afterTls.position()))) {
            afterTls = closingTls.absorbPeerClose(afterTls);
        }
        closingTls = null;
        if (!afterTls.hasRemaining()) {
            afterTls = null;
        }
        return true;
    }

    private int drainAfterTls(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), afterTls.remaining());
        dst.put(afterTls.slice(afterTls.position(), n));
        afterTls.position(afterTls.position() + n);
        if (!afterTls.hasRemaining()) {
            afterTls = null;
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        TlsChannel t = tls;
        return t != null ? t.write(src) : plainWrite(src);
    }

    @Override
    public void startTls(SSLEngine engine) throws IOException {
        if (tls != null) {
            throw new IllegalStateException("TLS is already on");
        }
        TlsChannel t = new TlsChannel(plain, engine, true);
        t.handshake();
        tls = t;
    }

    @Override
    public void endTls(long waitForPeerMillis) throws IOException {
        TlsChannel t = tls;
        if (t == null) {
            throw new IllegalStateException("TLS is not on");
        }
        ByteBuffer received = t.endTls(waitForPeerMillis);
        afterTls = received.hasRemaining() ? received : null;
        closingTls = t.peerClosedTls() ? null : t;
        tls = null;
    }

    @Override
    public SSLSession tlsSession() {
        TlsChannel t = tls;
        return t == null ? null : t.session();
    }

    @Override
    public void releaseIdleBuffers() {
        TlsChannel t = tls;
        if (t != null) {
            t.releaseBuffers();
        }
    }

    /**
     * A bounded wait for the next bytes. The socket adaptor's stream is the JDK's only read with a
     * timeout; on a virtual thread it parks, like any channel read.
     */
    private int plainReadWithin(ByteBuffer dst, long timeoutMillis) throws IOException {
        if (timedInput == null) {
            timedInput = channel.socket().getInputStream();
        }
        channel.socket().setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeoutMillis)));
        try {
            int n = timedInput.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        } catch (SocketTimeoutException e) {
            return 0;
        }
    }

    private int plainWrite(ByteBuffer src) throws IOException {
        int n = channel.write(src);
        if (n == 0 && !channel.isBlocking()) {
            // Parked sessions are non-blocking for the idle parker's selector; a transfer thread may
            // still reply meanwhile. A full send buffer is rare for replies: wait briefly.
            Thread.onSpinWait();
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while writing a reply");
            }
        }
        return n;
    }

    @Override
    public SocketChannel parkableChannel() {
        return channel;
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public boolean peerEnded() {
        return PeerEnd.seen(channel);
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

    /** The socket without TLS: what the TLS layer reads records from and writes them to. */
    private final class Plain implements ByteChannel, TimedReadable {
        @Override
        public int read(ByteBuffer dst) throws IOException {
            return channel.read(dst);
        }

        @Override
        public int readWithin(ByteBuffer dst, long timeoutMillis) throws IOException {
            return plainReadWithin(dst, timeoutMillis);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return plainWrite(src);
        }

        @Override
        public boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    public void closeQuietly() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is best effort; the descriptor is released either way
        }
    }
}
