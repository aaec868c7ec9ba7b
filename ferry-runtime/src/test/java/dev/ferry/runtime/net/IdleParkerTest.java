package dev.ferry.runtime.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The idle parker over real loopback sockets: a parked channel comes back on a virtual thread, blocking again. */
@Timeout(20)
class IdleParkerTest {

    private ServerSocketChannel listener;
    private IdleParker parker;

    @BeforeEach
    void open() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        parker = new IdleParker("test-idle-parker");
    }

    @AfterEach
    void close() throws IOException {
        parker.close();
        listener.close();
    }

    /** A connected pair: [0] the server's side, [1] the client's. */
    private SocketChannel[] pair() throws IOException {
        SocketChannel client = SocketChannel.open(listener.getLocalAddress());
        SocketChannel server = listener.accept();
        return new SocketChannel[] {server, client};
    }

    /** What the resumed session sees: its thread and the first bytes it reads, after switching back to blocking. */
    private record Resumed(boolean virtual, String read) {}

    private static CompletableFuture<Resumed> parkAndRead(IdleParker parker, SocketChannel channel) throws IOException {
        CompletableFuture<Resumed> resumed = new CompletableFuture<>();
        channel.configureBlocking(false);
        parker.park(channel, () -> {
            try {
                // The selector API requires the key to be gone before this succeeds: the parker's promise.
                channel.configureBlocking(true);
                ByteBuffer buf = ByteBuffer.allocate(64);
                int n = channel.read(buf);
                resumed.complete(new Resumed(Thread.currentThread().isVirtual(),
                        n < 0 ? "<eof>" : new String(buf.array(), 0, n, StandardCharsets.US_ASCII)));
            } catch (IOException | RuntimeException e) {
                resumed.completeExceptionally(e);
            }
        });
        return resumed;
    }

    @Test
    void aParkedChannelResumesOnAVirtualThreadWhenItsPeerSpeaks() throws Exception {
        SocketChannel[] p = pair();
        try (SocketChannel server = p[0]; SocketChannel client = p[1]) {
            CompletableFuture<Resumed> resumed = parkAndRead(parker, server);
            Thread.sleep(100);
            assertThat(resumed).isNotDone();

            client.write(ByteBuffer.wrap("NOOP\r\n".getBytes(StandardCharsets.US_ASCII)));

            assertThat(resumed.get(5, TimeUnit.SECONDS)).isEqualTo(new Resumed(true, "NOOP\r\n"));
        }
    }

    @Test
    void manyParkedChannelsEachResumeOnceAndOnlyTheOneThatSpoke() throws Exception {
        int count = 50;
        SocketChannel[][] pairs = new SocketChannel[count][];
        @SuppressWarnings("unchecked")
        CompletableFuture<Resumed>[] resumed = new CompletableFuture[count];
        try {
            for (int i = 0; i < count; i++) {
                pairs[i] = pair();
                resumed[i] = parkAndRead(parker, pairs[i][0]);
            }
            pairs[7][1].write(ByteBuffer.wrap("QUIT\r\n".getBytes(StandardCharsets.US_ASCII)));
            assertThat(resumed[7].get(5, TimeUnit.SECONDS).read()).isEqualTo("QUIT\r\n");
            Thread.sleep(100);
            for (int i = 0; i < count; i++) {
                if (i != 7) {
                    assertThat(resumed[i]).as("session %d", i).isNotDone();
                }
            }
        } finally {
            for (SocketChannel[] p : pairs) {
                if (p != null) {
                    p[0].close();
                    p[1].close();
                }
            }
        }
    }

    @Test
    void shuttingTheInputWakesAParkedSessionWhichThenReadsEof() throws Exception {
        SocketChannel[] p = pair();
        try (SocketChannel server = p[0]; SocketChannel client = p[1]) {
            CompletableFuture<Resumed> resumed = parkAndRead(parker, server);

            // What a stop or the idle timeout does to a parked session (Session.close, the watchdog).
            server.shutdownInput();

            assertThat(resumed.get(5, TimeUnit.SECONDS)).isEqualTo(new Resumed(true, "<eof>"));
        }
    }

    @Test
    void closingTheParkerGivesEveryParkedSessionItsThreadBack() throws Exception {
        SocketChannel[] p = pair();
        try (SocketChannel server = p[0]; SocketChannel client = p[1]) {
            CompletableFuture<Resumed> resumed = parkAndRead(parker, server);
            Thread.sleep(100);

            parker.close();
            client.write(ByteBuffer.wrap("X".getBytes(StandardCharsets.US_ASCII)));

            assertThat(resumed.get(5, TimeUnit.SECONDS).virtual()).isTrue();
        }
    }

    @Test
    void aChannelParkedAfterTheParkerClosedResumesAtOnce() throws Exception {
        SocketChannel[] p = pair();
        try (SocketChannel server = p[0]; SocketChannel client = p[1]) {
            parker.close();
            CompletableFuture<Resumed> resumed = parkAndRead(parker, server);
            client.write(ByteBuffer.wrap("Y".getBytes(StandardCharsets.US_ASCII)));

            assertThat(resumed.get(5, TimeUnit.SECONDS).read()).isEqualTo("Y");
        }
    }
}
