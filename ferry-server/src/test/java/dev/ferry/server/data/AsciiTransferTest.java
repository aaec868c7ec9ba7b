package dev.ferry.server.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.server.policy.Throttle;
import dev.ferry.server.policy.TokenBucket;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Transfers#send} and {@link Transfers#receive} over a loopback socket pair with 8-byte pool
 * buffers, so that CRLF pairs fall across buffer boundaries again and again. The expected output
 * comes from a byte-by-byte oracle written independently of the code under test.
 */
@Timeout(30)
class AsciiTransferTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private Watchdog watchdog;
    private ServerSocketChannel listener;

    @BeforeEach
    void listen() throws IOException {
        watchdog = new Watchdog("test-watchdog");
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void close() throws IOException {
        listener.close();
        watchdog.close();
    }

    private static byte[] oracleToCrlf(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < data.length; i++) {
            if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) {
                out.write('\r');
            }
            out.write(data[i]);
        }
        return out.toByteArray();
    }

    private static byte[] oracleFromCrlf(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < data.length; i++) {
            if (data[i] == '\r' && i + 1 < data.length && data[i + 1] == '\n') {
                continue;
            }
            out.write(data[i]);
        }
        return out.toByteArray();
    }

    private static byte[] randomText(Random random) {
        byte[] alphabet = {'\r', '\n', '\n', 'a', 'b', ' '};
        byte[] data = new byte[random.nextInt(2000)];
        for (int i = 0; i < data.length; i++) {
            data[i] = alphabet[random.nextInt(alphabet.length)];
        }
        return data;
    }

    private static byte[] readToEnd(SocketChannel channel) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (channel.read(buf) >= 0) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        return out.toByteArray();
    }

    /** Sends over a fresh connection each time, since send's peer must see end-of-stream. */
    private byte[] sendThroughSocket(byte[] data, boolean ascii, BufferPool pool) throws Exception {
        return sendThroughSocket(data, ascii, pool, Throttle.NONE);
    }

    private byte[] sendThroughSocket(byte[] data, boolean ascii, BufferPool pool, Throttle throttle) throws Exception {
        try (SocketChannel receiverSide = SocketChannel.open(listener.getLocalAddress());
             SocketChannel senderSide = listener.accept();
             Watchdog.Guard guard = watchdog.guard(() -> { })) {
            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try {
                    return readToEnd(receiverSide);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            TransferProgress progress = new TransferProgress("test");
            long sent = Transfers.send(Channels.newChannel(new ByteArrayInputStream(data)), senderSide, ascii, pool,
                    guard, TIMEOUT, progress, throttle);
            senderSide.shutdownOutput();
            byte[] result = received.get(10, TimeUnit.SECONDS);
            assertThat(sent).isEqualTo(result.length);
            assertThat(progress.bytes()).isEqualTo(data.length);
            return result;
        }
    }

    private byte[] receiveThroughSocket(byte[] data, boolean ascii, BufferPool pool, Random random) throws Exception {
        return receiveThroughSocket(data, ascii, pool, random, Throttle.NONE);
    }

    private byte[] receiveThroughSocket(byte[] data, boolean ascii, BufferPool pool, Random random, Throttle throttle)
            throws Exception {
        try (SocketChannel writerSide = SocketChannel.open(listener.getLocalAddress());
             SocketChannel readerSide = listener.accept();
             Watchdog.Guard guard = watchdog.guard(() -> { })) {
            long seed = random.nextLong();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                Random pieces = new Random(seed);
                try {
                    for (int at = 0; at < data.length; ) {
                        int n = Math.min(data.length - at, 1 + pieces.nextInt(13));
                        ByteBuffer piece = ByteBuffer.wrap(data, at, n);
                        while (piece.hasRemaining()) {
                            writerSide.write(piece);
                        }
                        at += n;
                    }
                    writerSide.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            ByteArrayOutputStream file = new ByteArrayOutputStream();
            WritableByteChannel out = Channels.newChannel(file);
            TransferProgress progress = new TransferProgress("test");
            long written = Transfers.receive(readerSide, out, ascii, pool, guard, TIMEOUT, progress, throttle);
            writer.get(10, TimeUnit.SECONDS);
            assertThat(written).isEqualTo(file.size());
            assertThat(progress.bytes()).isEqualTo(data.length);
            return file.toByteArray();
        }
    }

    @Test
    void asciiSendConvertsBareLfToCrlfAcrossBufferBoundaries() throws Exception {
        Random random = new Random(11);
        BufferPool pool = new BufferPool(8, 4);
        for (int run = 0; run < 40; run++) {
            byte[] data = randomText(random);
            assertThat(sendThroughSocket(data, true, pool)).as("run %d", run).isEqualTo(oracleToCrlf(data));
        }
    }

    @Test
    void asciiReceiveConvertsCrlfToLfAcrossBufferBoundaries() throws Exception {
        Random random = new Random(12);
        BufferPool pool = new BufferPool(8, 4);
        for (int run = 0; run < 40; run++) {
            byte[] data = randomText(random);
            assertThat(receiveThroughSocket(data, true, pool, random)).as("run %d", run).isEqualTo(oracleFromCrlf(data));
        }
    }

    @Test
    void asciiReceiveKeepsALoneCrAtTheEndOfTheStream() throws Exception {
        BufferPool pool = new BufferPool(8, 4);
        byte[] data = "1234567\r".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        assertThat(receiveThroughSocket(data, true, pool, new Random(1))).isEqualTo(data);
    }

    @Test
    void binaryTransfersAreByteForByte() throws Exception {
        Random random = new Random(13);
        BufferPool pool = new BufferPool(8, 4);
        for (int run = 0; run < 10; run++) {
            byte[] data = new byte[random.nextInt(3000)];
            random.nextBytes(data);
            assertThat(sendThroughSocket(data, false, pool)).as("send run %d", run).isEqualTo(data);
            assertThat(receiveThroughSocket(data, false, pool, random)).as("receive run %d", run).isEqualTo(data);
        }
    }

    /**
     * A bucket of 30 B/s (chunks of 3 bytes) on a clock that stands still, whose waits return at once: the loops
     * run in 3-byte pieces, and the bucket's debt afterwards says how many bytes were taken from it.
     */
    private static final class StillBucket {
        final List<Long> waits = new ArrayList<>();
        final TokenBucket bucket = new TokenBucket(30, () -> 0L, waits::add);
        final Throttle throttle = Throttle.of(bucket);

        /** Bytes taken so far (at least 4): a further 1-byte take waits for all but the 3 of the capacity, and itself. */
        long taken() throws IOException {
            bucket.take(1);
            return Math.round(waits.getLast() * 30 / 1e9) + 3 - 1;
        }
    }

    @Test
    void throttledTransfersConvertTheSameAndTakeWhatGoesOnTheWire() throws Exception {
        Random random = new Random(15);
        BufferPool pool = new BufferPool(8, 4);
        for (int run = 0; run < 20; run++) {
            byte[] data = randomText(random);
            if (data.length < 4) {
                continue;
            }
            StillBucket down = new StillBucket();
            byte[] sent = sendThroughSocket(data, true, pool, down.throttle);
            assertThat(sent).as("send run %d", run).isEqualTo(oracleToCrlf(data));
            assertThat(down.taken()).as("send run %d: the wire's bytes, CRs included", run).isEqualTo(sent.length);

            StillBucket up = new StillBucket();
            assertThat(receiveThroughSocket(data, true, pool, random, up.throttle)).as("receive run %d", run)
                    .isEqualTo(oracleFromCrlf(data));
            assertThat(up.taken()).as("receive run %d: the bytes read", run).isEqualTo(data.length);

            byte[] binary = new byte[data.length];
            random.nextBytes(binary);
            StillBucket both = new StillBucket();
            assertThat(sendThroughSocket(binary, false, pool, both.throttle)).isEqualTo(binary);
            assertThat(receiveThroughSocket(binary, false, pool, random, both.throttle)).isEqualTo(binary);
            assertThat(both.taken()).isEqualTo(2L * binary.length);
        }
    }
}
