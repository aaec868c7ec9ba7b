package dev.ferry.server.session;

import dev.ferry.server.data.TransferProgress;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * A data transfer running on its own virtual thread while the control thread keeps reading, so
 * that ABOR and STAT are answered during the transfer (RFC 959 §4.1.3).
 */
final class Transfer {

    final TransferProgress progress;
    private final Thread thread;
    private volatile boolean aborted;
    private volatile Closeable dataChannel;

    Transfer(TransferProgress progress, Runnable body) {
        this.progress = progress;
        this.thread = Thread.ofVirtual().unstarted(body);
    }

    void start() {
        thread.start();
    }

    /** The channel ABOR must close to stop the copy loop. */
    void attach(Closeable channel) {
        this.dataChannel = channel;
        if (aborted) {
            closeQuietly(channel);
        }
    }

    void abort() {
        aborted = true;
        Closeable c = dataChannel;
        if (c != null) {
            closeQuietly(c);
        }
    }

    boolean aborted() {
        return aborted;
    }

    void join() {
        boolean interrupted = false;
        while (thread.isAlive()) {
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

    boolean isRunning() {
        return thread.isAlive();
    }

    static void closeQuietly(Closeable c) {
        if (c instanceof SocketChannel socket) {
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
        try {
            c.close();
        } catch (IOException ignored) {
            // best effort
        }
    }
}
