package dev.ferry.runtime.tls;

import dev.ferry.protocol.line.TimedReadable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;

/**
 * A blocking byte channel that speaks TLS over another blocking channel, with the JDK's {@link SSLEngine}.
 *
 * <p>Why an engine and not an {@code SSLSocket} over the socket: every byte the engine needs passes through
 * buffers this class owns, so it can tell whether anything is buffered (a session with nothing buffered may
 * give its thread back while idle), it can tell a clean end (the peer's close_notify) from a cut connection
 * (an upload that ends without close_notify may be truncated by an attacker, RFC 5246 §7.2.1), and timeouts
 * stay those of the underlying channel: whoever guards it closes it, and a blocked read or write here fails.
 *
 * <p>Concurrency: one reader and one writer may work at once (the control connection's reply writer runs on
 * transfer threads while the session thread reads). Reading holds the read lock, writing the write lock; a
 * read that must answer the peer (a TLS 1.3 KeyUpdate, a close_notify) takes the write lock too, never the
 * other way round. Renegotiation is not supported: the JDK refuses a client's request for it ({@link TlsEndpoint}
 * turns that on), and a write that finds the engine waiting for handshake bytes fails.
 *
 * <p>Memory: buffers start small and grow to the engine's record sizes only when a record needs it
 * ({@code compact} channels, for control connections whose records are a few hundred bytes) or are
 * allocated at full size ({@code data} channels); {@link #releaseBuffers()} drops the buffers of an idle
 * channel.
 *
 * <p>One piece on purpose, though over 500 lines: the engine, the two buffers and the two locks form one
 * invariant (which thread may wrap or unwrap, and when a buffer may shrink), and every method reads or changes
 * all of it; split apart, each part would need the others' locks.
 */
public final class TlsChannel implements ByteChannel, TimedReadable {

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** First size of the buffers of a compact channel: a control-connection record (a command, a reply) fits. */
    private static final int COMPACT_SIZE = 1024;
    /** Records wrapped per write on a data channel before the bytes go to the socket. */
    private static final int RECORDS_PER_WRITE = 4;

    private final ByteChannel raw;
    private final SSLEngine engine;
    private final boolean compact;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Received records not yet unwrapped, in fill mode (bytes in [0, position)); guarded by readLock. */
    private ByteBuffer netIn;
    /** Decrypted bytes not yet read, in drain mode (bytes in [position, limit)); guarded by readLock. */
    private ByteBuffer appIn;
    /** Guarded by writeLock. */
    private ByteBuffer netOut;
    private boolean inboundClosed;
    private volatile boolean cleanEnd;

    /**
     * @param raw     the blocking channel the records travel on (a {@link TimedReadable} one allows timed reads)
     * @param compact small buffers that grow on demand (control connections), else full-size buffers (data)
     */
    public TlsChannel(ByteChannel raw, SSLEngine engine, boolean compact) {
        this.raw = raw;
        this.engine = engine;
        this.compact = compact;
    }

    public SSLSession session() {
        return engine.getSession();
    }

    /** Runs the handshake to its end on the calling thread; the caller bounds it with a timeout that closes the raw channel. */
    public void handshake() throws IOException {
        readLock.lock();
        writeLock.lock();
        try {
            ensureBuffers();
            engine.beginHandshake();
            while (true) {
                switch (engine.getHandshakeStatus()) {
                    case NEED_TASK -> runTasks();
                    case NEED_WRAP -> {
                        SSLEngineResult r = wrap(EMPTY);
                        if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                            throw new SSLHandshakeException("TLS handshake closed by the server side");
                        }
                    }
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                        withholdTicket();
                        if (!unwrapOnce()) {
                            if (readRaw() < 0) {
                                throw new EOFException("connection closed during the TLS handshake");
                            }
                        } else if (inboundClosed) {
                            throw new SSLHandshakeException("TLS handshake closed by the client");
                        }
                    }
                    case FINISHED, NOT_HANDSHAKING -> {
                        return;
                    }
                }
            }
        } catch (SSLException e) {
            sendAlert();
            throw e;
        } finally {
            writeLock.unlock();
            readLock.unlock();
        }
    }

    /**
     * A TLS 1.3 server sends a session ticket right after the handshake, and on a data connection nobody wants
     * it: clients resume the control connection's session, not a data connection's. Worse, curl 7.88, lftp and
     * the JDK's client upload without reading it, and a socket closed with unread bytes is reset by the kernel,
     * which drops the end of the upload that was still queued on the client's side (the server then answers
     * 426). The JDK issues no ticket for a session that is not resumable, so a data channel invalidates its
     * TLS 1.3 handshake session before the client's Finished arrives. Not for TLS 1.2, where a resumed handshake
     * session is the control connection's own (and TLS 1.2 tickets travel inside the handshake).
     */
    private void withholdTicket() {
        if (compact || engine.getUseClientMode()) {
            return;
        }
        SSLSession handshakeSession = engine.getHandshakeSession();
        if (handshakeSession != null && "TLSv1.3".equals(handshakeSession.getProtocol())) {
            handshakeSession.invalidate();
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return readUntil(dst, null, 0);
    }

    /** Like {@link #read}, but waits at most {@code timeoutMillis} for bytes from the peer: 0 when none came. */
    @Override
    public int readWithin(ByteBuffer dst, long timeoutMillis) throws IOException {
        if (!(raw instanceof TimedReadable timed)) {
            return read(dst);
        }
        return readUntil(dst, timed, System.nanoTime() + timeoutMillis * 1_000_000L);
    }

    /** Decrypted bytes into {@code dst}; {@code timed} null: waits as long as it takes, else until the deadline (then 0). */
    private int readUntil(ByteBuffer dst, TimedReadable timed, long deadlineNanos) throws IOException {
        readLock.lock();
        try {
            ensureBuffers();
            while (true) {
                if (appIn.hasRemaining()) {
                    return transfer(appIn, dst);
                }
                if (inboundClosed) {
                    return -1;
                }
                if (unwrapOnce()) {
                    continue;
                }
                int n;
                if (timed == null) {
                    n = readRaw();
                } else {
                    long left = (deadlineNanos - System.nanoTime()) / 1_000_000L;
                    if (left <= 0) {
                        return 0;
                    }
                    makeRoomInNetIn();
                    n = timed.readWithin(netIn, left);
                    if (n == 0) {
                        return 0;
                    }
                }
                if (n < 0) {
                    endOfStream();
                    return -1;
                }
            }
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        writeLock.lock();
        try {
            if (engine.isOutboundDone()) {
                throw new ClosedChannelException();
            }
            int consumed = 0;
            while (src.hasRemaining()) {
                ensureNetOut();
                netOut.clear();
                int packet = engine.getSession().getPacketBufferSize();
                do {
                    SSLEngineResult r = engine.wrap(src, netOut);
                    consumed += r.bytesConsumed();
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new ClosedChannelException();
                    }
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                        if (netOut.position() == 0) {
                            netOut = ByteBuffer.allocate(packet);
                            continue;
                        }
                        break;
                    }
                    if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                        runTasks();
                    } else if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP
                            && r.bytesConsumed() == 0) {
                        throw new SSLException("TLS renegotiation is not supported");
                    }
                } while (src.hasRemaining() && netOut.remaining() >= packet);
                netOut.flip();
                writeFully(netOut);
            }
            if (compact) {
                netOut = null;
            }
            return consumed;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Sends close_notify, the end of this side's data (RFC 8446 §6.1): a download's receiver learns the
     * file is whole. The raw channel stays open; {@link #close()} closes it.
     */
    public void shutdownOutput() throws IOException {
        writeLock.lock();
        try {
            if (engine.isOutboundDone()) {
                return;
            }
            engine.closeOutbound();
            while (!engine.isOutboundDone()) {
                SSLEngineResult r = wrap(EMPTY);
                if (r.bytesProduced() == 0 && r.getStatus() != SSLEngineResult.Status.OK) {
                    break;
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Ends TLS on a connection that goes on in clear text (CCC, RFC 4217 §6) and returns the bytes received
     * but not unwrapped yet, in drain mode. Clients differ: Python's ftplib, lftp and curl in "active" CCC mode
     * send their close_notify first and wait for ours; curl's default "passive" mode sends none and waits for
     * ours. So this waits up to {@code waitForPeerMillis} for the peer's close_notify, answers it, and otherwise
     * sends ours unasked; a close_notify that comes later is for whoever reads next ({@link #isRecordStart},
     * {@link #absorbPeerClose}). Ours goes second when it can because lftp may take a close_notify that
     * arrives with the 200 reply for the end of the connection.
     */
    public ByteBuffer endTls(long waitForPeerMillis) throws IOException {
        readLock.lock();
        try {
            ensureBuffers();
            if (appIn.hasRemaining()) {
                throw new SSLException("the peer sent protected data after CCC");
            }
            if (netIn.position() == 0 && raw instanceof TimedReadable timed) {
                timed.readWithin(netIn, waitForPeerMillis);
            }
            if (netIn.position() > 0 && isRecordStart(netIn.get(0))) {
                ByteBuffer received = takeReceived();
                ByteBuffer following = absorbPeerClose(received);
                shutdownOutput();
                return following;
            }
        } finally {
            readLock.unlock();
        }
        shutdownOutput();
        readLock.lock();
        try {
            return takeReceived();
        } finally {
            readLock.unlock();
        }
    }

    /** True once the peer's close_notify was read (after {@link #endTls}: nothing more to take off). */
    public boolean peerClosedTls() {
        return inboundClosed && cleanEnd;
    }

    /** The bytes received and not unwrapped, as a new buffer in drain mode; netIn is left empty. Read lock held. */
    private ByteBuffer takeReceived() {
        netIn.flip();
        ByteBuffer received = ByteBuffer.allocate(netIn.remaining()).put(netIn).flip();
        netIn.clear();
        return received;
    }

    /**
     * True when {@code b} is the first byte of a TLS record (content types 20 to 23; TLS 1.3 sends its alerts
     * as type 23): an FTP command starts with a letter, never with these control characters.
     */
    public static boolean isRecordStart(byte b) {
        return b >= 20 && b <= 23;
    }

    /**
     * After {@link #endTls}: {@code received} starts with the peer's closing records. Unwraps them up to its
     * close_notify, reading more from the raw channel while a record is incomplete (the caller's guard bounds
     * the wait), and returns the clear text that followed, in drain mode. Protected data there is an error.
     */
    public ByteBuffer absorbPeerClose(ByteBuffer received) throws IOException {
        readLock.lock();
        try {
            ensureBuffers();
            while (netIn.remaining() < received.remaining()) {
                makeRoomInNetIn();
                int n = Math.min(netIn.remaining(), received.remaining());
                netIn.put(received.slice(received.position(), n));
                received.position(received.position() + n);
            }
            netIn.put(received);
            while (!inboundClosed) {
                if (appIn.hasRemaining()) {
                    throw new SSLException("the peer sent protected data after CCC instead of ending TLS");
                }
                if (!unwrapOnce() && readRaw() < 0) {
                    endOfStream();
                    throw new EOFException("connection closed in the middle of the TLS shutdown");
                }
            }
            return takeReceived();
        } finally {
            readLock.unlock();
        }
    }

    /** True once the peer ended its data with close_notify; false when the connection was cut before it. */
    public boolean endedCleanly() {
        return cleanEnd;
    }

    /** True when decrypted or received bytes wait in this channel's buffers (a read would not block). */
    public boolean hasBufferedInput() {
        readLock.lock();
        try {
            return appIn != null && appIn.hasRemaining() || netIn != null && netIn.position() > 0;
        } finally {
            readLock.unlock();
        }
    }

    /** Drops the buffers of an idle compact channel (nothing buffered); returns whether it did. */
    public boolean releaseBuffers() {
        if (!compact || !readLock.tryLock()) {
            return false;
        }
        try {
            if (appIn != null && appIn.hasRemaining() || netIn != null && netIn.position() > 0) {
                return false;
            }
            appIn = null;
            netIn = null;
            return true;
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public boolean isOpen() {
        return raw.isOpen();
    }

    /** Closes the raw channel at once (from any thread, also while a read or write is blocked). */
    @Override
    public void close() throws IOException {
        raw.close();
    }

    // ---- engine plumbing -----------------------------------------------------------------------

    /**
     * Unwraps one record from netIn into appIn (which is empty). Returns false when netIn holds no whole
     * record (more bytes must be read), true otherwise.
     */
    private boolean unwrapOnce() throws IOException {
        try {
            return unwrapRecord();
        } catch (SSLException e) {
            // A bad record, or a refused renegotiation (its ClientHello fails in a delegated task, and the engine
            // throws at the next wrap): the engine has an alert ready that tells the peer why.
            alertFromReader();
            throw e;
        }
    }

    private boolean unwrapRecord() throws IOException {
        if (netIn.position() == 0) {
            return false;
        }
        appIn.clear();
        netIn.flip();
        SSLEngineResult r;
        try {
            r = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
            appIn.flip();
        }
        switch (r.getStatus()) {
            case BUFFER_UNDERFLOW -> {
                return false;
            }
            case BUFFER_OVERFLOW -> {
                appIn = ByteBuffer.allocate(Math.max(engine.getSession().getApplicationBufferSize(), appIn.capacity() * 2)).flip();
                return true;
            }
            case CLOSED -> {
                inboundClosed = true;
                cleanEnd = true;
            }
            case OK -> {
                // a record was read
            }
        }
        afterUnwrap(r.getHandshakeStatus());
        return true;
    }

    /** Post-handshake messages: tasks to run, or an answer to send (KeyUpdate, close_notify). */
    private void afterUnwrap(SSLEngineResult.HandshakeStatus status) throws IOException {
        if (status == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
            status = engine.getHandshakeStatus();
        }
        if (status == SSLEngineResult.HandshakeStatus.NEED_WRAP && !writeLock.isHeldByCurrentThread()) {
            writeLock.lock();
            try {
                while (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                    SSLEngineResult w = wrap(EMPTY);
                    if (w.bytesProduced() == 0) {
                        break;
                    }
                }
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Wraps {@code src} into netOut and sends it; the write lock is held. */
    private SSLEngineResult wrap(ByteBuffer src) throws IOException {
        ensureNetOut();
        netOut.clear();
        SSLEngineResult r = engine.wrap(src, netOut);
        if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
            netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            r = engine.wrap(src, netOut);
        }
        netOut.flip();
        writeFully(netOut);
        if (compact && !engine.isOutboundDone() && engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
            netOut = null;
        }
        return r;
    }

    private void writeFully(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            raw.write(bytes);
        }
    }

    private int readRaw() throws IOException {
        makeRoomInNetIn();
        return raw.read(netIn);
    }

    /** A full netIn that still holds no whole record grows to the engine's record size. */
    private void makeRoomInNetIn() {
        if (!netIn.hasRemaining()) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(engine.getSession().getPacketBufferSize(), netIn.capacity() * 2));
            netIn.flip();
            bigger.put(netIn);
            netIn = bigger;
        }
    }

    /** The connection ended without close_notify: the end of the data cannot be trusted. */
    private void endOfStream() {
        inboundClosed = true;
        try {
            engine.closeInbound();
        } catch (SSLException expected) {
            // "closed before receiving close_notify": exactly what endedCleanly() reports
        }
    }

    private void sendAlert() {
        try {
            engine.closeOutbound();
            // The engine holds its alert until it is wrapped: during a handshake it says NEED_WRAP; after one (a
            // refused renegotiation) only isOutboundDone tells. A few records at most: the alert, a close_notify.
            for (int i = 0; i < 4 && (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP
                    || !engine.isOutboundDone()); i++) {
                if (wrap(EMPTY).bytesProduced() == 0) {
                    break;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // the alert is a courtesy; the connection is closed next anyway
        }
    }

    /** {@link #sendAlert} from a reader: only if no writer holds the socket (a blocked writer must not block the reader). */
    private void alertFromReader() {
        boolean held = writeLock.isHeldByCurrentThread();
        if (!held && !writeLock.tryLock()) {
            return;
        }
        try {
            sendAlert();
        } finally {
            if (!held) {
                writeLock.unlock();
            }
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private void ensureBuffers() {
        if (netIn == null) {
            int size = compact ? COMPACT_SIZE : engine.getSession().getPacketBufferSize();
            netIn = ByteBuffer.allocate(size);
            appIn = ByteBuffer.allocate(compact ? COMPACT_SIZE : engine.getSession().getApplicationBufferSize()).flip();
        }
    }

    private void ensureNetOut() {
        if (netOut == null) {
            int packet = engine.getSession().getPacketBufferSize();
            netOut = ByteBuffer.allocate(compact ? packet : packet * RECORDS_PER_WRITE);
        }
    }

    private static int transfer(ByteBuffer from, ByteBuffer to) {
        int n = Math.min(from.remaining(), to.remaining());
        if (n == 0) {
            return 0;
        }
        ByteBuffer slice = from.slice(from.position(), n);
        to.put(slice);
        from.position(from.position() + n);
        return n;
    }
}
