package dev.ferry.server.data;

import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.KernelSplice;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.server.policy.Throttle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * The copy loops of data transfers. Each loop re-arms the data-timeout guard per chunk, so the
 * timeout means "no progress for that long", never "the whole transfer took that long".
 *
 * <p>Binary downloads from a local file use {@code FileChannel.transferTo} (sendfile on Linux: no
 * copy through user space). ASCII transfers convert line ends (RFC 959 §3.1.1.1: the NVT-ASCII
 * end of line is CRLF; files here use LF).
 *
 * <p>A {@link Throttle} that limits (a user's or the server's bandwidth) makes the loops take their bytes from it
 * chunk by chunk: a download before each write (sendfile still, in the throttle's chunks), an upload after each
 * read, which is limited to one chunk (the socket's receive buffer then fills, and TCP slows the client). The
 * data timeout is disarmed while a chunk waits for its turn: waiting for the limit is not a stalled peer.
 * Without a limit the loops are what they were: whole sendfile chunks, full buffers.
 *
 * <p>Binary uploads into a local file without a limit ({@link #receiveToFile}) splice the socket's bytes into the
 * file through a pipe (Linux, Java 22+, {@link KernelSplice}) once the first {@link #SPLICE_AFTER} bytes have been
 * copied: the copy from the socket into user space goes (the one into the file stays, in the kernel).
 */
public final class Transfers {

    /** sendfile chunk: small enough that a slow client still makes progress within the data timeout. */
    private static final long SENDFILE_CHUNK = 1L << 20;

    private static final byte[] LONE_CR = {'\r'};

    /**
     * Bytes an upload copies before it is worth a pipe and two duplicated descriptors (eight system calls to set
     * up and close): a small file never pays for them.
     */
    static final long SPLICE_AFTER = 1L << 20;

    /** Whether binary uploads splice here (see {@link KernelSplice}); {@code -Dferry.upload.copy=true} turns it off. */
    static final boolean SPLICE_UPLOADS =
            KernelSplice.unavailableReason() == null && !Boolean.getBoolean("ferry.upload.copy");
    private static final LongAdder SPLICED_UPLOADS = new LongAdder();

    /**
     * A channel that counts the bytes of an upload as they arrive (a quota, which refuses with a 552 past it):
     * bytes that reach the file without being read through it (spliced) are given to it here, before they are
     * written; a refusal leaves them unwritten.
     */
    public interface ArrivalCounting {
        void arrived(long n) throws IOException;
    }

    private Transfers() {}

    /**
     * "splice" or "copy": how binary uploads past their first MiB reach a local file in this JVM. The first call
     * links the native calls (about 0.1 s of CPU), which the server does at start rather than in a first upload.
     */
    public static String uploadMode() {
        return SPLICE_UPLOADS ? "splice" : "copy";
    }

    /** Why uploads copy (null when they splice, or copying was asked for). */
    public static String uploadCopyReason() {
        return KernelSplice.unavailableReason();
    }

    /** Uploads spliced since start. */
    public static long splicedUploads() {
        return SPLICED_UPLOADS.sum();
    }

    /** Sends a file from {@code position} to its end with sendfile, within {@code throttle}. */
    public static long sendFile(FileChannel file, long position, SocketChannel out, Watchdog.Guard guard,
                                Duration timeout, TransferProgress progress, Throttle throttle) throws IOException {
        return throttle.limited() ? sendFileThrottled(file, position, out, guard, timeout, progress, throttle)
                : sendFile(file, position, out, guard, timeout, progress);
    }

    /** Sends a file from {@code position} to its end with sendfile. */
    public static long sendFile(FileChannel file, long position, SocketChannel out, Watchdog.Guard guard,
                                Duration timeout, TransferProgress progress) throws IOException {
        long size = file.size();
        long sent = 0;
        while (position + sent < size) {
            guard.arm(timeout);
            long n = file.transferTo(position + sent, Math.min(SENDFILE_CHUNK, size - position - sent), out);
            if (n <= 0) {
                // The file shrank under us: what was there has been sent.
                if (file.size() <= position + sent) {
                    break;
                }
                continue;
            }
            sent += n;
            progress.add(n);
        }
        guard.disarm();
        return sent;
    }

    /** sendfile, each chunk taken from {@code throttle} first and sent whole before the next is taken. */
    private static long sendFileThrottled(FileChannel file, long position, SocketChannel out, Watchdog.Guard guard,
                                          Duration timeout, TransferProgress progress, Throttle throttle)
            throws IOException {
        long size = file.size();
        long sent = 0;
        try {
            while (position + sent < size) {
                guard.disarm();
                long left = progress.take(throttle, size - position - sent);
                while (left > 0) {
                    guard.arm(timeout);
                    long n = file.transferTo(position + sent, left, out);
                    if (n <= 0) {
                        // The file shrank under us: what was there has been sent.
                        if (file.size() <= position + sent) {
                            return sent;
                        }
                        continue;
                    }
                    sent += n;
                    left -= n;
                    progress.add(n);
                }
            }
            return sent;
        } finally {
            guard.disarm();
        }
    }

    /** Copies a channel to the socket, converting LF to CRLF when {@code ascii}. */
    public static long send(ReadableByteChannel in, WritableByteChannel out, boolean ascii, BufferPool pool,
                            Watchdog.Guard guard, Duration timeout, TransferProgress progress) throws IOException {
        return send(in, out, ascii, pool, guard, timeout, progress, Throttle.NONE);
    }

    /** Copies a channel to the socket, converting LF to CRLF when {@code ascii}, within {@code throttle}. */
    public static long send(ReadableByteChannel in, WritableByteChannel out, boolean ascii, BufferPool pool,
                            Watchdog.Guard guard, Duration timeout, TransferProgress progress, Throttle throttle)
            throws IOException {
        boolean limited = throttle.limited();
        ByteBuffer buffer = pool.take();
        ByteBuffer converted = ascii ? pool.take() : null;
        long sent = 0;
        boolean lastWasCr = false;
        try {
            while (true) {
                buffer.clear();
                guard.arm(timeout);
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                buffer.flip();
                ByteBuffer toSend = buffer;
                if (ascii) {
                    // At most half the buffer per pass, so that doubling every byte still fits.
                    converted.clear();
                    lastWasCr = toCrlf(buffer, converted, lastWasCr);
                    converted.flip();
                    toSend = converted;
                }
                sent += limited ? writeThrottled(out, toSend, guard, timeout, progress, throttle)
                        : writeFully(out, toSend, guard, timeout);
                if (ascii && buffer.hasRemaining()) {
                    // Leftover input that did not fit: convert and send it before reading more.
                    while (buffer.hasRemaining()) {
                        converted.clear();
                        lastWasCr = toCrlf(buffer, converted, lastWasCr);
                        converted.flip();
                        sent += limited ? writeThrottled(out, converted, guard, timeout, progress, throttle)
                                : writeFully(out, converted, guard, timeout);
                    }
                }
                progress.add(n);
            }
        } finally {
            guard.disarm();
            pool.give(buffer);
            if (converted != null) {
                pool.give(converted);
            }
        }
        return sent;
    }

    /**
     * Receives from the socket until the client closes the data connection, converting CRLF to LF
     * when {@code ascii}. Returns the number of bytes written.
     */
    public static long receive(ReadableByteChannel in, WritableByteChannel out, boolean ascii, BufferPool pool,
                               Watchdog.Guard guard, Duration timeout, TransferProgress progress) throws IOException {
        return receive(in, out, ascii, pool, guard, timeout, progress, Throttle.NONE);
    }

    /**
     * {@link #receive} within {@code throttle}: each read is at most one chunk, and its bytes are taken from the
     * throttle before the next read.
     */
    public static long receive(ReadableByteChannel in, WritableByteChannel out, boolean ascii, BufferPool pool,
                               Watchdog.Guard guard, Duration timeout, TransferProgress progress, Throttle throttle)
            throws IOException {
        boolean limited = throttle.limited();
        int chunk = (int) Math.min(Integer.MAX_VALUE, throttle.chunk());
        ByteBuffer buffer = pool.take();
        long written = 0;
        boolean pendingCr = false;
        try {
            while (true) {
                guard.arm(timeout);
                if (limited) {
                    buffer.limit((int) Math.min(buffer.capacity(), (long) buffer.position() + chunk));
                }
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                if (limited && n > 0) {
                    guard.disarm();
                    progress.take(throttle, n);
                }
                progress.add(n);
                if (buffer.hasRemaining() && n > 0 && !ascii) {
                    // Keep filling: fewer, larger file writes.
                    continue;
                }
                buffer.flip();
                if (ascii) {
                    if (pendingCr && buffer.hasRemaining() && buffer.get(buffer.position()) != '\n') {
                        written += writeAll(out, ByteBuffer.wrap(LONE_CR));
                    }
                    pendingCr = fromCrlf(buffer);
                }
                written += writeAll(out, buffer);
                buffer.clear();
            }
            if (ascii && pendingCr) {
                buffer.clear();
                buffer.put((byte) '\r');
            }
            buffer.flip();
            written += writeAll(out, buffer);
        } finally {
            guard.disarm();
            pool.give(buffer);
        }
        return written;
    }

    /**
     * A binary upload into a local file, without a bandwidth limit: {@link #receive}'s result (the bytes written),
     * spliced where the kernel and the JVM allow ({@link #SPLICE_UPLOADS}) once {@link #SPLICE_AFTER} bytes have
     * been copied. {@code in} reads {@code socket} (perhaps counting, {@link ArrivalCounting}); {@code out} writes
     * {@code file} (perhaps marking its failures as local ones).
     *
     * <p>Every guarantee of the copying loop holds. Waiting for the client is an ordinary read of {@code in}
     * under the data timeout (the splice itself never waits: with nothing to take it says so), so the timeout
     * still means "no progress for that long" and ABOR still wakes it. A quota is asked about each splice's bytes
     * (at most 1 MiB) while they are still in the pipe: a refusal (552) leaves them unwritten. The bytes are
     * counted in {@code progress} as they are written; a failure to write the file is a local one (451).
     */
    public static long receiveToFile(SocketChannel socket, ReadableByteChannel in, FileChannel file,
                                     WritableByteChannel out, BufferPool pool, Watchdog.Guard guard, Duration timeout,
                                     TransferProgress progress) throws IOException {
        ByteBuffer buffer = pool.take();
        KernelSplice.SocketToFile splice = null;
        boolean spliceTried = !SPLICE_UPLOADS;
        long written = 0;
        try {
            while (true) {
                if (splice != null) {
                    long n = splice.fill(Long.MAX_VALUE);
                    if (n == 0) {
                        if (!socket.isOpen()) {
                            // closed under us (ABOR, the data timeout) as the client's FIN came: not its file's end
                            throw new AsynchronousCloseException();
                        }
                        break;
                    }
                    if (n > 0) {
                        if (in instanceof ArrivalCounting counting) {
                            counting.arrived(n);
                        }
                        try {
                            splice.drain();
                        } catch (AsynchronousCloseException e) {
                            throw e;
                        } catch (IOException e) {
                            throw new LocalIOException(e);
                        }
                        progress.add(n);
                        written += n;
                        continue;
                    }
                    // nothing waiting: wait for it in ordinary reads, below, until a buffer is full
                }
                buffer.clear();
                guard.arm(timeout);
                int n = in.read(buffer);
                guard.disarm();
                if (n < 0) {
                    break;
                }
                progress.add(n);
                boolean ended = false;
                while (buffer.hasRemaining()) {
                    // Keep filling, for fewer and larger file writes. Spliced too: a client slower than this server
                    // leaves little waiting at a time, and a splice per wake-up would cost a write of a few KiB
                    // and a failed splice each; one buffer's worth is copied before the next splice is tried.
                    guard.arm(timeout);
                    int more = in.read(buffer);
                    guard.disarm();
                    if (more < 0) {
                        ended = true;
                        break;
                    }
                    progress.add(more);
                }
                buffer.flip();
                written += writeAll(out, buffer);
                if (ended) {
                    break;
                }
                if (!spliceTried && written >= SPLICE_AFTER) {
                    spliceTried = true;
                    splice = KernelSplice.toFile(socket, file);
                    if (splice != null) {
                        SPLICED_UPLOADS.increment();
                    }
                }
            }
            return written;
        } finally {
            guard.disarm();
            if (splice != null) {
                splice.close();
            }
            pool.give(buffer);
        }
    }

    /** Writes a whole buffer to a socket under the guard. */
    public static long writeFully(WritableByteChannel out, ByteBuffer src, Watchdog.Guard guard, Duration timeout)
            throws IOException {
        long total = 0;
        while (src.hasRemaining()) {
            guard.arm(timeout);
            total += out.write(src);
        }
        return total;
    }

    /** {@link #writeFully} in the throttle's chunks, each taken before it is written. */
    private static long writeThrottled(WritableByteChannel out, ByteBuffer src, Watchdog.Guard guard, Duration timeout,
                                       TransferProgress progress, Throttle throttle) throws IOException {
        int end = src.limit();
        long total = 0;
        try {
            while (src.hasRemaining()) {
                guard.disarm();
                long n = progress.take(throttle, src.remaining());
                src.limit(src.position() + (int) n);
                total += writeFully(out, src, guard, timeout);
                src.limit(end);
            }
        } finally {
            src.limit(end);
        }
        return total;
    }

    private static long writeAll(WritableByteChannel out, ByteBuffer src) throws IOException {
        long total = 0;
        while (src.hasRemaining()) {
            total += out.write(src);
        }
        return total;
    }

    /**
     * LF to CRLF, leaving an existing CRLF alone. Consumes input while the output has room for two
     * bytes; returns whether the last byte consumed was CR.
     */
    static boolean toCrlf(ByteBuffer in, ByteBuffer out, boolean lastWasCr) {
        while (in.hasRemaining() && out.remaining() >= 2) {
            byte b = in.get();
            if (b == '\n' && !lastWasCr) {
                out.put((byte) '\r');
            }
            out.put(b);
            lastWasCr = b == '\r';
        }
        return lastWasCr;
    }

    /**
     * CRLF to LF, in place (the output never overtakes the input). A CR at the end of the buffer is
     * held back (returns true) until the next byte shows whether it starts a CRLF; a lone CR is kept.
     */
    static boolean fromCrlf(ByteBuffer buf) {
        int start = buf.position();
        int limit = buf.limit();
        int write = start;
        boolean held = false;
        for (int i = start; i < limit; i++) {
            byte b = buf.get(i);
            if (b == '\r' && i + 1 < limit && buf.get(i + 1) == '\n') {
                continue;
            }
            if (b == '\r' && i + 1 == limit) {
                held = true;
                continue;
            }
            buf.put(write++, b);
        }
        buf.limit(write);
        return held;
    }
}
