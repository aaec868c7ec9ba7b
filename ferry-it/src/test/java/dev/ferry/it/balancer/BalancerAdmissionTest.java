package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Who gets in, and when: max-sessions with its queue (wait for a slot, or 421 when the queue is full
 * or the wait too long), and the per-backend bound on connections being opened, which keeps a burst
 * of logins from overflowing a backend's listen queue.
 */
class BalancerAdmissionTest {

    /** These clients all connect from 127.0.0.1: a per-address limit above max-sessions plus the queue keeps it out of the way. */
    private static final int ALL_FROM_ONE_ADDRESS = 10;

    private BalancerCluster cluster;
    private FtpBalancer balancer;
    private SlowGreeter slow;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        if (balancer != null) {
            balancer.close();
        }
        if (slow != null) {
            slow.close();
        }
    }

    @Test
    void aClientOverMaxSessionsWaitsForAFreeSlotAndTheOneAfterTheQueueIsRefused() throws Exception {
        cluster = BalancerCluster.start(s -> s.withMaxSessions(1).withQueue(new BalancerSettings.Queue(1, Duration.ofSeconds(20))).withMaxSessionsPerAddress(ALL_FROM_ONE_ADDRESS));
        try (RawFtp first = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD);
             RawFtp queued = RawFtp.connect(cluster.port())) {
            TestData.within(Duration.ofSeconds(5), "the second client is queued", () -> cluster.balancer().status().admission().queued() == 1);
            try (RawFtp third = RawFtp.connect(cluster.port())) {
                RawFtp.Reply refused = third.reply();
                assertThat(refused.code()).isEqualTo(421);
                assertThat(refused.lines().getFirst()).contains("Too many users");
            }
            queued.timeout(Duration.ofMillis(300));
            assertThat(greetedWithin(queued)).as("greeted while the only slot is taken").isFalse();

            first.command("QUIT", 221);
            queued.timeout(Duration.ofSeconds(10));
            queued.expect(220);
            queued.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
            queued.command("NOOP", 200);
        }
    }

    @Test
    void aQueuedClientIsToldNoWhenItsWaitRunsOut() throws Exception {
        cluster = BalancerCluster.start(s -> s.withMaxSessions(1).withQueue(new BalancerSettings.Queue(5, Duration.ofMillis(300))).withMaxSessionsPerAddress(ALL_FROM_ONE_ADDRESS));
        try (RawFtp first = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD);
             RawFtp queued = RawFtp.connect(cluster.port())) {
            RawFtp.Reply reply = queued.reply();
            assertThat(reply.code()).isEqualTo(421);
            assertThat(queued.closedByServer()).isTrue();
            first.command("NOOP", 200);
        }
        assertThat(cluster.balancer().status().admission().queued()).isZero();
    }

    @Test
    void queueZeroRefusesAtOnceLikeAnFtpServer() throws Exception {
        cluster = BalancerCluster.start(s -> s.withMaxSessions(1).withQueue(new BalancerSettings.Queue(0, Duration.ofSeconds(20))).withMaxSessionsPerAddress(ALL_FROM_ONE_ADDRESS));
        try (RawFtp first = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD);
             RawFtp second = RawFtp.connect(cluster.port())) {
            assertThat(second.reply().code()).isEqualTo(421);
            first.command("NOOP", 200);
        }
    }

    @Test
    void aBurstOfLoginsOpensAtMostMaxConnectingConnectionsToABackendAtOnce() throws Exception {
        slow = SlowGreeter.start(Duration.ofMillis(100));
        balancer = FtpBalancer.start(BalancerSettings.defaults()
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withBackends(List.of(new BalancerSettings.BackendSpec("slow", slow.address(), 1, 2)))
                .withCheck(new BalancerSettings.Check(BalancerSettings.CheckType.TCP, Duration.ofMinutes(10),
                        Duration.ofSeconds(1), 1, 1, null, null)));
        // The first health check connects too, then asks the backend's FEAT on a connection of its own:
        // let them end so that only sessions are counted.
        TestData.within(Duration.ofSeconds(5), "the first check is over",
                () -> slow.accepted() == 2 && slow.ungreetedNow() == 0);
        slow.resetCount();
        int clients = 12;
        List<Future<Integer>> logins = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < clients; i++) {
                Callable<Integer> login = () -> {
                    try (RawFtp ftp = RawFtp.greeted(balancer.port())) {
                        ftp.send("USER someone");
                        return ftp.reply().code();
                    }
                };
                logins.add(pool.submit(login));
            }
            for (Future<Integer> f : logins) {
                assertThat(f.get(30, TimeUnit.SECONDS)).as("reply to USER").isEqualTo(331);
            }
        }
        assertThat(slow.users()).isEqualTo(clients);
        assertThat(slow.mostUngreetedAtOnce()).as("connections waiting for their greeting at once").isBetween(1, 2);
    }

    /** True when a 220 arrives within the socket's read timeout. */
    private static boolean greetedWithin(RawFtp ftp) throws IOException {
        try {
            return ftp.reply().code() == 220;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }


    /**
     * A backend that takes {@code delay} to greet each connection (as a forking server does under
     * load) and counts how many of its accepted connections were waiting for their greeting at once.
     */
    private static final class SlowGreeter implements AutoCloseable {
        private final ServerSocket server;
        private final Duration delay;
        private final AtomicInteger ungreeted = new AtomicInteger();
        private final AtomicInteger mostUngreeted = new AtomicInteger();
        private final AtomicInteger users = new AtomicInteger();
        private final AtomicInteger accepted = new AtomicInteger();

        private SlowGreeter(ServerSocket server, Duration delay) {
            this.server = server;
            this.delay = delay;
        }

        static SlowGreeter start(Duration delay) throws IOException {
            SlowGreeter g = new SlowGreeter(new ServerSocket(0, 100, InetAddress.getByName("127.0.0.1")), delay);
            Thread.ofVirtual().start(g::acceptLoop);
            return g;
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.getLocalSocketAddress();
        }

        /** Connections that got as far as USER: the sessions (the health check only connects). */
        int users() {
            return users.get();
        }

        int accepted() {
            return accepted.get();
        }

        int ungreetedNow() {
            return ungreeted.get();
        }

        void resetCount() {
            mostUngreeted.set(0);
        }

        int mostUngreetedAtOnce() {
            return mostUngreeted.get();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket c = server.accept();
                    accepted.incrementAndGet();
                    int now = ungreeted.incrementAndGet();
                    mostUngreeted.accumulateAndGet(now, Math::max);
                    Thread.ofVirtual().start(() -> serve(c));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket socket) {
            try (socket) {
                socket.setSoTimeout(30_000);
                Thread.sleep(delay.toMillis());
                OutputStream out = socket.getOutputStream();
                ungreeted.decrementAndGet();
                out.write("220 slow but ready\r\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("USER")) {
                        users.incrementAndGet();
                    }
                    out.write((line.startsWith("USER") ? "331 password please\r\n" : "200 ok\r\n").getBytes(StandardCharsets.US_ASCII));
                }
            } catch (IOException | InterruptedException ignored) {
                // the balancer hung up
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
