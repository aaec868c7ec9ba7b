package dev.ferry.testkit;

import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.Connection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.function.BooleanSupplier;

/**
 * A control connection made of two in-memory pipes, one per direction, with fixed addresses. The
 * session holds the server ends (through {@link Connection}); the test client holds the other two.
 * Shutting the input closes the client's writing end, so the session's blocked read sees end of
 * stream while its replies still reach the client, as with a socket's shutdownInput.
 */
public final class PipeConnection implements Connection {

    private final Pipe toServer;
    private final Pipe toClient;
    private final InetSocketAddress local;
    private final InetSocketAddress remote;
    /** What {@link #peerEnded()} answers: the test decides when the client's end of the connection is gone. */
    private volatile BooleanSupplier peerEnded = () -> false;

    public PipeConnection(InetSocketAddress local, InetSocketAddress remote) throws IOException {
        this.toServer = Pipe.open();
        this.toClient = Pipe.open();
        this.local = local;
        this.remote = remote;
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
        return toServer.source().read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return toClient.sink().write(src);
    }

    @Override
    public boolean isOpen() {
        return toServer.source().isOpen() && toClient.sink().isOpen();
    }

    @Override
    public boolean peerEnded() {
        return peerEnded.getAsBoolean();
    }

    /** From now on {@link #peerEnded()} asks {@code answer}. */
    public void peerEnded(BooleanSupplier answer) {
        this.peerEnded = answer;
    }

    @Override
    public void shutdownInput() {
        Closing.quietly(toServer.sink());
    }

    @Override
    public void close() throws IOException {
        try {
            toServer.source().close();
        } finally {
            toClient.sink().close();
        }
    }

    /** Where the client writes its commands. */
    public WritableByteChannel clientOutput() {
        return toServer.sink();
    }

    /** Where the client reads the replies. */
    public ReadableByteChannel clientInput() {
        return toClient.source();
    }

    /** The client hangs up. */
    public void closeClientEnds() {
        Closing.quietly(toServer.sink());
        Closing.quietly(toClient.source());
    }

}
