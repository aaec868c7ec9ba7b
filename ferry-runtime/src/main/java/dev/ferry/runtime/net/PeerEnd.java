package dev.ferry.runtime.net;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the peer of a connection has ended it (its FIN or a reset has arrived), asked of the kernel
 * without reading from the socket, so the thread that owns the connection's reads loses no byte.
 *
 * <p>Why: when a client dies, its kernel ends the control and the data connection at once, and an
 * upload's data connection then ends as cleanly (FIN after the last byte sent) as a finished one. FTP
 * has no other signal that the file is complete (RFC 959 §3.4, stream mode: the end of the file is
 * the closing of the data connection), so before an upload is committed, and before a balancer passes
 * an upload's end on, the control connection is asked: a client that is gone or going did not finish.
 *
 * <p>How: poll(2) with POLLRDHUP and a zero timeout on the socket's descriptor (Linux reports POLLRDHUP
 * once the peer shut its sending side down, POLLHUP/POLLERR on a reset, and POLLRDHUP as well once our
 * own side shut its input, which is how Ferry ends a session). The JDK has no API for it; its internal
 * {@code sun.nio.ch.Net.poll} passes the event mask through, which needs {@code --add-opens
 * java.base/sun.nio.ch=ALL-UNNAMED} (the ferry jar's manifest says so). Without it, or off Linux,
 * {@link #seen} answers false (nothing known) and {@link #unavailableReason} says why.
 */
public final class PeerEnd {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.runtime");
    // <poll.h> on Linux (every architecture the JDK runs on).
    private static final int POLLERR = 0x8;
    private static final int POLLHUP = 0x10;
    private static final int POLLNVAL = 0x20;
    private static final int POLLRDHUP = 0x2000;

    private static final String UNAVAILABLE;
    private static final MethodHandle POLL;
    private static final MethodHandle FD;

    static {
        String why = null;
        MethodHandle poll = null;
        MethodHandle fd = null;
        try {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                why = "POLLRDHUP is Linux only";
            } else if (!Object.class.getModule().isOpen("sun.nio.ch", PeerEnd.class.getModule())) {
                why = "the JVM was started without --add-opens java.base/sun.nio.ch=ALL-UNNAMED";
            } else {
                Class<?> net = Class.forName("sun.nio.ch.Net");
                MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(net, MethodHandles.lookup());
                poll = lookup.findStatic(net, "poll", MethodType.methodType(int.class, FileDescriptor.class, int.class, long.class));
                Class<?> selectable = Class.forName("sun.nio.ch.SelChImpl");
                fd = MethodHandles.privateLookupIn(selectable, MethodHandles.lookup())
                        .findVirtual(selectable, "getFD", MethodType.methodType(FileDescriptor.class));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            why = "the JDK's poll is not reachable: " + e;
        }
        UNAVAILABLE = why;
        POLL = poll;
        FD = fd;
        if (why != null) {
            LOG.warn("event=peer-end-check-unavailable reason=\"{}\" (an upload whose client died as its data ended may be committed)", why);
        }
    }

    /**
     * How long the end of an upload waits for its sender's control connection to end too, before it is taken
     * as the end of the file. A dying peer's kernel ends both connections within microseconds, but not always
     * the control connection first: in instrumented kills on loopback a client's data connection's FIN came
     * 75 µs and 383 µs before its control connection's, and a server on tmpfs (no fsync time to hide it)
     * committed 4 uploads in 30 of clients killed between two writes without this wait. With three busy
     * loops on the two cores (the dying process yields between closing its sockets), clients killed between
     * writes had their upload committed 2 times in 30 with no wait, once in 30 with 2 ms, never in 80 with
     * 5 or 10 ms. The price: an upload's 226 comes at least this long after its data ended (measured, 4 KiB
     * files on one session on tmpfs: 1.0 ms per STOR before, 6.2 ms with it; twice that through the balancer,
     * which waits before it passes the end on).
     */
    public static final Duration UPLOAD_END_GRACE = Duration.ofMillis(5);
    private static final long POLL_NANOS = 250_000;

    private PeerEnd() {
    }

    /**
     * Waits until {@code ended} says true or {@code grace} has passed since {@code sinceNanos} (a {@link
     * System#nanoTime()}), whichever comes first, and returns {@code ended}'s last answer. Polls every 250 µs
     * and parks in between, so a virtual thread gives its carrier up meanwhile.
     */
    public static boolean endedWithin(BooleanSupplier ended, long sinceNanos, Duration grace) {
        long deadline = sinceNanos + grace.toNanos();
        while (!ended.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
        return true;
    }

    /** Null when {@link #seen} works in this JVM, else why it always answers false. */
    public static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * True when the peer of {@code channel} has ended the connection (FIN or reset arrived) or our own
     * side shut its input or closed it; false while it is open, and whenever this cannot be known.
     * Never blocks, never reads.
     */
    public static boolean seen(SocketChannel channel) {
        if (POLL == null || channel == null) {
            return false;
        }
        if (!channel.isOpen()) {
            return true;
        }
        try {
            int revents = (int) POLL.invoke((FileDescriptor) FD.invoke(channel), POLLRDHUP, 0L);
            return (revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
        } catch (Throwable e) {
            // Closed under us (EBADF) counts as ended; anything else is unknown.
            return !channel.isOpen();
        }
    }
}
