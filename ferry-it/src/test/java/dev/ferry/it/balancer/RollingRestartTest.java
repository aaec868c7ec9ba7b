package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.it.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPConnectionClosedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rolling restart of docs/balancer.md, with clients working the whole time: drain s1, wait for
 * its sessions to end, restart it, put it back, then the same for s2. Every session of every client
 * (log in, download, list, log out) must succeed: no client sees an error. The balancer and the two
 * servers each listen on an address of their own, the clients come from a fourth.
 */
class RollingRestartTest {

    private static final int CLIENTS = 6;
    private BalancerCluster cluster;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void drainRestartAndReadyEachServerWhileClientsWorkWithoutASingleError() throws Exception {
        cluster = BalancerCluster.start(BalancerCluster.Addresses.SEPARATE, (i, s) -> s, b -> b);
        byte[] content = TestData.randomFile(cluster.root().resolve("payload.bin"), 300_000, 21);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger sessions = new AtomicInteger();
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            clients.add(pool.submit(() -> {
                while (running.get()) {
                    try {
                        oneSession(content);
                        sessions.incrementAndGet();
                    } catch (IOException | AssertionError e) {
                        errors.add(e.toString());
                    }
                }
            }));
        }
        try {
            for (int index = 0; index < 2; index++) {
                Backend backend = cluster.backend(index);
                int before = sessions.get();
                TestData.within(Duration.ofSeconds(20), "sessions on " + backend.name() + " before its restart",
                        () -> backend.totalSessions() > 0 && sessions.get() > before + CLIENTS);

                backend.setAdminState(AdminState.DRAIN);
                TestData.within(Duration.ofSeconds(30), backend.name() + " drained", () -> backend.activeSessions() == 0);
                cluster.stopServer(index);
                cluster.restartServer(index);
                backend.setAdminState(AdminState.READY);

                long servedBefore = backend.totalSessions();
                TestData.within(Duration.ofSeconds(20), backend.name() + " serving again",
                        () -> backend.totalSessions() > servedBefore);
            }
        } finally {
            running.set(false);
            pool.shutdown();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).as("clients stopped").isTrue();
        }
        for (Future<?> f : clients) {
            f.get();
        }
        assertThat(errors).as("errors seen by clients").isEmpty();
        assertThat(sessions.get()).isGreaterThan(4 * CLIENTS);
    }

    /** Log in, download and check the payload, list, log out; anything unexpected throws. */
    private void oneSession(byte[] content) throws IOException {
        FTPClient c = new FTPClient();
        c.setConnectTimeout(5_000);
        c.setDefaultTimeout(15_000);
        c.setDataTimeout(Duration.ofSeconds(15));
        try {
            oneSession(c, content);
        } catch (FTPConnectionClosedException e) {
            // Which reply closed it says who gave up: the balancer (no backend) or a server (shutting down).
            throw new IOException(e.getMessage() + " Reply: " + String.valueOf(c.getReplyString()).strip(), e);
        } finally {
            if (c.isConnected()) {
                c.disconnect();
            }
        }
    }

    private void oneSession(FTPClient c, byte[] content) throws IOException {
        c.connect(InetAddress.getByName(BalancerCluster.Addresses.SEPARATE.balancer()), cluster.port());
        c.setSoTimeout(15_000);
        if (!c.login(BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            throw new IOException("login failed: " + c.getReplyString().strip());
        }
        c.setFileType(FTP.BINARY_FILE_TYPE);
        c.enterLocalPassiveMode();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!c.retrieveFile("payload.bin", out)) {
            throw new IOException("RETR failed: " + c.getReplyString().strip());
        }
        if (!java.util.Arrays.equals(out.toByteArray(), content)) {
            throw new IOException("RETR returned " + out.size() + " bytes that differ from the file");
        }
        if (c.listNames() == null) {
            throw new IOException("NLST failed: " + c.getReplyString().strip());
        }
        if (!c.logout()) {
            throw new IOException("QUIT failed: " + c.getReplyString().strip());
        }
    }

}
