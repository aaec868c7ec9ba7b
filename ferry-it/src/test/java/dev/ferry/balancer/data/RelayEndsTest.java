package dev.ferry.balancer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.Watchdog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How a relay passes ends on, over real loopback sockets, copied and spliced: FIN becomes FIN, a reset becomes
 * a reset, a FIN whose sender's control connection has gone becomes a reset, and a relay given up (data
 * timeout, the session) resets both sides. The peers are told apart by what their reads see: end of file
 * (-1) or an error. In ferry-it, in the balancer's package: the spliced variants need ferry-runtime's
 * multi-release jar (KernelSplice), which only a module depending on the packaged jars gets.
 */
class RelayEndsTest {

    /** Bulk enough that a splicing relay splices the rest (Relay.SPLICE_AFTER is 1 MiB). */
    private static final int BULK = 3 << 20;

    private final Watchdog watchdog = new Watchdog("relay-test");
    private final BufferPool pool = new BufferPool(64 * 1024, 8);
    private final AtomicBoolean clientControlOpen = new AtomicBoolean(true);
    private final AtomicBoolean backendControlOpen = new AtomicBoolean(true);
    private final AtomicLong up = new AtomicLong();
    private final AtomicLong down = new AtomicLong();
    private SocketChannel clientPeer;   // the FTP client's data socket
    private SocketChannel clientSide;   // the balancer's socket towards it
    private SocketChannel backendSide;  // the balancer's socket towards the backend
    private SocketChannel backendPeer;  // the backend's data socket
    private Flow flow;
    private Thread relay;

    @BeforeEach
    void connect() throws IOException {
        SocketChannel[] c = pair();
        clientPeer = c[0];
        clientSide = c[1];
        SocketChannel[] b = pair();
        backendSide = b[0];
        backendPeer = b[1];
        flow = new Flow(clientControlOpen::get, backendControlOpen::get);
    }

    @AfterEach
    void close() throws Exception {
        if (relay != null) {
            relay.join(10_000);
        }
        for (SocketChannel s : new SocketChannel[] {clientPeer, clientSide, backendSide, backendPeer}) {
            s.close();
        }
        watchdog.close();
    }

    private void start(boolean splice, Duration timeout) {
        relay = Thread.ofVirtual().start(() -> Relay.run(clientSide, backendSide, pool, watchdog, timeout,
                up::addAndGet, down::addAndGet, flow, splice));
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("dev.ferry.balancer.data.RelayTest#modes")
    void anUploadsFinReachesTheBackendAsFin(boolean splice) throws Exception {
        start(splice, Duration.ofSeconds(10));
        Thread sender = Thread.ofVirtual().start(() -> send(clientPeer, BULK, true));
        assertThat(readToEnd(backendPeer)).isEqualTo(BULK);
        sender.join();
        assertThat(flow.awaitUp(Duration.ofSeconds(5))).isEqualTo(Flow.End.CLEAN);
        backendPeer.shutdownOutput();
        assertThat(readToEnd(clientPeer)).isZero();
        relay.join(5_000);
        assertThat(flow.down()).isEqualTo(Flow.End.CLEAN);
        assertThat(up.get()).isEqualTo(BULK);
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("dev.ferry.balancer.data.RelayTest#modes")
    void aClientsResetMidUploadReachesTheBackendAsAReset(boolean splice) throws Exception {
        start(splice, Duration.ofSeconds(10));
        send(clientPeer, BULK, false);
        reset(clientPeer);
        assertThatThrownBy(() -> readToEnd(backendPeer)).isInstanceOf(IOException.class);
        assertThat(flow.awaitUp(Duration.ofSeconds(5))).isEqualTo(Flow.End.RESET);
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("dev.ferry.balancer.data.RelayTest#modes")
    void anUploadsFinAfterItsClientsControlConnectionEndedIsAReset(boolean splice) throws Exception {
        start(splice, Duration.ofSeconds(10));
        send(clientPeer, BULK, false);
        // The client died: its kernel ended the control connection and the data connection alike.
        clientControlOpen.set(false);
        clientPeer.shutdownOutput();
        assertThatThrownBy(() -> readToEnd(backendPeer)).isInstanceOf(IOException.class);
        assertThat(flow.awaitUp(Duration.ofSeconds(5))).isEqualTo(Flow.End.GIVEN_UP);
        assertThat(flow.givenUpBecause()).contains("client control connection");
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("dev.ferry.balancer.data.RelayTest#modes")
    void aBackendsResetMidDownloadReachesTheClientAsAReset(boolean splice) throws Exception {
        start(splice, Duration.ofSeconds(10));
        send(backendPeer, BULK, false);
        reset(backendPeer);
        assertThatThrownBy(() -> readToEnd(clientPeer)).isInstanceOf(IOException.class);
        assertThat(flow.awaitDown(Duration.ofSeconds(5))).isEqualTo(Flow.End.RESET);
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("dev.ferry.balancer.data.RelayTest#modes")
    void aDownloadsFinAfterItsBackendsControlConnectionEndedIsAReset(boolean splice) throws Exception {
        start(splice, Duration.ofSeconds(10));
        send(backendPeer, BULK, false);
        backendControlOpen.set(false);
        backendPeer.shutdownOutput();
        assertThatThrownBy(() -> readToEnd(clientPeer)).isInstanceOf(IOException.class);
        assertThat(flow.awaitDown(Duration.ofSeconds(5))).isEqualTo(Flow.End.GIVEN_UP);
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("dev.ferry.balancer.data.RelayTest#modes")
    void aStalledDownloadIsResetOnBothSidesAtTheDataTimeout(boolean splice) throws Exception {
        start(splice, Duration.ofMillis(500));
        send(backendPeer, BULK, false);
        // The backend stops sending; the client has read everything.
        assertThatThrownBy(() -> readToEnd(clientPeer)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> readToEnd(backendPeer)).isInstanceOf(IOException.class);
        assertThat(flow.awaitDown(Duration.ofSeconds(5))).isEqualTo(Flow.End.TIMEOUT);
        assertThat(flow.stall()).as("blocked reading from the backend, not writing to the client")
                .isEqualTo(new Flow.Stall(false, false));
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("dev.ferry.balancer.data.RelayTest#modes")
    void aClientThatStopsReadingIsSeenWriting(boolean splice) throws Exception {
        clientPeer.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
        start(splice, Duration.ofMillis(700));
        Thread sender = Thread.ofVirtual().start(() -> {
            try {
                send(backendPeer, 64 << 20, false);
            } catch (RuntimeException expected) {
                // reset by the relay's give-up
            }
        });
        assertThat(flow.awaitDown(Duration.ofSeconds(10))).isEqualTo(Flow.End.TIMEOUT);
        assertThat(flow.stall().downWriting()).isTrue();
        sender.join(10_000);
    }

    @ParameterizedTest(name = "splice={0}")
    @MethodSource("dev.ferry.balancer.data.RelayTest#modes")
    void givingUpResetsBothSides(boolean splice) throws Exception {
        start(splice, Duration.ofSeconds(10));
        send(clientPeer, BULK, false);
        flow.giveUp("session ended");
        assertThatThrownBy(() -> readToEnd(backendPeer)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> readToEnd(clientPeer)).isInstanceOf(IOException.class);
        relay.join(5_000);
        assertThat(flow.up()).isEqualTo(Flow.End.GIVEN_UP);
        assertThat(flow.down()).isEqualTo(Flow.End.GIVEN_UP);
    }

    private static SocketChannel[] pair() throws IOException {
        try (ServerSocketChannel l = ServerSocketChannel.open()) {
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel a = SocketChannel.open(l.getLocalAddress());
            return new SocketChannel[] {a, l.accept()};
        }
    }

    private static void send(SocketChannel to, int bytes, boolean end) {
        try {
            ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            int left = bytes;
            while (left > 0) {
                b.clear().limit(Math.min(b.capacity(), left));
                while (b.hasRemaining()) {
                    left -= to.write(b);
                }
            }
            if (end) {
                to.shutdownOutput();
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Reads until end of file and returns the count; an error (a reset) is thrown. Bounded by a 10 s read timeout. */
    private static long readToEnd(SocketChannel from) throws IOException {
        from.socket().setSoTimeout(10_000);
        var in = from.socket().getInputStream();
        byte[] b = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(b)) >= 0; ) {
            total += n;
        }
        return total;
    }

    private static void reset(SocketChannel c) throws IOException {
        c.setOption(StandardSocketOptions.SO_LINGER, 0);
        c.close();
    }
}
