package dev.ferry.server.data;

import dev.ferry.runtime.net.Closing;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * One transfer, on its own virtual thread while the control thread keeps reading, so that ABOR and STAT
 * are answered during it (RFC 959 §4.1.3); or run on the control thread itself (see
 * {@link TransferPlan#inline()}), in which case no thread is made.
 */
public final class Transfer {

    public final TransferProgress progress;
    private Thread thread;
    private volatile boolean aborted;
    private volatile Closeable dataChannel;

    Transfer(TransferProgress progress) {
        this.progress = progress;
    }

    void start(Runnable body) {
        thread = Thread.ofVirtual().start(body);
    }

    /** The channel ABOR must close to stop the copy loop. */
    void attach(Closeable channel) {
        this.dataChannel = channel;
        if (aborted) {
            stop(channel);
        }
    }

    public void abort() {
        aborted = true;
        progress.abort();
        Closeable c = dataChannel;
        if (c != null) {
            stop(c);
        }
    }

    public boolean aborted() {
        return aborted;
    }

    public void join() {
        boolean interrupted = false;
        while (isRunning()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean isRunning() {
        return thread != null && thread.isAlive();
    }

    /** Closes a data channel so that a thread blocked on it wakes up. */
    static void stop(Closeable c) {
        // A socket already closed (every transfer's normal end closes it before this cleanup) has nothing
        // to wake, and shutdownOutput would only throw: a ClosedChannelException with its stack trace per file.
        if (c instanceof SocketChannel socket && socket.isOpen()) {
            // A thread blocked in FileChannel.transferTo (sendfile) to this socket is not woken by
            // close(): the kernel keeps the socket alive until the peer reads. Shutting down output
            // wakes it with an error, so ABOR and the data timeout also stop a download the client
            // stopped reading. Not input: a blocked upload read would see a clean end of file and
            // commit a partial upload; close() below makes that read fail instead.
            try {
                socket.shutdownOutput();
            } catch (IOException | RuntimeException notConnectedOrClosed) {
                // nothing to wake
            }
        }
        Closing.quietly(c);
    }
}
