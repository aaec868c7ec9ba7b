package dev.ferry.testkit;

import dev.ferry.protocol.proxy.ProxyHeader;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An FTP backend that misbehaves in the one way a test picks ({@link Fault}, OkHttp MockWebServer's fault
 * menu), and records what it was sent.
 *
 * <p>Design: every connection runs the same small script ({@link FakeSession}): greet with 220, answer
 * USER 331, PASS 230, FEAT 211, QUIT 221 and anything else 200, open a passive port of its own on PASV and
 * EPSV, send a 4 MiB download on RETR and take an upload on STOR. Each fault changes one step of that
 * script, so a test names the step it wants broken and gets an otherwise ordinary backend. A control
 * connection that begins with a PROXY header (v1 or v2) has it read and kept, as a backend behind a
 * balancer that sends them would. Its data connections come and go on the backend's own address, as a
 * real backend's on another host would.
 *
 * <p>Whatever the fault, it records what each control connection sent ({@link #awaitSessions}) and how
 * each upload's data connection ended ({@link #uploadEnds}): a backend that commits on a clean end
 * (vsftpd, any FTP server without Ferry's control connection check) is only safe when a cut upload
 * reaches it as a reset.
 */
public final class FakeBackend implements AutoCloseable {

    /** What goes wrong; {@link #NONE} for a backend that only records. */
    public enum Fault {
        /** Nothing: the script as it is (uploads committed on any clean end of their data, as vsftpd does). */
        NONE,

        // ---- before and at the greeting ----
        /** Accepts and never says a word. */
        NEVER_GREETS,
        /** Greets with 421 and closes, as a server at its session limit does. */
        ANSWERS_421,
        /** A multi-line 220 greeting whose middle line looks like an end, and a multi-line FEAT (MDTM, SIZE). */
        MULTILINE_GREETING,

        // ---- commands ----
        /** Greets, then reads commands and never answers one (its sessions hang). */
        GREETS_THEN_SILENT,
        /** Greets, then answers the first command with 421 and closes, as a server shutting down does. */
        GREETS_THEN_421,
        /** Refuses every password with a 530 that echoes it back. */
        ECHOES_PASSWORD,

        // ---- passive mode ----
        /** Answers PASV and EPSV with a 227 that has no numbers in it. */
        BAD_227_NO_NUMBERS,
        /** Answers PASV and EPSV with a 227 line of 20,004 characters. */
        BAD_227_OVERLONG_LINE,

        // ---- downloads (RETR: 150 and half the file first) ----
        /** Resets the data connection mid-download, then answers 426. */
        RESET_MID_DOWNLOAD,
        /** Resets the data connection mid-download, then lies with 226. */
        RESET_THEN_226,
        /** Stops mid-download: nothing more, ever, on either connection (until the backend is closed). */
        STALL_MID_DOWNLOAD
    }

    /**
     * What one control connection sent (a PROXY header included, byte for byte) until the peer closed it or
     * the backend was closed: the backend ends its own side first (a FIN after 221 or 421) and reads on, so
     * nothing the peer sends late is missed. Also the header it began with (null: none), and its two
     * endpoints as the backend saw them.
     */
    public record Session(byte[] sent, ProxyHeader proxyHeader, InetSocketAddress peer, InetSocketAddress local) {}

    /** How an upload's data connection ended. */
    public enum UploadEnd {
        /** A clean end of stream (FIN): the backend answered 226. */
        END,
        /** An error such as a reset: the backend answered 426. */
        RESET
    }

    private static final Duration AWAIT = Duration.ofSeconds(10);

    private final ServerSocket listener;
    private final Fault fault;
    /** Control and data sockets and passive listeners, closed with the backend. */
    private final List<Closeable> held = new CopyOnWriteArrayList<>();
    private final List<Session> sessions = new ArrayList<>();
    private final List<UploadEnd> uploadEnds = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);

    /** A backend on 127.0.0.1. */
    public FakeBackend(Fault fault) throws IOException {
        this(InetAddress.getLoopbackAddress(), fault);
    }

    /** A backend on {@code address} (a 127.0.0.x of its own, to tell its connections apart from others'). */
    public FakeBackend(InetAddress address, Fault fault) throws IOException {
        this.fault = fault;
        this.listener = new ServerSocket(0, 50, address);
        Thread.ofVirtual().name("fake-backend-accept").start(this::acceptLoop);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /**
     * Once at least {@code count} control connections have ended (their peers closed them): all that have,
     * in the order they ended. Waits up to 10 seconds.
     */
    public List<Session> awaitSessions(int count) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + AWAIT.toNanos();
        synchronized (sessions) {
            while (sessions.size() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException(sessions.size() + " of " + count + " sessions ended within " + AWAIT);
                }
                TimeUnit.NANOSECONDS.timedWait(sessions, left);
            }
            return List.copyOf(sessions);
        }
    }

    /** How each STOR's data connection ended, in order, as it happens (a live view). */
    public List<UploadEnd> uploadEnds() {
        return Collections.unmodifiableList(uploadEnds);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket control = listener.accept();
                held.add(control);
                Thread.ofVirtual().name("fake-backend-session").start(() -> {
                    Session ended = new FakeSession(this, control).run();
                    synchronized (sessions) {
                        sessions.add(ended);
                        sessions.notifyAll();
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    // ---- for FakeSession ----

    Fault fault() {
        return fault;
    }

    InetAddress host() {
        return listener.getInetAddress();
    }

    void hold(Closeable c) {
        held.add(c);
    }

    void recordUpload(UploadEnd end) {
        uploadEnds.add(end);
    }

    /** For a stalled transfer: waits until the backend is closed (or two minutes, a test's upper bound). */
    void awaitClose() throws InterruptedException {
        closed.await(2, TimeUnit.MINUTES);
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        listener.close();
        for (Closeable c : held) {
            c.close();
        }
    }
}
