package dev.ferry.balancer.data;

import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.PeerEnd;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One relayed data connection (both its sockets) as its session sees it: how each direction ended, and
 * the one way to give it up.
 *
 * <p>Design: a relay passes ends on exactly as it got them (RST↔RST, FIN↔FIN), because the end of a
 * stream-mode transfer is its data connection's end (RFC 959 §3.4): a FIN is "the file is complete", so a
 * FIN must never stand for "something went wrong". A direction that reads a clean end passes a FIN on only
 * when its sender's control connection is still there ({@code upstreamEndTrusted}, {@code
 * downstreamEndTrusted}): a client or backend that died ends its data connection with the same FIN as one
 * that finished, and only its control connection's end tells them apart. Everything else (a reset, an error,
 * the data timeout, a control connection gone, the session ending) gives the whole relay up: both sockets
 * are reset, so neither peer can take a cut transfer for a whole one.
 *
 * <p>Giving up never closes a socket while a direction is spliced
 * ({@link dev.ferry.runtime.net.KernelSplice} works on the raw descriptors, whose numbers could be reused under it): then both inputs are shut (readers wake at once
 * and see the give-up before they would pass an end on) and the splice's own bounded waits end it; the
 * relay closes both sockets, with SO_LINGER 0 (RST), when both directions are over.
 */
public final class Flow {

    /**
     * How long a download's clean end, its backend's control connection gone, waits for the backend's 2xx
     * to be read (see mayPassEnd): it is in the balancer's socket already when the backend said it.
     */
    public static final Duration DOWNLOAD_CONFIRM_GRACE = Duration.ofMillis(200);

    /** How a direction ended. */
    public enum End {
        /** Its sender's end of stream (and close_notify, with TLS) was passed on to its receiver. */
        CLEAN,
        /** A socket error: a reset, or a write to a peer that had gone. */
        RESET,
        /** Nothing moved for the data timeout. */
        TIMEOUT,
        /** Given up: by the other direction's failure, a control connection gone, or the session. */
        GIVEN_UP
    }

    /** Which way each direction was blocked when the data timeout ended the relay (true: writing). */
    public record Stall(boolean upWriting, boolean downWriting) {}

    private final BooleanSupplier upstreamEndTrusted;
    private final BooleanSupplier downstreamEndTrusted;
    private final CountDownLatch upEnded = new CountDownLatch(1);
    private final CountDownLatch downEnded = new CountDownLatch(1);
    private volatile End up;
    private volatile End down;
    private volatile Stall stall;
    private volatile String givenUpBecause;
    volatile boolean upWriting;
    /** The client to backend direction carried data: its end is an upload's end (a download's moves nothing). */
    volatile boolean upMoved;
    volatile boolean downWriting;
    /** The backend's final 2xx for this download was read: its clean end is the file's end. */
    private volatile boolean downConfirmed;

    // Guarded by this: the sockets, whether the relay was given up, how many directions splice now.
    private SocketChannel client;
    private SocketChannel backend;
    private boolean givenUp;
    private End givenUpAs;
    private int splicing;

    /**
     * @param upstreamEndTrusted   asked when the client's side ends cleanly: may that end go on to the backend
     *                             (is the client's control connection still there)?
     * @param downstreamEndTrusted the same for the backend's side and the client
     */
    public Flow(BooleanSupplier upstreamEndTrusted, BooleanSupplier downstreamEndTrusted) {
        this.upstreamEndTrusted = upstreamEndTrusted;
        this.downstreamEndTrusted = downstreamEndTrusted;
    }

    /** A flow whose clean ends are always passed on (a control connection relayed in TLS passthrough). */
    public static Flow trustingEnds() {
        return new Flow(() -> true, () -> true);
    }

    /** The relay's sockets; before this, giving up only marks the flow (the relay then ends at once). */
    synchronized void attach(SocketChannel clientSide, SocketChannel backendSide) {
        this.client = clientSide;
        this.backend = backendSide;
        if (givenUp) {
            abortSockets();
        }
    }

    /**
     * Gives the relay up: both sockets are reset (once no direction splices), blocked reads wake, and no
     * end is passed on as clean from now on. {@code why} goes to the session's log line. Idempotent.
     */
    public void giveUp(String why) {
        stop(End.GIVEN_UP, why);
    }

    void timedOut() {
        stall = new Stall(upWriting, downWriting);
        stop(End.TIMEOUT, "no data moved for the data timeout");
    }

    private synchronized void stop(End as, String why) {
        if (givenUp) {
            return;
        }
        givenUp = true;
        givenUpAs = as;
        givenUpBecause = why;
        abortSockets();
    }

    private void abortSockets() {
        if (client == null) {
            return;
        }
        lingerZero(client);
        lingerZero(backend);
        if (splicing == 0) {
            // Wakes every blocked read and write at once, and the peers read a reset.
            Closing.quietly(client);
            Closing.quietly(backend);
        } else {
            shutInput(client);
            shutInput(backend);
        }
    }

    /**
     * Ends a flow that never ran (its data connection could not be made, or a handshake failed): its
     * sockets reset if attached, both directions over and given up, so nobody waits for it.
     */
    public void abandon(String why) {
        giveUp(why);
        ended(true, false, false);
        ended(false, false, false);
    }

    /** Before a direction splices: false when the flow was given up (its sockets may be closed already). */
    synchronized boolean beginSplice() {
        if (givenUp) {
            return false;
        }
        splicing++;
        return true;
    }

    synchronized void endSplice() {
        splicing--;
        if (givenUp && splicing == 0) {
            Closing.quietly(client);
            Closing.quietly(backend);
        }
    }

    synchronized boolean givenUp() {
        return givenUp;
    }

    /**
     * A direction read its sender's clean end: true when that end may be passed on. When the sender's
     * control connection is gone the relay is given up instead (the end may be a death, not a completion).
     *
     * <p>An upload's end (the client to backend direction, once it carried a byte) waits up to {@link
     * PeerEnd#UPLOAD_END_GRACE} for that: a dying client's kernel ends its
     * data and control connections within microseconds, but not always control first (seen in instrumented
     * kills on loopback: the control connection's FIN 75 µs and 383 µs after the data's), and the receiver of an
     * upload (any FTP server) commits the file on the FIN. A download's end is not held for its backend's
     * control connection: the client learns from the final reply, which the balancer gives only when the
     * relay ended cleanly, and every download would pay the wait. Only when the backend's control connection
     * has already ended does it wait (up to {@link #DOWNLOAD_CONFIRM_GRACE}) for the backend's 2xx.
     */
    boolean mayPassEnd(boolean upstream) {
        BooleanSupplier trusted = upstream ? upstreamEndTrusted : downstreamEndTrusted;
        Duration grace = upstream && upMoved ? PeerEnd.UPLOAD_END_GRACE : Duration.ZERO;
        if (!PeerEnd.endedWithin(() -> !trusted.getAsBoolean() || givenUp(), System.nanoTime(), grace)) {
            return !givenUp();
        }
        if (givenUp()) {
            return false;
        }
        // A backend that finished a download and was asked to QUIT meanwhile (RFC 959 §4.1.1) sends 226 and
        // 221 and closes its control connection within microseconds of the data's end: that end is a
        // completion if the 226 came, which the session reads at once.
        if (!upstream && PeerEnd.endedWithin(() -> downConfirmed || givenUp(), System.nanoTime(), DOWNLOAD_CONFIRM_GRACE)
                && downConfirmed) {
            return !givenUp();
        }
        giveUp((upstream ? "client" : "backend") + " control connection ended with the data");
        return false;
    }

    /** The backend's final 2xx for this download came: its clean end may pass whatever its control connection does. */
    public void confirmDown() {
        downConfirmed = true;
    }

    /** Records how a direction ended; {@code failed}: it ended by an error of its own (if not given up). */
    void ended(boolean upstream, boolean clean, boolean failed) {
        End end;
        synchronized (this) {
            end = clean ? End.CLEAN : givenUp ? givenUpAs : End.RESET;
        }
        if (failed && end == End.RESET) {
            giveUp("reset or error on the " + (upstream ? "upstream" : "downstream") + " direction");
        }
        if (upstream) {
            if (up == null) {
                up = end;
            }
            upEnded.countDown();
        } else {
            if (down == null) {
                down = end;
            }
            downEnded.countDown();
        }
    }

    /** How the client -> backend direction ended, or null while it runs. */
    public End up() {
        return up;
    }

    /** How the backend -> client direction ended, or null while it runs. */
    public End down() {
        return down;
    }

    /** Waits at most {@code timeout} for the client -> backend direction; how it ended, or null. */
    public End awaitUp(Duration timeout) {
        await(upEnded, timeout);
        return up;
    }

    /** Waits at most {@code timeout} for the backend -> client direction; how it ended, or null. */
    public End awaitDown(Duration timeout) {
        await(downEnded, timeout);
        return down;
    }

    /** Where the directions were blocked when the data timeout ended the relay; null unless it did. */
    public Stall stall() {
        return stall;
    }

    /** Why the relay was given up, or null. */
    public String givenUpBecause() {
        return givenUpBecause;
    }

    private static void await(CountDownLatch latch, Duration timeout) {
        try {
            latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Makes the socket's close a reset (SO_LINGER 0): its peer reads an error, never end of file. */
    static void lingerZero(SocketChannel c) {
        try {
            if (c != null && c.isOpen()) {
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException | RuntimeException ignored) {
            // closed meanwhile: nothing is sent any more either way
        }
    }

    private static void shutInput(SocketChannel c) {
        try {
            c.shutdownInput();
        } catch (IOException | RuntimeException ignored) {
            // closed or not connected
        }
    }

    /** Resets a socket the balancer gives up on before any relay (RST, never a clean end). */
    public static void reset(SocketChannel c) {
        lingerZero(c);
        Closing.quietly(c);
    }
}
