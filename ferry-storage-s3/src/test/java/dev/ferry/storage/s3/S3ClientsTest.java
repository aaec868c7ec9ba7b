package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.testkit.S3ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** The HTTP client under the S3 client: what the upload memory bound rests on. */
class S3ClientsTest {

    private static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;

    /**
     * A part's body goes to the socket as it is read, not into a copy first: the JDK's HttpURLConnection buffers
     * a body whose length it was not told (PosterOutputStream), which would cost a second part-size array per
     * part in flight, uncounted by the UploadBudget. The SDK's url-connection client sets fixed-length streaming
     * from Content-Length. Seen from a store that counts the body bytes it has received while the body is
     * still being read. The body is read twice, as S3Clients signs it whole over http: once for its SHA-256 (no
     * store bytes yet, so that read waits its second out), then to send it, the read this test is about.
     */
    @Test
    @Timeout(30)
    void aBodyOfKnownLengthIsStreamedNotBuffered() throws Exception {
        AtomicLong received = new AtomicLong();
        AtomicBoolean seenWhileReading = new AtomicBoolean();
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread store = Thread.ofVirtual().start(() -> answerOnePut(server, received));
            ObjectStore settings = ObjectStore.parseUrl("s3://" + S3ProxyServer.BUCKET + "/srv")
                    .withEndpoint(URI.create("http://127.0.0.1:" + server.getLocalPort())).withPathStyle(true)
                    .withCredentialsFile(UploadFixture.credentials(dir)).withRequestTimeout(Duration.ofSeconds(20));
            int size = 4 * MIB;
            try (S3Client client = S3Clients.build(settings)) {
                // The read of the body waits at 3 MiB until the store has 1 MiB of it, for at most a second: only
                // a streamed send lets it have them by then.
                client.putObject(b -> b.bucket(S3ProxyServer.BUCKET).key("srv/part"), RequestBody.fromContentProvider(
                        () -> new Watched(size, 3 * MIB, () -> {
                            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                            while (received.get() < MIB && System.nanoTime() < until) {
                                Thread.onSpinWait();
                                Thread.yield();
                            }
                            if (received.get() >= MIB) {
                                seenWhileReading.set(true);
                            }
                        }), size, "application/octet-stream"));
            }
            store.join();
        }
        // The body signed whole (S3Clients): no aws-chunked framing, the slack only for a client that adds it.
        assertThat(received.get()).isBetween(4L * MIB, 4L * MIB + 16 * 1024);
        assertThat(seenWhileReading).as("the store had body bytes before the body was read to its end").isTrue();
    }

    /** One PutObject: 100 Continue if asked, the body counted into {@code received}, then 200. */
    private static void answerOnePut(ServerSocket server, AtomicLong received) {
        try (Socket s = server.accept()) {
            s.setSoTimeout(20_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String head = readHead(in);
            long length = -1;
            for (String line : head.split("\r\n")) {
                String lower = line.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
                if (lower.startsWith("expect:") && lower.contains("100-continue")) {
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
            byte[] buf = new byte[64 * 1024];
            while (received.get() < length) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, length - received.get()));
                if (n < 0) {
                    break;
                }
                received.addAndGet(n);
            }
            out.write("HTTP/1.1 200 OK\r\nETag: \"0\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4 && head.size() < 64 * 1024) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the request's head ended");
            }
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /** {@code size} zero bytes that run {@code atMark} once when the reader reaches {@code mark}. */
    private static final class Watched extends InputStream {
        private final long size;
        private final long mark;
        private final Runnable atMark;
        private long at;

        Watched(long size, long mark, Runnable atMark) {
            this.size = size;
            this.mark = mark;
            this.atMark = atMark;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (at >= size) {
                return -1;
            }
            if (at == mark) {
                atMark.run();
            }
            // Stop at the mark, so that it is reached exactly.
            long end = at < mark ? Math.min(mark, at + len) : Math.min(size, at + len);
            int n = (int) (end - at);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            at = end;
            return n;
        }
    }
}
