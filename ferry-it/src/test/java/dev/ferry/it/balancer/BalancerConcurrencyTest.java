package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.TestData;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many Commons Net sessions at once through the balancer: every byte must arrive at the session
 * that asked for it. Files are distinct per session, so a data connection handed to the wrong
 * session shows up as a checksum mismatch, not just as a failure.
 */
class BalancerConcurrencyTest {

    private static final int SESSIONS = 40;
    private static final int TRANSFERS = 10;
    private static final Duration OVERALL = Duration.ofSeconds(90);

    private BalancerCluster cluster;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static FTPClient client(int port, InetAddress from) throws IOException {
        FTPClient c = new FTPClient();
        c.setConnectTimeout(5_000);
        c.setDefaultTimeout(15_000);
        c.setDataTimeout(Duration.ofSeconds(15));
        c.connect(InetAddress.getByName("127.0.0.1"), port, from, 0);
        c.setSoTimeout(15_000);
        if (!c.login(BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            throw new IOException("login failed: " + c.getReplyString());
        }
        c.setFileType(FTP.BINARY_FILE_TYPE);
        c.enterLocalPassiveMode();
        return c;
    }

    private static byte[] retrieve(FTPClient c, String name) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!c.retrieveFile(name, out)) {
            throw new IOException("RETR " + name + " failed: " + c.getReplyString());
        }
        return out.toByteArray();
    }

    private static void disconnect(FTPClient c) {
        try {
            c.logout();
        } catch (IOException ignored) {
            // the test already has its verdict
        }
        try {
            c.disconnect();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** Runs every task, failing on the first error or when the whole batch exceeds {@link #OVERALL}. */
    private static void runAll(List<Callable<Void>> tasks) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
        try {
            List<Future<Void>> futures = new ArrayList<>();
            for (Callable<Void> t : tasks) {
                futures.add(pool.submit(t));
            }
            long deadline = System.nanoTime() + OVERALL.toNanos();
            for (Future<Void> f : futures) {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(20, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void fortySessionsOfTenTransfersEachAreByteExact() throws Exception {
        cluster = BalancerCluster.start(s -> s);
        Path root = cluster.root();
        List<Callable<Void>> sessions = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            int session = i;
            Path dir = Files.createDirectories(root.resolve("d" + session));
            for (int t = 0; t < TRANSFERS; t++) {
                if (t % 3 == 0) {
                    TestData.randomFile(dir.resolve("r" + t + ".bin"), 20_000 + 9_973 * ((session + t) % 20), seed(session, t));
                }
            }
            sessions.add(() -> {
                FTPClient c = client(cluster.port(), InetAddress.getByName("127.0.0.1"));
                try {
                    assertThat(c.changeWorkingDirectory("/d" + session)).as(c.getReplyString()).isTrue();
                    List<String> stored = new ArrayList<>();
                    for (int t = 0; t < TRANSFERS; t++) {
                        c.setUseEPSVwithIPv4(t % 2 == 0);
                        switch (t % 3) {
                            case 0 -> {
                                byte[] got = retrieve(c, "r" + t + ".bin");
                                assertThat(TestData.sha256(got)).as("session %d RETR r%d.bin", session, t)
                                        .isEqualTo(TestData.sha256(Files.readAllBytes(dir.resolve("r" + t + ".bin"))));
                            }
                            case 1 -> {
                                byte[] sent = TestData.random(15_000 + 7_919 * ((session * 3 + t) % 25), seed(session, t));
                                assertThat(c.storeFile("s" + t + ".bin", new ByteArrayInputStream(sent)))
                                        .as("session %d STOR s%d.bin: %s", session, t, c.getReplyString()).isTrue();
                                assertThat(TestData.sha256(dir.resolve("s" + t + ".bin"))).as("session %d stored s%d.bin", session, t)
                                        .isEqualTo(TestData.sha256(sent));
                                stored.add("s" + t + ".bin");
                            }
                            default -> {
                                FTPFile[] listing = c.listFiles();
                                assertThat(listing).as("session %d LIST: %s", session, c.getReplyString()).isNotNull();
                                assertThat(Arrays.stream(listing).map(FTPFile::getName).toList())
                                        .as("session %d LIST", session).containsAll(stored).contains("r0.bin");
                            }
                        }
                    }
                } finally {
                    disconnect(c);
                }
                return null;
            });
        }

        runAll(sessions);

        assertThat(cluster.backend(0).totalSessions()).as("s1 took part").isPositive();
        assertThat(cluster.backend(1).totalSessions()).as("s2 took part").isPositive();
    }

    /**
     * Routes are keyed by (port, client address): three ports carry thirty simultaneous transfers of
     * ten addresses, three sessions each (RFC 2577 §6 port theft is still refused: each connection
     * goes to the route of its own address).
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void threePassivePortsCarryThirtySimultaneousTransfersOfTenAddresses() throws Exception {
        assumeBindable(InetAddress.getByName("127.0.0.10"));
        int low = BalancerCluster.freePortRange(3);
        cluster = BalancerCluster.start(s -> s.withPassivePorts(low, low + 2));
        int perAddress = 3;
        int addresses = 10;
        int size = 2 * 1024 * 1024;
        List<byte[]> files = new ArrayList<>();
        for (int i = 0; i < addresses * perAddress; i++) {
            files.add(TestData.randomFile(cluster.root().resolve("f" + i + ".bin"), size, 100 + i));
        }
        CyclicBarrier together = new CyclicBarrier(addresses * perAddress);
        List<Callable<Void>> sessions = new ArrayList<>();
        for (int a = 0; a < addresses; a++) {
            InetAddress from = InetAddress.getByName("127.0.0.1" + a);
            for (int k = 0; k < perAddress; k++) {
                int file = a * perAddress + k;
                sessions.add(() -> {
                    FTPClient c = client(cluster.port(), from);
                    try {
                        c.setPassiveLocalIPAddress(from);
                        c.setUseEPSVwithIPv4(file % 2 == 0);
                        together.await(30, TimeUnit.SECONDS);
                        byte[] got = retrieve(c, "f" + file + ".bin");
                        assertThat(TestData.sha256(got)).as("f%d.bin from %s", file, from.getHostAddress())
                                .isEqualTo(TestData.sha256(files.get(file)));
                    } finally {
                        disconnect(c);
                    }
                    return null;
                });
            }
        }

        runAll(sessions);
    }

    private static long seed(int session, int transfer) {
        return session * 1_000L + transfer;
    }

    private static void assumeBindable(InetAddress address) {
        try (Socket probe = new Socket()) {
            probe.bind(new InetSocketAddress(address, 0));
        } catch (IOException e) {
            Assumptions.abort(address.getHostAddress() + " cannot be bound here: " + e.getMessage());
        }
    }
}
