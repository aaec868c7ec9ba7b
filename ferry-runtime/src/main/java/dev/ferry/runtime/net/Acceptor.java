package dev.ferry.runtime.net;

import dev.ferry.runtime.log.EventLog;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Semaphore;

/**
 * The accept loop of a control-connection listener, shared by the server and the balancer.
 *
 * <p>Design (after Helidon SE): take a permit, accept, prepare the socket for a control
 * connection, hand it to the handler, which owns it from then on and calls {@code release} exactly
 * once when the connection has ended. Permits bound the number of live connections; when they run
 * out the loop waits and new connects queue in the kernel's backlog instead of being accepted.
 */
public final class Acceptor {

    /** Takes over an accepted control connection; must call {@code release} once when it ends. */
    @FunctionalInterface
    public interface Handler {
        void accept(SocketChannel channel, Runnable release) throws IOException;
    }

    private final ServerSocketChannel listener;
    private final Semaphore permits;
    private final Handler handler;
    private final EventLog log;
    private final Thread thread;
    private volatile boolean stopping;

    /** @param log the owning daemon's log, so that accept failures are logged under its name and node */
    public Acceptor(String name, ServerSocketChannel listener, int permits, Handler handler, EventLog log) {
        this.listener = listener;
        this.permits = new Semaphore(permits);
        this.handler = handler;
        this.log = log;
        this.thread = Thread.ofPlatform().name(name).unstarted(this::loop);
    }

    public void start() {
        thread.start();
    }

    /** Stops accepting; the owner closes the listener. */
    public void stop() {
        stopping = true;
        thread.interrupt();
    }

    private void loop() {
        while (!stopping) {
            try {
                permits.acquire();
            } catch (InterruptedException e) {
                break;
            }
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (ClosedChannelException e) {
                permits.release();
                break;
            } catch (IOException e) {
                permits.release();
                // EMFILE and friends: log, back off briefly, keep serving the connections we have.
                log.warn("accept-failed").with("error", e.toString()).log();
                pause();
                continue;
            }
            try {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                // Clients send ABOR's Telnet Synch as TCP urgent data (RFC 959 §4.1.3): ftplib the whole
                // "ABOR\r\n", lftp and BSD ftp one IAC. Without OOBINLINE that byte vanishes from the
                // stream and the command arrives garbled or never ends; inline, the reader strips it.
                channel.socket().setOOBInline(true);
                handler.accept(channel, permits::release);
            } catch (IOException | RuntimeException e) {
                permits.release();
                log.debug("accept-setup-failed").with("error", e.toString()).log();
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // already broken
                }
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
