package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.server.FtpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Temp files of uploads that a crash of the server cut short: {@code ./ferry server} (a process of its
 * own) killed with kill -9 in the middle of a STOR leaves its hidden temp file; the next start removes it,
 * and then uploads and RMD of its directory work. Several servers may share one root ({@code ferry
 * cluster}, a fleet on NFS): a starting server removes only leftovers, never the temp file of an upload
 * another server process, or another server in its own JVM, is writing.
 */
@Timeout(value = 400, unit = TimeUnit.SECONDS)
class ServerCrashUploadTest {

    /** Generous: the launcher builds the jar itself when run outside a full build. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);
    private static final int MB = 1024 * 1024;

    private Path work;
    private Path root;
    private Path clientDir;
    private Process server;

    @BeforeEach
    void directories() throws IOException {
        work = Files.createTempDirectory("ferry-it-crash-");
        root = Files.createDirectories(work.resolve("root"));
        clientDir = Files.createDirectories(work.resolve("client"));
    }

    @AfterEach
    void stop() throws Exception {
        Launcher.stop(server);
        FerryServerExtension.deleteTree(work);
    }

    /** {@code ./ferry server} on 127.0.0.2:{@code port} serving the root; returns once it listens. */
    private Process startServer(int port, String stderr) throws Exception {
        return Launcher.start(work, work.resolve(stderr), START_TIMEOUT, "server", "--listen", "127.0.0.2:" + port,
                "--root", root.toString(), "--user", FerryServerExtension.USER + ":" + FerryServerExtension.PASSWORD).process();
    }

    @Test
    void aTempFileLeftByAKilledServerIsRemovedAtTheNextStart() throws Exception {
        Path dir = Files.createDirectories(root.resolve("dir"));
        String old = TestData.sha256(TestData.randomFile(dir.resolve("big.bin"), 30 * MB, 21));
        int port = freePort();
        server = startServer(port, "first.err");

        try (StallingUpload upload = StallingUpload.start(clientDir, "127.0.0.2", port, "STOR dir/big.bin", -1, 20 * MB, 0,
                StallingUpload.Then.WAIT)) {
            TestData.within(Duration.ofSeconds(30), "the upload's bytes reach the temp file", () -> tempBytes(dir) >= 16 * MB);
            server.destroyForcibly();   // kill -9 of the JVM (the launcher execs it)
            assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        List<String> left = temps(dir);
        assertThat(left).as("the killed server's temp file").hasSize(1);
        assertThat(TestData.sha256(dir.resolve("big.bin"))).isEqualTo(old);

        server = startServer(port, "second.err");
        TestData.within(Duration.ofSeconds(30), "the restarted server removes the temp file", () -> temps(dir).isEmpty());
        TestData.within(Duration.ofSeconds(10), "the sweep's line", () -> Files.readString(work.resolve("second.err"))
                .contains("event=stale-uploads-swept removed=1 in_use=0"));
        assertThat(Files.readString(work.resolve("second.err"))).contains("event=stale-upload-removed file="
                + dir.toRealPath().resolve(left.get(0)));

        // A new upload to the same name, then the directory emptied and removed.
        byte[] fresh = TestData.randomFile(clientDir.resolve("fresh.bin"), 3 * MB, 22);
        curl("-T", "fresh.bin", "ftp://127.0.0.2:" + port + "/dir/big.bin").assertSuccess();
        assertThat(TestData.sha256(dir.resolve("big.bin"))).isEqualTo(TestData.sha256(fresh));
        curl("-Q", "DELE dir/big.bin", "-Q", "RMD dir", "ftp://127.0.0.2:" + port + "/").assertSuccess();
        assertThat(dir).doesNotExist();
    }

    /**
     * Server A (a process of its own) and server C (in this JVM) are in the middle of uploads to one root when
     * server B (in this JVM too) starts there: B's sweep removes a leftover of a crash but neither A's temp
     * file (A holds its lock) nor C's (this JVM never opens its own temp files: closing any descriptor of a
     * file would drop the lock this process holds on it), and both uploads then complete.
     */
    @Test
    void aStartingServerLeavesTheUploadsOfOtherServersOnTheSameRootAlone() throws Exception {
        int portA = freePort();
        server = startServer(portA, "a.err");
        TestData.within(Duration.ofSeconds(30), "A's own sweep is done", () -> Files.readString(work.resolve("a.err"))
                .contains("event=stale-uploads-swept"));
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger serverLog = (Logger) LoggerFactory.getLogger("ferry.server");
        serverLog.setLevel(Level.INFO);
        serverLog.setAdditive(false);
        serverLog.addAppender(log);
        FtpServer c = null;
        FtpServer b = null;
        try (StallingUpload toA = StallingUpload.start(clientDir, "127.0.0.2", portA, "STOR a.bin", -1, 5 * MB, 3 * MB,
                StallingUpload.Then.FINISH)) {
            c = FtpServer.start(FerryServerExtension.defaults(root).withListen(new InetSocketAddress("127.0.0.4", 0)));
            try (RawFtp toC = RawFtp.connect(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("127.0.0.4"), c.port());
                 Socket data = new Socket()) {
                toC.expect(220);
                toC.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
                toC.command("TYPE I", 200);
                data.connect(toC.pasv(), 5_000);
                toC.command("STOR c.bin", 150);
                OutputStream out = data.getOutputStream();
                out.write(StallingUpload.content(0, MB));
                out.flush();
                TestData.within(Duration.ofSeconds(30), "both uploads have their temp files", () -> temps(root).size() == 2);
                Path leftover = Files.writeString(root.resolve(".ferry-upload-00000000deadbeef"), "left by a crash");

                b = FtpServer.start(FerryServerExtension.defaults(root).withListen(new InetSocketAddress("127.0.0.3", 0)));
                assertThat(b.awaitStaleUploadSweep(Duration.ofSeconds(30))).isTrue();

                assertThat(leftover).doesNotExist();
                assertThat(temps(root)).as("A's and C's uploads in progress").hasSize(2);
                for (String temp : temps(root)) {
                    assertThat(lockProbe(root.resolve(temp))).as("%s is still locked", temp).isEqualTo("busy");
                }
                synchronized (log) {
                    assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                            .anyMatch(l -> l.contains(" event=stale-uploads-swept removed=1 in_use=2"));
                }
                out.write(StallingUpload.content(MB, MB));
                data.close();
                toC.expect(226);
            }
            toA.go();
            assertThat(toA.reply()).isEqualTo("226 Transfer complete (" + 8 * MB + " bytes).");
        } finally {
            serverLog.detachAppender(log);
            serverLog.setLevel(null);
            serverLog.setAdditive(true);
            if (b != null) {
                b.close();
            }
            if (c != null) {
                c.close();
            }
        }
        assertThat(TestData.sha256(root.resolve("a.bin"))).isEqualTo(TestData.sha256(StallingUpload.content(0, 8 * MB)));
        assertThat(TestData.sha256(root.resolve("c.bin"))).isEqualTo(TestData.sha256(StallingUpload.content(0, 2 * MB)));
        assertThat(TestData.names(root)).containsExactly("a.bin", "c.bin");
    }

    /** "busy" when another process holds a lock on {@code file}, "free" when python3 could take one. */
    private String lockProbe(Path file) throws IOException, InterruptedException {
        return ExternalCommand.run(clientDir, Duration.ofSeconds(20), java.util.Map.of(), List.of("python3", "-c", """
                import fcntl, sys
                f = open(sys.argv[1], "r+b")
                try:
                    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    print("free")
                except OSError:
                    print("busy")
                """, file.toString())).assertSuccess().stdout().strip();
    }

    private ExternalCommand.Result curl(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "-u",
                FerryServerExtension.USER + ":" + FerryServerExtension.PASSWORD));
        command.addAll(List.of(args));
        return ExternalCommand.run(clientDir, Duration.ofSeconds(40), java.util.Map.of(), command);
    }

    /** The temp files in {@code dir} (names only: opening one here would drop the lock its server holds). */
    private static List<String> temps(Path dir) throws IOException {
        return TestData.names(dir).stream().filter(n -> n.startsWith(".ferry-upload-")).toList();
    }

    private static long tempBytes(Path dir) throws IOException {
        long size = 0;
        for (String name : temps(dir)) {
            size = Math.max(size, Files.size(dir.resolve(name)));
        }
        return size;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.2"))) {
            return s.getLocalPort();
        }
    }
}
