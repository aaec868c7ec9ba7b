package dev.ferry.runtime.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.testkit.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The engine-driven TLS channel against the JDK's TLS client, over loopback sockets. */
class TlsChannelTest {

    /** One thread per step: the common pool may have a single worker on a small machine. */
    private static final java.util.concurrent.Executor VIRTUAL = r -> Thread.ofVirtual().start(r);
    private static TlsEndpoint tls;
    private ServerSocketChannel listener;
    private SocketChannel serverSide;
    private SSLSocket client;
    /** The TCP socket under {@link #client}, to end the connection without close_notify. */
    private Socket clientRaw;

    @BeforeEach
    void connect() throws Exception {
        if (tls == null) {
            tls = TlsEndpoint.create(identity(TestCertificates.fresh("EC")), SessionReuse.PREFERRED);
        }
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void close() throws IOException {
        if (client != null) {
            client.close();
        }
        if (serverSide != null) {
            serverSide.close();
        }
        listener.close();
    }

    /** Accepts one connection, runs both handshakes, returns the server's channel ({@code compact}: control style). */
    private TlsChannel handshake(boolean compact, String protocol) throws Exception {
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        CompletableFuture<SSLSocket> connected = CompletableFuture.supplyAsync(() -> {
            try {
                clientRaw = new Socket(InetAddress.getLoopbackAddress(), port);
                SSLSocket s = (SSLSocket) TestCertificates.trustAll().getSocketFactory().createSocket(clientRaw, "127.0.0.1", port, true);
                s.setEnabledProtocols(new String[] {protocol});
                s.startHandshake();
                return s;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, VIRTUAL);
        serverSide = listener.accept();
        TlsChannel channel = new TlsChannel(serverSide, tls.controlEngine(), compact);
        channel.handshake();
        client = connected.join();
        return channel;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void carriesMegabytesBothWaysAtOnce(String protocol) throws Exception {
        TlsChannel channel = handshake(false, protocol);
        byte[] up = random(3_000_001, 1);
        byte[] down = random(2_000_003, 2);

        CompletableFuture<byte[]> clientReads = CompletableFuture.supplyAsync(() -> {
            try {
                return client.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, VIRTUAL);
        CompletableFuture<Void> clientWrites = CompletableFuture.runAsync(() -> {
            try {
                client.getOutputStream().write(up);
                // Both directions move at once above; the client ends its side only after it has read the
                // server's: under TLS 1.2 a close_notify closes both directions of the receiving engine
                // (RFC 5246 §7.2.1), so an earlier one would cut the server's download short.
                clientReads.join();
                client.shutdownOutput();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, VIRTUAL);
        CompletableFuture<Void> serverWrites = CompletableFuture.runAsync(() -> {
            try {
                ByteBuffer b = ByteBuffer.wrap(down);
                while (b.hasRemaining()) {
                    channel.write(b);
                }
                channel.shutdownOutput();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, VIRTUAL);
        byte[] received = readAll(channel);

        assertThat(Arrays.equals(received, up)).isTrue();
        assertThat(channel.endedCleanly()).isTrue();
        serverWrites.join();
        clientWrites.join();
        assertThat(Arrays.equals(clientReads.join(), down)).isTrue();
        assertThat(channel.session().getProtocol()).isEqualTo(protocol);
    }

    /**
     * An upload's reader hands over a direct buffer that it empties only when full, so the room left for
     * a record shrinks below a record's size between reads: every byte still arrives, in order.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void readsIntoPartlyFilledDirectBuffersInOrder(String protocol) throws Exception {
        TlsChannel channel = handshake(false, protocol);
        byte[] up = random(1_500_007, 4);
        CompletableFuture<Void> clientWrites = CompletableFuture.runAsync(() -> {
            try {
                client.getOutputStream().write(up);
                client.shutdownOutput();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, VIRTUAL);
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        // 40,000 bytes: room for two records, then a remainder too small for one (through the channel's buffer)
        ByteBuffer b = ByteBuffer.allocateDirect(40_000);
        int reads = 0;
        int n;
        while ((n = channel.read(b)) >= 0) {
            assertThat(n).isPositive();
            reads++;
            if (!b.hasRemaining()) {
                drain(b, all);
            }
        }
        drain(b, all);
        clientWrites.join();

        assertThat(Arrays.equals(all.toByteArray(), up)).isTrue();
        assertThat(channel.endedCleanly()).isTrue();
        assertThat(reads).as("records of at most 16 KiB, one per read").isGreaterThanOrEqualTo(up.length / 16_384);
    }

    private static void drain(ByteBuffer b, java.io.ByteArrayOutputStream to) {
        b.flip();
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        to.write(chunk, 0, chunk.length);
        b.clear();
    }

    @Test
    void anEndWithoutCloseNotifyIsNotClean() throws Exception {
        TlsChannel channel = handshake(false, "TLSv1.3");
        client.getOutputStream().write(random(50_000, 3));
        client.getOutputStream().flush();
        clientRaw.shutdownOutput();

        assertThat(readAll(channel)).hasSize(50_000);
        assertThat(channel.endedCleanly()).isFalse();
    }

    @Test
    void compactBuffersGrowForBigRecordsAndAreDroppedWhenIdle() throws Exception {
        TlsChannel channel = handshake(true, "TLSv1.3");
        client.getOutputStream().write(random(40_000, 4));
        client.getOutputStream().flush();

        ByteBuffer one = ByteBuffer.allocate(1);
        assertThat(channel.read(one)).isEqualTo(1);
        assertThat(channel.hasBufferedInput()).isTrue();
        assertThat(channel.releaseBuffers()).as("never while bytes wait").isFalse();
        ByteBuffer rest = ByteBuffer.allocate(39_999);
        while (rest.hasRemaining()) {
            channel.read(rest);
        }
        assertThat(channel.hasBufferedInput()).isFalse();
        assertThat(channel.releaseBuffers()).isTrue();

        client.getOutputStream().write("NOOP\r\n".getBytes());
        client.getOutputStream().flush();
        ByteBuffer line = ByteBuffer.allocate(64);
        assertThat(channel.read(line)).isEqualTo(6);
    }

    @Test
    void aClientThatSpeaksNoTlsFailsTheHandshake() throws Exception {
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), port)) {
            plain.getOutputStream().write("USER alice\r\n".getBytes());
            serverSide = listener.accept();
            TlsChannel channel = new TlsChannel(serverSide, tls.controlEngine(), true);
            assertThatThrownBy(channel::handshake).isInstanceOf(javax.net.ssl.SSLException.class);
        }
    }

    @Test
    void aClientWithoutAModernCipherSuiteIsRefused() throws Exception {
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        CompletableFuture<Throwable> connected = CompletableFuture.supplyAsync(() -> {
            try (SSLSocket s = (SSLSocket) TestCertificates.trustAll().getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
                s.setEnabledProtocols(new String[] {"TLSv1.2"});
                s.setEnabledCipherSuites(new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"});
                s.startHandshake();
                return null;
            } catch (IOException e) {
                return e;
            }
        }, VIRTUAL);
        serverSide = listener.accept();
        TlsChannel channel = new TlsChannel(serverSide, tls.controlEngine(), true);

        assertThatThrownBy(channel::handshake).isInstanceOf(SSLHandshakeException.class);
        assertThat(connected.join()).as("the client hears the refusal").isInstanceOf(IOException.class);
    }

    private static byte[] readAll(TlsChannel channel) throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        while (channel.read(b) >= 0) {
            b.flip();
            all.write(b.array(), 0, b.limit());
            b.clear();
        }
        return all.toByteArray();
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static TlsIdentity identity(TestCertificates.Identity made) {
        return new TlsIdentity(made.key(), made.chain(), "test", false);
    }
}
