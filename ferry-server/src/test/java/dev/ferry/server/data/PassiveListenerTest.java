package dev.ferry.server.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The data-connection address check (RFC 2577 §6, port stealing) with real loopback sockets: Linux
 * routes all of 127.0.0.0/8 to the loopback interface, so a client bound to 127.0.0.2 plays the
 * other host.
 */
@Timeout(10)
class PassiveListenerTest {

    private static final InetAddress CLIENT = InetAddress.getLoopbackAddress();
    private static final InetAddress STRANGER = address(127, 0, 0, 2);

    private final PassivePorts ports = new PassivePorts(0, 0);
    private final List<InetSocketAddress> refused = new CopyOnWriteArrayList<>();
    private PassiveListener listener;

    private static InetAddress address(int... b) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) b[0], (byte) b[1], (byte) b[2], (byte) b[3]});
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeEach
    void listen() throws IOException {
        listener = ports.open(CLIENT);
    }

    @AfterEach
    void close() {
        listener.close();
    }

    private SocketChannel connectFrom(InetAddress source) throws IOException {
        SocketChannel channel = SocketChannel.open();
        channel.bind(new InetSocketAddress(source, 0));
        channel.connect(new InetSocketAddress(CLIENT, listener.port()));
        return channel;
    }

    @Test
    void aConnectionFromAnotherAddressIsRefusedAndTheClientsIsReturned() throws IOException {
        try (SocketChannel stranger = connectFrom(STRANGER); SocketChannel client = connectFrom(CLIENT);
             SocketChannel accepted = listener.accept(CLIENT, 5_000, refused::add)) {

            assertThat(accepted).isNotNull();
            assertThat(accepted.getRemoteAddress()).isEqualTo(client.getLocalAddress());
            assertThat(refused).containsExactly((InetSocketAddress) stranger.getLocalAddress());
            assertThat(stranger.read(ByteBuffer.allocate(1))).as("the stranger's connection is closed").isEqualTo(-1);
        }
        assertThat(listener.isOpen()).as("served: kept for the session's next PASV").isTrue();
        assertThat(ports.inUse()).isEqualTo(1);
        listener.close();
        assertThat(ports.inUse()).isZero();
    }

    @Test
    void aServedListenerServesTheNextPasvOnTheSamePortAndOneConnectionEach() throws IOException {
        try (SocketChannel first = connectFrom(CLIENT); SocketChannel accepted = listener.accept(CLIENT, 5_000, refused::add)) {
            assertThat(accepted.getRemoteAddress()).isEqualTo(first.getLocalAddress());
        }
        assertThat(listener.reuse()).isTrue();
        assertThat(listener.reuse()).as("taken up once per served connection").isFalse();
        try (SocketChannel second = connectFrom(CLIENT); SocketChannel accepted = listener.accept(CLIENT, 5_000, refused::add)) {
            assertThat(accepted.getRemoteAddress()).isEqualTo(second.getLocalAddress());
        }
        assertThat(refused).isEmpty();
    }

    // SECURITY: RFC 2577 §6 (port stealing) holds on a reused port: a stranger who learnt it gets nothing.
    @Test
    void aReusedListenerStillRefusesAConnectionFromAnotherAddress() throws IOException {
        try (SocketChannel first = connectFrom(CLIENT); SocketChannel accepted = listener.accept(CLIENT, 5_000, refused::add)) {
            assertThat(accepted).isNotNull();
        }
        assertThat(listener.reuse()).isTrue();
        try (SocketChannel stranger = connectFrom(STRANGER); SocketChannel client = connectFrom(CLIENT);
             SocketChannel accepted = listener.accept(CLIENT, 5_000, refused::add)) {

            assertThat(accepted.getRemoteAddress()).isEqualTo(client.getLocalAddress());
            assertThat(refused).containsExactly((InetSocketAddress) stranger.getLocalAddress());
            assertThat(stranger.read(ByteBuffer.allocate(1))).as("the stranger's connection is closed").isEqualTo(-1);
        }
    }

    /** A connection that came before the new PASV (a late one for an earlier route) is not the new transfer's. */
    @Test
    void connectionsWaitingWhenTheListenerIsReusedAreClosedNotHandedOut() throws IOException {
        try (SocketChannel first = connectFrom(CLIENT); SocketChannel accepted = listener.accept(CLIENT, 5_000, refused::add)) {
            assertThat(accepted).isNotNull();
        }
        try (SocketChannel unasked = connectFrom(CLIENT)) {
            assertThat(listener.reuse()).isTrue();
            assertThat(readOrReset(unasked)).as("the unasked connection is closed").isEqualTo(-1);
            try (SocketChannel asked = connectFrom(CLIENT); SocketChannel accepted = listener.accept(CLIENT, 5_000, refused::add)) {
                assertThat(accepted.getRemoteAddress()).isEqualTo(asked.getLocalAddress());
            }
        }
    }

    private static int readOrReset(SocketChannel channel) {
        try {
            return channel.read(ByteBuffer.allocate(1));
        } catch (IOException reset) {
            return -1;
        }
    }

    @Test
    void aListenerThatServedNothingIsNotReused() throws IOException {
        assertThat(listener.reuse()).as("never served").isFalse();
        assertThat(listener.accept(CLIENT, 100, refused::add)).isNull();
        assertThat(listener.reuse()).as("timed out: closed").isFalse();
        assertThat(listener.isOpen()).isFalse();
        assertThat(ports.inUse()).isZero();
    }

    @Test
    void nullAfterTheTimeoutWhenOnlyStrangersConnect() throws IOException {
        try (SocketChannel stranger = connectFrom(STRANGER)) {
            SocketChannel accepted = listener.accept(CLIENT, 300, refused::add);

            assertThat(accepted).isNull();
            assertThat(refused).containsExactly((InetSocketAddress) stranger.getLocalAddress());
        }
        assertThat(listener.isOpen()).isFalse();
    }

    @Test
    void nullAfterTheTimeoutWhenNobodyConnects() throws IOException {
        assertThat(listener.accept(CLIENT, 300, refused::add)).isNull();
        assertThat(refused).isEmpty();
        assertThat(listener.isOpen()).isFalse();
    }

    @Test
    void noWaitAtAllWithoutTimeLeft() throws IOException {
        assertThat(listener.accept(CLIENT, 0, refused::add)).isNull();
        assertThat(listener.isOpen()).isFalse();
    }
}
