package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.net.KernelSplice;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.data.Transfers;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Quota;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Binary uploads into local files past their first MiB, where {@link Transfers#receiveToFile} splices the data
 * connection into the file (Linux, Java 22+; elsewhere the same tests run the copying loop): the bytes arrive
 * exactly, at the right offset, and every guarantee of the copying loop holds: a reset commits nothing, a quota
 * passed mid-splice is a 552 and nothing is stored, a client that stalls meets the data timeout. The control
 * connection is in memory; the data connections are real loopback sockets.
 */
@Timeout(60)
class SplicedUploadTest {

    private static final Pattern EPSV_REPLY = Pattern.compile("229 .*\\(\\|\\|\\|(\\d+)\\|\\)");
    private static final int MIB = 1 << 20;

    @TempDir
    Path root;
    private InMemoryServer server;
    private ControlClient c;

    private void start(ServerSettings settings) throws Exception {
        server = new InMemoryServer(settings);
        c = server.loggedIn("alice");
    }

    private void start() throws Exception {
        start(InMemoryServer.settings(root));
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** A data connection for the next transfer command (EPSV), after {@code command} got its 150. */
    private SocketChannel open(String command) throws Exception {
        Matcher m = EPSV_REPLY.matcher(c.command("EPSV"));
        assertThat(m.matches()).isTrue();
        SocketChannel data = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                Integer.parseInt(m.group(1))));
        c.send(command);
        assertThat(c.replyLine()).startsWith("150 ");
        return data;
    }

    /**
     * Writes {@code bytes} in pieces of varying size, now and then pausing so that the server finds nothing waiting
     * (and waits in an ordinary read between splices).
     */
    private static void send(SocketChannel data, byte[] bytes, int from, int to, long seed) throws Exception {
        Random random = new Random(seed);
        int at = from;
        while (at < to) {
            int piece = Math.min(to - at, 1 + random.nextInt(random.nextBoolean() ? 4096 : 700 * 1024));
            ByteBuffer buffer = ByteBuffer.wrap(bytes, at, piece);
            while (buffer.hasRemaining()) {
                data.write(buffer);
            }
            at += piece;
            if (random.nextInt(8) == 0) {
                Thread.sleep(random.nextInt(20));
            }
        }
    }

    private String upload(String command, byte[] bytes) throws Exception {
        try (SocketChannel data = open(command)) {
            send(data, bytes, 0, bytes.length, bytes.length);
        }
        return c.replyLine();
    }

    @Test
    void aStorOfSeveralMiBArrivesByteForByteAndIsSpliced() throws Exception {
        start();
        long splicedBefore = Transfers.splicedUploads();
        byte[] bytes = random(9 * MIB + 12345, 1);

        assertThat(upload("STOR big.bin", bytes)).isEqualTo("226 Transfer complete (" + bytes.length + " bytes).");

        assertThat(Files.readAllBytes(root.resolve("big.bin"))).isEqualTo(bytes);
        long spliced = Transfers.splicedUploads() - splicedBefore;
        if (KernelSplice.unavailableReason() == null) {
            assertThat(spliced).as("spliced: Linux, Java 22+").isGreaterThanOrEqualTo(1);
        } else {
            assertThat(spliced).as("copied: %s", KernelSplice.unavailableReason()).isZero();
        }
    }

    /** REST n + STOR writes from byte n of the file: the splice writes at the file's position, not at 0. */
    @Test
    void aRestartedStorSplicesFromItsOffset() throws Exception {
        start();
        byte[] old = random(3 * MIB, 2);
        Files.write(root.resolve("resumed.bin"), old);
        byte[] rest = random(5 * MIB + 7, 3);

        assertThat(c.command("REST " + MIB)).startsWith("350 ");
        assertThat(upload("STOR resumed.bin", rest)).startsWith("226 ");

        byte[] expected = Arrays.copyOf(old, MIB + rest.length);
        System.arraycopy(rest, 0, expected, MIB, rest.length);
        assertThat(Files.readAllBytes(root.resolve("resumed.bin"))).isEqualTo(expected);
    }

    /** APPE opens its file for appending, which splice(2) refuses: it copies, and the bytes land at the end. */
    @Test
    void anAppendCopiesAndLandsAtTheEnd() throws Exception {
        start();
        byte[] old = random(MIB + 3, 4);
        Files.write(root.resolve("log.bin"), old);
        byte[] more = random(3 * MIB, 5);

        assertThat(upload("APPE log.bin", more)).startsWith("226 ");

        byte[] expected = Arrays.copyOf(old, old.length + more.length);
        System.arraycopy(more, 0, expected, old.length, more.length);
        assertThat(Files.readAllBytes(root.resolve("log.bin"))).isEqualTo(expected);
    }

    /** A client reset after several MiB: 426, the new file never appears, the replaced one keeps its bytes. */
    @Test
    void aResetMidUploadCommitsNothing() throws Exception {
        start();
        byte[] old = random(1000, 6);
        Files.write(root.resolve("kept.bin"), old);
        byte[] bytes = random(6 * MIB, 7);

        for (String name : List.of("new.bin", "kept.bin")) {
            SocketChannel data = open("STOR " + name);
            send(data, bytes, 0, 4 * MIB, 8);
            // a reset, not a FIN: SO_LINGER 0
            data.setOption(StandardSocketOptions.SO_LINGER, 0);
            data.close();

            assertThat(c.replyLine()).isEqualTo(Replies.DATA_CONNECTION_LOST.toString());
        }
        assertThat(root.resolve("new.bin")).doesNotExist();
        assertThat(Files.readAllBytes(root.resolve("kept.bin"))).isEqualTo(old);
        assertThat(leftovers()).isEmpty();
    }

    /**
     * A quota passed while the upload splices: 552, and nothing is stored. 3 MiB of quota against 12 MiB sent, so
     * the refusal comes well after the first (copied) MiB; a file that fits is stored whole.
     */
    @Test
    void aQuotaPassedMidSpliceIs552AndStoresNothing() throws Exception {
        ServerSettings base = InMemoryServer.settings(root);
        start(base.withUsers(List.of(new UserAccount("alice", InMemoryServer.HASH, null, true, true)
                .withPolicy(AccountPolicy.NONE.withQuota(new Quota(3L * MIB, 10)))), null));
        byte[] bytes = random(12 * MIB, 9);

        try (SocketChannel data = open("STOR big.bin")) {
            // The server reads and drops what follows a refusal (to a bound), so the client gets to its end.
            send(data, bytes, 0, bytes.length, 10);
        }
        assertThat(c.replyLine()).isEqualTo("552 Quota exceeded (3145728 bytes, 10 files): /big.bin was not stored.");
        assertThat(root.resolve("big.bin")).doesNotExist();
        assertThat(leftovers()).isEmpty();

        byte[] fits = Arrays.copyOf(bytes, 3 * MIB - 1);
        assertThat(upload("STOR fits.bin", fits)).startsWith("226 ");
        assertThat(Files.readAllBytes(root.resolve("fits.bin"))).isEqualTo(fits);
    }

    /**
     * ABOR while the upload splices and the client keeps sending: the transfer ends at once (426, then 226), not when
     * the client stops, and nothing is stored. The splice reads a duplicate of the socket's descriptor, which the
     * channel's close does not reach: the loop itself must notice the close.
     */
    @Test
    void anAborMidSpliceEndsTheTransferWhileTheClientStillSends() throws Exception {
        start();
        byte[] bytes = random(4 * MIB, 13);
        try (SocketChannel data = open("STOR aborted.bin")) {
            send(data, bytes, 0, bytes.length, 14);
            Thread sender = Thread.ofVirtual().start(() -> {
                // bounded: at most 20 s or 2 GiB, ended by the server's close (a write fails) or the test's
                ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                try {
                    for (int i = 0; i < 32_768 && System.nanoTime() < deadline; i++) {
                        chunk.clear();
                        data.write(chunk);
                    }
                } catch (IOException closed) {
                    // the server closed the data connection: what ABOR does
                }
            });
            Thread.sleep(200);
            long start = System.nanoTime();
            c.send("ABOR");

            assertThat(c.replyLine()).startsWith("426 ");
            assertThat(c.replyLine()).startsWith("226 ");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            data.close();
            sender.join(Duration.ofSeconds(25));
        }
        assertThat(root.resolve("aborted.bin")).doesNotExist();
        assertThat(leftovers()).isEmpty();
    }

    /** A client that stops sending (but keeps the connection) mid-upload: the data timeout ends it, nothing stored. */
    @Test
    void aStalledClientMeetsTheDataTimeout() throws Exception {
        ServerSettings base = InMemoryServer.settings(root);
        start(base.withLimits(base.limits().withDataTimeout(Duration.ofSeconds(1))));
        byte[] bytes = random(3 * MIB, 11);

        try (SocketChannel data = open("STOR stalled.bin")) {
            send(data, bytes, 0, bytes.length, 12);
            long start = System.nanoTime();

            assertThat(c.replyLine()).isEqualTo(Replies.DATA_CONNECTION_TIMED_OUT.toString());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(900));
            // the server closed its end: the client's next write (or the one after) fails
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100; i++) {
                    data.write(ByteBuffer.allocate(64 * 1024));
                    Thread.sleep(10);
                }
            }).isInstanceOf(IOException.class);
        }
        assertThat(root.resolve("stalled.bin")).doesNotExist();
        assertThat(leftovers()).isEmpty();
    }

    /** Temp files of uploads (hidden names) left in the root. */
    private List<Path> leftovers() throws IOException {
        try (Stream<Path> files = Files.list(root)) {
            return files.filter(p -> p.getFileName().toString().startsWith(".")).toList();
        }
    }
}
