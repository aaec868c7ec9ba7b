package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Data connections under stress (raw sockets). In every shape ({@link Shape}): a data connection stolen by
 * another address, ABOR before the passive connection came, QUIT during a transfer. Against one ferry server
 * (local files, or on S3), its own limits: passive accept timeout, passive port exhaustion, transfers slower
 * than the idle timeout, and clients that stop moving data.
 */
class DataConnectionTest {

    /** ferry server's own limits and timeouts ({@link ServerLimits}). */
    @Nested
    class Direct extends ServerLimits {
        Direct() {
            super(Shape.DIRECT);
        }
    }

    @Nested
    class Balanced extends Tests {
        Balanced() {
            super(Shape.BALANCED);
        }
    }

    /**
     * The same limits with the files on S3, where a transfer is a stream of requests to the store: a download the
     * client stops reading, and an upload it stops sending (whose multipart upload must be given up, keeping the
     * old object), end the same way.
     */
    @Nested
    class ObjectStore extends ServerLimits {
        ObjectStore() {
            super(Shape.OBJECT_STORE);
        }
    }

    /** ferry server's own limits and timeouts: in the shapes with one server, whose settings a test restarts it with. */
    abstract static class ServerLimits extends Tests {
        ServerLimits(Shape shape) {
            super(shape);
        }

        private static ServerSettings.Limits limits(ServerSettings s, Duration idle, Duration data) {
            ServerSettings.Limits l = s.limits();
            return new ServerSettings.Limits(l.maxSessions(), l.maxSessionsPerAddress(), idle, data,
                    l.maxCommandLength(), l.loginTimeout());
        }

        private void sparseFile(String name, long size) throws IOException {
            try (RandomAccessFile f = new RandomAccessFile(ferry.root().resolve(name).toFile(), "rw")) {
                f.setLength(size);
            }
        }

        @Test
        void aPassiveListenerNobodyConnectsToGives425AfterTheAcceptTimeout() throws Exception {
            ferry.server().restart(s -> s.withPassive(FerryServerExtension.passiveAcceptTimeout(s.passive(), Duration.ofSeconds(1))));
            try (RawFtp ftp = RawFtp.loggedIn(ferry)) {
                ftp.pasv();
                assertThat(ftp.command("LIST").toString()).isEqualTo("425 No data connection received within 1 s.");
                ftp.command("NOOP", 200);
                // The listener is gone: its port no longer accepts connections.
                assertThat(ftp.command("LIST").toString()).isEqualTo("425 Use PORT, PASV, EPRT or EPSV first.");
            }
        }

        @Test
        void anExhaustedPassiveRangeGives425AtOnce() throws Exception {
            int only = TestData.freePort();
            // The accept timeout stays long: a 425 that waited for it would take 30 s.
            ferry.server().restart(s -> s.withPassive(FerryServerExtension.passiveAcceptTimeout(
                    s.passive().withPorts(only, only), Duration.ofSeconds(30))));
            try (RawFtp first = RawFtp.loggedIn(ferry);
                 RawFtp second = RawFtp.loggedIn(ferry)) {
                InetSocketAddress taken = first.pasv();
                assertThat(taken.getPort()).isEqualTo(only);

                long start = System.nanoTime();
                assertThat(second.command("PASV").toString()).isEqualTo("425 No passive port available; try again later.");
                assertThat(second.command("EPSV").code()).isEqualTo(425);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));

                // Once the first session's data connection is accepted the port returns to the range.
                try (Socket data = new Socket(taken.getAddress(), taken.getPort())) {
                    first.command("NLST", 150);
                    data.getInputStream().readAllBytes();
                }
                first.expect(226);
                assertThat(second.pasv().getPort()).isEqualTo(only);
            }
        }


        /**
         * The idle timeout is about the control connection being silent with nothing going on; a transfer
         * slower than it must run to its 226. The client reads at a pace that makes the download last
         * about 3 s, with a small receive buffer so the server cannot finish early into socket buffers.
         */
        @Test
        void aTransferLongerThanTheIdleTimeoutCompletes() throws Exception {
            ferry.server().restart(s -> s.withLimits(limits(s, Duration.ofSeconds(1), Duration.ofMinutes(1))));
            int size = 16 << 20;
            byte[] content = TestData.randomFile(ferry.root().resolve("long.bin"), size, 62);
            long paceMillis = 3_000;
            try (RawFtp ftp = RawFtp.loggedIn(ferry)) {
                ftp.command("TYPE I", 200);
                InetSocketAddress address = ftp.pasv();
                try (Socket data = new Socket()) {
                    data.setReceiveBufferSize(16 * 1024);
                    data.connect(address, 5_000);
                    ftp.command("RETR long.bin", 150);
                    long opened = System.nanoTime();
                    // The control side: wait for 226, then answer at once so the session is not idle afterwards.
                    CompletableFuture<List<String>> control = CompletableFuture.supplyAsync(() -> {
                        try {
                            RawFtp.Reply done = ftp.reply();
                            long transferMillis = (System.nanoTime() - opened) / 1_000_000;
                            RawFtp.Reply noop = ftp.command("NOOP");
                            return List.of(done.toString(), noop.toString(), Long.toString(transferMillis));
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    });
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    InputStream in = data.getInputStream();
                    byte[] buffer = new byte[16 * 1024];
                    long total = 0;
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        md.update(buffer, 0, n);
                        total += n;
                        long dueNanos = opened + total * paceMillis * 1_000_000 / size;
                        long wait = dueNanos - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(Duration.ofNanos(wait));
                        }
                    }
                    assertThat(total).isEqualTo(size);
                    assertThat(HexFormat.of().formatHex(md.digest())).isEqualTo(TestData.sha256(content));
                    List<String> replies = control.get(20, TimeUnit.SECONDS);
                    assertThat(replies.get(0)).isEqualTo("226 Transfer complete (16777216 bytes).");
                    assertThat(replies.get(1)).isEqualTo("200 NOOP ok.");
                    // The test proves something only if the server-side transfer outlasted the idle timeout.
                    assertThat(Long.parseLong(replies.get(2))).as("transfer duration in ms").isGreaterThan(1_500);
                }
            }
        }

        @Test
        void aDownloadTheClientStopsReadingEndsWith426AfterTheDataTimeout() throws Exception {
            ferry.server().restart(s -> s.withLimits(limits(s, Duration.ofMinutes(5), Duration.ofSeconds(1))));
            sparseFile("huge.bin", 256L << 20);
            try (RawFtp ftp = RawFtp.loggedIn(ferry)) {
                ftp.command("TYPE I", 200);
                InetSocketAddress address = ftp.pasv();
                try (Socket data = new Socket(address.getAddress(), address.getPort())) {
                    ftp.command("RETR huge.bin", 150);
                    data.getInputStream().readNBytes(1000);
                    // ...and nothing more is read.
                    assertThat(ftp.reply().toString()).isEqualTo("426 Data connection timed out; transfer aborted.");
                }
                ftp.command("NOOP", 200);
            }
        }

        @Test
        void anUploadTheClientStopsSendingEndsWith426AndKeepsTheOldFile() throws Exception {
            ferry.server().restart(s -> s.withLimits(limits(s, Duration.ofMinutes(5), Duration.ofSeconds(1))));
            byte[] old = TestData.randomFile(ferry.root().resolve("doc.bin"), 100_000, 63);
            try (RawFtp ftp = RawFtp.loggedIn(ferry)) {
                ftp.command("TYPE I", 200);
                InetSocketAddress address = ftp.pasv();
                try (Socket data = new Socket(address.getAddress(), address.getPort())) {
                    ftp.command("STOR doc.bin", 150);
                    data.getOutputStream().write(new byte[10_000]);
                    assertThat(ftp.reply().toString()).isEqualTo("426 Data connection timed out; transfer aborted.");
                }
                assertThat(TestData.sha256(ferry.root().resolve("doc.bin"))).isEqualTo(TestData.sha256(old));
                ftp.command("NOOP", 200);
            }
        }
    }


    abstract static class Tests {

        @RegisterExtension
        final ShapeExtension ferry;

        Tests(Shape shape) {
            ferry = new ShapeExtension(shape);
        }

        @Test
        void aborWhileTheServerWaitsForThePassiveConnection() throws Exception {
            Files.writeString(ferry.root().resolve("w.txt"), "waiting");
            try (RawFtp ftp = RawFtp.loggedIn(ferry)) {
                ftp.pasv();
                ftp.send("RETR w.txt");
                ftp.send("ABOR");
                assertThat(ftp.reply().toString()).isEqualTo("426 Transfer aborted.");
                assertThat(ftp.reply().toString()).isEqualTo("226 ABOR successful.");
                ftp.command("NOOP", 200);
            }
        }

        @Test
        void quitDuringATransferIsAnsweredAfterIt() throws Exception {
            byte[] content = TestData.randomFile(ferry.root().resolve("q.bin"), 3_000_000, 64);
            try (RawFtp ftp = RawFtp.loggedIn(ferry)) {
                ftp.command("TYPE I", 200);
                InetSocketAddress address = ftp.pasv();
                try (Socket data = new Socket(address.getAddress(), address.getPort())) {
                    ftp.command("RETR q.bin", 150);
                    ftp.send("QUIT");
                    // RFC 959 §4.1.1: QUIT during a transfer waits for it; the data arrives complete.
                    assertThat(TestData.sha256(data.getInputStream().readAllBytes())).isEqualTo(TestData.sha256(content));
                }
                assertThat(ftp.reply().code()).isEqualTo(226);
                assertThat(ftp.reply().toString()).isEqualTo("221 Goodbye.");
                assertThat(ftp.closedByServer()).isTrue();
            }
        }

        @ParameterizedTest(name = "{0} bytes")
        @ValueSource(ints = {1_000, 400_000})
        void aDataConnectionFromAnotherAddressIsRefusedAndTheClientStillGetsItsData(int size) throws Exception {
            InetAddress other = TestData.secondLoopback();
            byte[] content = TestData.randomFile(ferry.root().resolve("d.bin"), size, 61);
            try (RawFtp ftp = RawFtp.loggedIn(ferry)) {
                ftp.command("TYPE I", 200);
                InetSocketAddress advertised = ftp.pasv();
                assertThat(advertised.getAddress().getHostAddress()).isEqualTo(ferry.host());
                // The thief connects first (RFC 2577 §6, port stealing), from 127.0.0.2; the client is 127.0.0.1.
                // It may be reset at once, even before its connect returns: then it surely got nothing.
                try (Socket thief = new Socket()) {
                    thief.bind(new InetSocketAddress(other, 0));
                    try {
                        thief.connect(advertised, 5_000);
                        thief.setSoTimeout(10_000);
                    } catch (SocketException reset) {
                        thief.close();
                    }
                    ftp.send("RETR d.bin");
                    try (Socket data = new Socket(advertised.getAddress(), advertised.getPort())) {
                        ftp.expect(150);
                        assertThat(TestData.sha256(data.getInputStream().readAllBytes())).isEqualTo(TestData.sha256(content));
                    }
                    ftp.expect(226);
                    assertThat(readAll(thief)).as("bytes the thief received").isEmpty();
                }
            }
        }

        private static byte[] readAll(Socket s) {
            if (s.isClosed()) {
                return new byte[0];
            }
            try {
                return s.getInputStream().readAllBytes();
            } catch (IOException reset) {
                return new byte[0];
            }
        }
    }
}
