package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.net.PeerEnd;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * When an upload's data connection ends cleanly, the session looks at the control connection before it
 * commits: a client killed mid-upload ends both at once, and its data connection's FIN is then not the end
 * of a file. The control connection is in memory and the test decides what {@code peerEnded} answers; the
 * data connections are real loopback sockets.
 */
@Timeout(20)
class SessionUploadEndTest {

    private static final Pattern EPSV_REPLY = Pattern.compile("229 Entering Extended Passive Mode \\(\\|\\|\\|(\\d+)\\|\\)");
    private static final String OLD = "0123456789 old content";
    private static final FileTime OLD_TIME = FileTime.from(Instant.parse("2020-01-02T03:04:05Z"));
    private static final String NOT_STORED = "426 Control connection closed during the upload; nothing was stored.";

    @TempDir
    Path root;
    private InMemoryServer server;
    private ControlClient c;

    @BeforeEach
    void start() throws Exception {
        Files.writeString(root.resolve("doc.txt"), OLD);
        Files.setLastModifiedTime(root.resolve("doc.txt"), OLD_TIME);
        server = new InMemoryServer(InMemoryServer.settings(root));
        c = server.loggedIn("alice");
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.close();
    }

    /** Sends {@code command} (after {@code before}, if any) and writes {@code bytes} on a data connection it then closes cleanly. */
    private String upload(String before, String command, String bytes) throws Exception {
        if (before != null) {
            assertThat(c.command(before)).startsWith("350 ");
        }
        Matcher m = EPSV_REPLY.matcher(c.command("EPSV"));
        assertThat(m.matches()).isTrue();
        try (SocketChannel data = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                Integer.parseInt(m.group(1))))) {
            c.send(command);
            String opening = c.replyLine();
            assertThat(opening).startsWith("150 ");
            ByteBuffer buffer = ByteBuffer.wrap(bytes.getBytes(StandardCharsets.UTF_8));
            while (buffer.hasRemaining()) {
                data.write(buffer);
            }
        }
        return c.replyLine();
    }

    @Test
    void anUploadWhoseControlConnectionEndedWithItsDataIsNotStored() throws Exception {
        c.peerEnded(() -> true);

        assertThat(upload(null, "STOR doc.txt", "partial")).isEqualTo(NOT_STORED);

        assertUntouched();
    }

    /** The flush before the rename takes time, in which a client's last FIN arrives: it is looked at once more then. */
    @Test
    void theControlConnectionIsAskedAgainAtTheCommit() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        c.peerEnded(() -> asked.incrementAndGet() > 1);

        assertThat(upload(null, "STOR doc.txt", "partial")).isEqualTo(NOT_STORED);

        assertThat(asked).hasValue(2);
        assertUntouched();
    }

    /**
     * A dying client's control connection may end a little after its data connection: until UPLOAD_END_GRACE
     * after the data's end, the commit still looks, however fast the flush was.
     */
    @Test
    void aControlConnectionThatEndsJustAfterTheDataStopsTheCommit() throws Exception {
        AtomicLong firstAsked = new AtomicLong();
        c.peerEnded(() -> {
            firstAsked.compareAndSet(0, System.nanoTime());
            return System.nanoTime() - firstAsked.get() > PeerEnd.UPLOAD_END_GRACE.toNanos() / 2;
        });

        assertThat(upload(null, "STOR doc.txt", "partial")).isEqualTo(NOT_STORED);

        assertUntouched();
    }

    @Test
    void anUploadWithItsControlConnectionOpenIsStored() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        c.peerEnded(() -> {
            asked.incrementAndGet();
            return false;
        });

        assertThat(upload(null, "STOR doc.txt", "new")).isEqualTo("226 Transfer complete (3 bytes).");

        assertThat(root.resolve("doc.txt")).hasContent("new");
        assertThat(asked).as("before the commit, and at it for the grace").hasValueGreaterThanOrEqualTo(2);
        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
    }

    /** In-place uploads are undone: the old length (and, for REST before the end, the old bytes) come back. */
    @ParameterizedTest
    @ValueSource(strings = {"APPE doc.txt", "REST 4|STOR doc.txt", "REST 22|STOR doc.txt", "STOU doc.txt"})
    void inPlaceUploadsWhoseControlConnectionEndedAreUndone(String commands) throws Exception {
        String[] parts = commands.split("\\|");
        c.peerEnded(() -> true);

        assertThat(upload(parts.length == 2 ? parts[0] : null, parts[parts.length - 1], "partial")).isEqualTo(NOT_STORED);

        assertUntouched();
    }

    @ParameterizedTest
    @ValueSource(strings = {"APPE doc.txt", "REST 4|STOR doc.txt", "STOU doc.txt"})
    void inPlaceUploadsUndoneAtTheCommit(String commands) throws Exception {
        String[] parts = commands.split("\\|");
        AtomicInteger asked = new AtomicInteger();
        c.peerEnded(() -> asked.incrementAndGet() > 1);

        assertThat(upload(parts.length == 2 ? parts[0] : null, parts[parts.length - 1], "partial")).isEqualTo(NOT_STORED);

        assertUntouched();
    }

    @Test
    void restBeforeTheEndStoresTheNewEndWhenTheControlConnectionIsOpen() throws Exception {
        assertThat(upload("REST 4", "STOR doc.txt", "XY")).isEqualTo("226 Transfer complete (2 bytes).");

        assertThat(root.resolve("doc.txt")).hasContent("0123XY");
        assertThat(localNames()).containsExactly("doc.txt");
    }

    /**
     * A bug below the transfer (here a commit that throws an unchecked exception) still gets the client a final
     * reply, and nothing is stored: the body's finish aborts the upload.
     */
    @Test
    void anUncheckedFailureAtTheCommitIsAnswered451AndStoresNothing() throws Exception {
        server.close();
        server = new InMemoryServer(InMemoryServer.settings(root), new dev.ferry.server.fs.StorageEngine() {
            @Override
            public dev.ferry.server.fs.Storage forHome(Path home) throws IOException {
                return failingCommits(new dev.ferry.server.fs.LocalStorage(home));
            }

            @Override
            public dev.ferry.server.fs.Storage forPrivateUploads(Path home) throws IOException {
                return forHome(home);
            }

            @Override
            public String describe() {
                return "test";
            }
        });
        c = server.loggedIn("alice");

        assertThat(upload(null, "STOR doc.txt", "new content")).isEqualTo("451 Local error: /doc.txt could not be stored.");

        assertUntouched();
        assertThat(c.command("NOOP")).as("the session goes on").startsWith("200 ");
    }

    /** {@code local}, whose uploads' commit throws IllegalStateException (the shape of a bug in a ledger or engine). */
    private static dev.ferry.server.fs.Storage failingCommits(dev.ferry.server.fs.Storage local) {
        return (dev.ferry.server.fs.Storage) java.lang.reflect.Proxy.newProxyInstance(
                dev.ferry.server.fs.Storage.class.getClassLoader(), new Class<?>[] {dev.ferry.server.fs.Storage.class},
                (proxy, method, args) -> {
                    Object result = invoke(method, local, args);
                    if (result instanceof dev.ferry.server.fs.Upload upload) {
                        return java.lang.reflect.Proxy.newProxyInstance(dev.ferry.server.fs.Upload.class.getClassLoader(),
                                new Class<?>[] {dev.ferry.server.fs.Upload.class}, (p, m, a) -> {
                                    if (m.getName().equals("commit")) {
                                        throw new IllegalStateException("a bug below the transfer");
                                    }
                                    return invoke(m, upload, a);
                                });
                    }
                    return result;
                });
    }

    private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private void assertUntouched() throws IOException {
        assertThat(root.resolve("doc.txt")).hasContent(OLD);
        assertThat(Files.getLastModifiedTime(root.resolve("doc.txt"))).isEqualTo(OLD_TIME);
        assertThat(localNames()).as("no temp file, no STOU file").containsExactly("doc.txt");
    }

    private List<String> localNames() throws IOException {
        try (Stream<Path> files = Files.list(root)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
