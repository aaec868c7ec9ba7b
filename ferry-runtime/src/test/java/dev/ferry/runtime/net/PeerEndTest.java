package dev.ferry.runtime.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real loopback sockets: what the kernel tells PeerEnd about a connection, and that asking reads nothing. */
class PeerEndTest {

    private ServerSocketChannel listener;
    private SocketChannel near;
    private SocketChannel far;

    @BeforeEach
    void connect() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        far = SocketChannel.open(listener.getLocalAddress());
        near = listener.accept();
    }

    @AfterEach
    void close() throws IOException {
        near.close();
        far.close();
        listener.close();
    }

    @Test
    void worksInTheTestJvm() {
        // The build's test JVM opens sun.nio.ch as the ferry jar's manifest does: without it every check would
        // answer "open" and the tests below could not tell.
        assertThat(PeerEnd.unavailableReason()).isNull();
    }

    @Test
    void anOpenConnectionIsNotEnded() {
        assertThat(PeerEnd.seen(near)).isFalse();
    }

    @Test
    void bytesWaitingAreNotAnEndAndAreNotConsumed() throws IOException {
        far.write(ByteBuffer.wrap("QUIT\r\n".getBytes()));
        assertThat(PeerEnd.seen(near)).isFalse();
        ByteBuffer in = ByteBuffer.allocate(16);
        assertThat(eventually(() -> readSome(in) > 0)).isTrue();
        assertThat(new String(in.array(), 0, in.position())).isEqualTo("QUIT\r\n");
    }

    @Test
    void thePeersFinIsSeen() throws IOException {
        far.shutdownOutput();
        assertThat(eventually(() -> PeerEnd.seen(near))).isTrue();
    }

    @Test
    void aFinBehindUnreadBytesIsSeen() throws IOException {
        far.write(ByteBuffer.wrap("NOOP\r\n".getBytes()));
        far.close();
        assertThat(eventually(() -> PeerEnd.seen(near))).isTrue();
    }

    @Test
    void thePeersResetIsSeen() throws IOException {
        far.setOption(StandardSocketOptions.SO_LINGER, 0);
        far.close();
        assertThat(eventually(() -> PeerEnd.seen(near))).isTrue();
    }

    @Test
    void ourOwnShutdownAndCloseCount() throws IOException {
        near.shutdownInput();
        assertThat(PeerEnd.seen(near)).isTrue();
        near.close();
        assertThat(PeerEnd.seen(near)).isTrue();
    }

    private int readSome(ByteBuffer in) {
        try {
            near.configureBlocking(false);
            return near.read(in);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Loopback delivers at once, but the test must not depend on when: up to 2 s. */
    private static boolean eventually(BooleanSupplier condition) {
        long until = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < until) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.onSpinWait();
        }
        return condition.getAsBoolean();
    }
}
