package dev.ferry.balancer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.KernelSplice;
import dev.ferry.runtime.net.Watchdog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The relay over real loopback sockets, both ways it can run: both directions byte-exact, each end
 * passed on as a half close, and a stalled relay ended by the data timeout. It lives in ferry-it
 * (in the relay's package) because only here ferry-runtime comes as its multi-release jar, whose
 * Java 22+ KernelSplice really splices.
 */
class RelayTest {

    /** Copy always; splice where this JVM can (Linux, Java 22+, the argLine's flags). */
    static Stream<Boolean> modes() {
        return KernelSplice.unavailableReason() == null ? Stream.of(false, true) : Stream.of(false);
    }

    private Watchdog watchdog;
    private final BufferPool pool = new BufferPool(64 * 1024, 4);

    @BeforeEach
    void start() {
        watchdog = new Watchdog("relay-test-watchdog");
    }

    @AfterEach
    void stop() {
        watchdog.close();
    }

    /** Two connected pairs: (clientOuter, clientInner) and (backendInner, backendOuter); the relay joins the inner ends. */
    private record Pairs(SocketChannel clientOuter, SocketChannel clientInner, SocketChannel backendInner, SocketChannel backendOuter) {}

    private static SocketChannel[] pair() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel a = SocketChannel.open(server.getLocalAddress());
            SocketChannel b = server.accept();
            return new SocketChannel[] {a, b};
        }
    }

    private static Pairs pairs() throws IOException {
        SocketChannel[] c = pair();
        SocketChannel[] b = pair();
        return new Pairs(c[0], c[1], b[0], b[1]);
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("modes")
    void relaysBothDirectionsByteExactAndPassesEachEndOn(boolean splice) throws Exception {
        Pairs p = pairs();
        byte[] download = random(3_000_000, 1);
        byte[] upload = random(1_234_567, 2);
        AtomicLong up = new AtomicLong();
        AtomicLong down = new AtomicLong();
        long splicedBefore = Relay.splicedDirections();
        Thread relay = Thread.ofVirtual().start(() -> Relay.run(p.clientInner(), p.backendInner(), pool, watchdog,
                Duration.ofSeconds(10), up::addAndGet, down::addAndGet, Flow.trustingEnds(), splice));
        Thread backendWriter = Thread.ofVirtual().start(() -> writeAndShut(p.backendOuter(), download));
        Thread clientWriter = Thread.ofVirtual().start(() -> writeAndShut(p.clientOuter(), upload));
        byte[] clientGot = readAll(p.clientOuter());
        byte[] backendGot = readAll(p.backendOuter());
        backendWriter.join();
        clientWriter.join();
        relay.join(10_000);

        assertThat(relay.isAlive()).isFalse();
        assertThat(clientGot).isEqualTo(download);
        assertThat(backendGot).isEqualTo(upload);
        assertThat(down.get()).isEqualTo(download.length);
        assertThat(up.get()).isEqualTo(upload.length);
        assertThat(Relay.splicedDirections() - splicedBefore).as("directions spliced").isEqualTo(splice ? 2 : 0);
        p.clientOuter().close();
        p.backendOuter().close();
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("modes")
    void aRelayOnWhichNothingMovesEndsAfterTheDataTimeout(boolean splice) throws Exception {
        Pairs p = pairs();
        Thread relay = Thread.ofVirtual().start(() -> Relay.run(p.clientInner(), p.backendInner(), pool, watchdog,
                Duration.ofMillis(200), n -> { }, n -> { }, Flow.trustingEnds(), splice));
        relay.join(10_000);
        assertThat(relay.isAlive()).as("relay still running after its data timeout").isFalse();
        assertThat(p.clientInner().isOpen()).isFalse();
        assertThat(p.backendInner().isOpen()).isFalse();
        p.clientOuter().close();
        p.backendOuter().close();
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("modes")
    void aBulkTransferThatStallsEndsAfterTheDataTimeout(boolean splice) throws Exception {
        Pairs p = pairs();
        byte[] first = random((int) (3 * Relay.SPLICE_AFTER), 3);
        AtomicLong down = new AtomicLong();
        long splicedBefore = Relay.splicedDirections();
        Thread relay = Thread.ofVirtual().start(() -> Relay.run(p.clientInner(), p.backendInner(), pool, watchdog,
                Duration.ofMillis(300), n -> { }, down::addAndGet, Flow.trustingEnds(), splice));
        // The backend sends a bulk transfer's first megabytes, then falls silent without closing.
        ByteBuffer b = ByteBuffer.wrap(first);
        while (b.hasRemaining()) {
            p.backendOuter().write(b);
        }
        ByteBuffer got = ByteBuffer.allocate(first.length);
        while (got.hasRemaining()) {
            if (p.clientOuter().read(got) < 0) {
                break;
            }
        }
        assertThat(got.array()).isEqualTo(first);
        relay.join(10_000);
        assertThat(relay.isAlive()).as("relay still running after its data timeout").isFalse();
        assertThat(down.get()).isEqualTo(first.length);
        assertThat(Relay.splicedDirections() - splicedBefore).as("directions spliced").isEqualTo(splice ? 1 : 0);
        // Given up, so reset: a client must never take a stalled transfer's end for the end of its file.
        assertThatThrownBy(() -> p.clientOuter().read(ByteBuffer.allocate(1))).as("the client is reset").isInstanceOf(IOException.class);
        p.clientOuter().close();
        p.backendOuter().close();
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void writeAndShut(SocketChannel c, byte[] data) {
        try {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                c.write(b);
            }
            c.shutdownOutput();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] readAll(SocketChannel c) throws IOException {
        InputStream in = java.nio.channels.Channels.newInputStream(c);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }
}
