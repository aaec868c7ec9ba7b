package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.session.SessionRegistry.Refusal;
import dev.ferry.testkit.PipeConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class SessionRegistryTest {

    private static final InetAddress A = InMemoryServer.socketAddress("10.0.0.1", 0).getAddress();
    private static final InetAddress B = InMemoryServer.socketAddress("10.0.0.2", 0).getAddress();
    private static final InetAddress C = InMemoryServer.socketAddress("10.0.0.3", 0).getAddress();

    @TempDir
    Path root;
    private InMemoryServer server;

    @BeforeEach
    void start() {
        server = new InMemoryServer(InMemoryServer.settings(root));
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.close();
    }

    /** A session object that is never run: only its identity matters to the registry. */
    private Session session(InetAddress from) throws IOException {
        return new Session(server.context, new PipeConnection(InMemoryServer.SERVER_ADDRESS, new InetSocketAddress(from, 1)));
    }

    @Test
    void admitsUpToTheTotalLimit() throws IOException {
        SessionRegistry registry = new SessionRegistry(3, 10);

        assertThat(registry.admit(session(A), A)).isNull();
        assertThat(registry.admit(session(B), B)).isNull();
        assertThat(registry.admit(session(C), C)).isNull();
        assertThat(registry.admit(session(A), A)).isEqualTo(Refusal.TOO_MANY_SESSIONS);
        assertThat(registry.count()).isEqualTo(3);
    }

    @Test
    void admitsUpToThePerAddressLimit() throws IOException {
        SessionRegistry registry = new SessionRegistry(10, 2);

        assertThat(registry.admit(session(A), A)).isNull();
        assertThat(registry.admit(session(A), A)).isNull();
        assertThat(registry.admit(session(A), A)).isEqualTo(Refusal.TOO_MANY_FROM_ADDRESS);
        assertThat(registry.admit(session(B), B)).isNull();
        assertThat(registry.count()).isEqualTo(3);
    }

    @Test
    void aRefusalCountsNothing() throws IOException {
        SessionRegistry registry = new SessionRegistry(2, 1);
        registry.admit(session(A), A);

        assertThat(registry.admit(session(A), A)).isEqualTo(Refusal.TOO_MANY_FROM_ADDRESS);

        assertThat(registry.admit(session(B), B)).as("the refused session took no place").isNull();
        assertThat(registry.count()).isEqualTo(2);
    }

    @Test
    void leaveReleasesBothCounts() throws IOException {
        SessionRegistry registry = new SessionRegistry(1, 1);
        Session first = session(A);
        registry.admit(first, A);

        registry.leave(first, A);

        assertThat(registry.count()).isZero();
        assertThat(registry.sessions()).isEmpty();
        assertThat(registry.admit(session(A), A)).isNull();
    }

    @Test
    void leavingTwiceOrWithoutAdmissionReleasesNothing() throws IOException {
        SessionRegistry registry = new SessionRegistry(2, 2);
        Session first = session(A);
        Session second = session(A);
        registry.admit(first, A);
        registry.admit(second, A);

        registry.leave(first, A);
        registry.leave(first, A);
        registry.leave(session(A), A);

        assertThat(registry.count()).isEqualTo(1);
        assertThat(registry.admit(session(A), A)).isNull();
        assertThat(registry.admit(session(A), A)).isEqualTo(Refusal.TOO_MANY_SESSIONS);
    }

    @Test
    void sessionsIsASnapshot() throws IOException {
        SessionRegistry registry = new SessionRegistry(5, 5);
        Session s = session(A);
        registry.admit(s, A);

        var snapshot = registry.sessions();
        registry.leave(s, A);

        assertThat(snapshot).containsExactly(s);
        assertThat(registry.sessions()).isEmpty();
    }

    @Test
    void idsAreUnique() {
        SessionRegistry registry = new SessionRegistry(1, 1);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            ids.add(registry.nextId());
        }
        assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id.matches("c[0-9a-z]+"));
    }

    @Test
    void concurrentAdmitAndLeaveKeepTheCountsExact() throws Exception {
        int maxTotal = 6;
        int maxPerAddress = 3;
        int threads = 8;
        int rounds = 3000;
        SessionRegistry registry = new SessionRegistry(maxTotal, maxPerAddress);
        InetAddress[] addresses = {A, B, C};
        AtomicInteger inside = new AtomicInteger();
        ConcurrentHashMap<InetAddress, AtomicInteger> insidePerAddress = new ConcurrentHashMap<>();
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger violations = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);

        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Random random = new Random(t);
                List<Session> own = new ArrayList<>();
                for (InetAddress a : addresses) {
                    own.add(session(a));
                }
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        int which = random.nextInt(addresses.length);
                        InetAddress address = addresses[which];
                        Session session = own.get(which);
                        if (registry.admit(session, address) != null) {
                            continue;
                        }
                        admitted.incrementAndGet();
                        AtomicInteger perAddress = insidePerAddress.computeIfAbsent(address, k -> new AtomicInteger());
                        // Counted after admit and uncounted before leave: never more than the registry holds.
                        if (inside.incrementAndGet() > maxTotal | perAddress.incrementAndGet() > maxPerAddress) {
                            violations.incrementAndGet();
                        }
                        Thread.onSpinWait();
                        perAddress.decrementAndGet();
                        inside.decrementAndGet();
                        registry.leave(session, address);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(violations.get()).as("limits held under contention").isZero();
        assertThat(admitted.get()).as("the stress did admit sessions").isGreaterThan(threads);
        assertThat(registry.count()).isZero();
        // Nothing leaked: the full capacity is available again, exactly.
        for (int i = 0; i < maxPerAddress; i++) {
            assertThat(registry.admit(session(A), A)).isNull();
            assertThat(registry.admit(session(B), B)).isNull();
        }
        assertThat(registry.admit(session(C), C)).isEqualTo(Refusal.TOO_MANY_SESSIONS);
        assertThat(registry.count()).isEqualTo(maxTotal);
    }
}
