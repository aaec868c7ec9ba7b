package dev.ferry.balancer.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AdmissionTest {

    @Test
    void admitsUpToTheLimitThenQueuesThenRefuses() throws Exception {
        Admission a = new Admission(2, 1, Duration.ofSeconds(30));
        assertThat(a.enter()).isEqualTo(Admission.Outcome.ADMITTED);
        assertThat(a.enter()).isEqualTo(Admission.Outcome.ADMITTED);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Admission.Outcome> waiting = pool.submit(a::enter);
            awaitQueued(a, 1);
            assertThat(a.enter()).as("queue full").isEqualTo(Admission.Outcome.QUEUE_FULL);
            assertThat(waiting.isDone()).isFalse();
            a.leave();
            assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo(Admission.Outcome.ADMITTED);
        }
        assertThat(a.active()).isEqualTo(2);
        assertThat(a.queued()).isZero();
        assertThat(a.capacity()).isEqualTo(3);
    }

    @Test
    void aWaiterGivesUpAfterTheQueueTimeout() throws Exception {
        Admission a = new Admission(1, 5, Duration.ofMillis(50));
        a.enter();
        assertThat(a.enter()).isEqualTo(Admission.Outcome.QUEUE_TIMEOUT);
        assertThat(a.queued()).isZero();
        assertThat(a.active()).isEqualTo(1);
    }

    @Test
    void aNewcomerDoesNotOvertakeAWaiter() throws Exception {
        Admission a = new Admission(1, 2, Duration.ofSeconds(30));
        a.enter();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Admission.Outcome> first = pool.submit(a::enter);
            awaitQueued(a, 1);
            a.leave();
            Future<Admission.Outcome> newcomer = pool.submit(a::enter);
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(Admission.Outcome.ADMITTED);
            awaitQueued(a, 1);
            assertThat(newcomer.isDone()).as("the newcomer waits behind the first waiter").isFalse();
            a.leave();
            assertThat(newcomer.get(10, TimeUnit.SECONDS)).isEqualTo(Admission.Outcome.ADMITTED);
        }
    }

    @Test
    void queueZeroRefusesAtOnce() throws Exception {
        Admission a = new Admission(1, 0, Duration.ofSeconds(30));
        a.enter();
        assertThat(a.enter()).isEqualTo(Admission.Outcome.QUEUE_FULL);
        assertThat(a.queued()).isZero();
    }

    @Test
    void anAddressOverItsLimitIsRefusedAndCountedWhileOthersArriveFreely() throws Exception {
        Admission a = new Admission(10, 0, Duration.ofSeconds(30));
        InetAddress flood = InetAddress.getByName("192.0.2.7");
        InetAddress other = InetAddress.getByName("192.0.2.8");
        assertThat(a.arrive(flood, 2)).isTrue();
        assertThat(a.arrive(flood, 2)).isTrue();
        assertThat(a.arrive(flood, 2)).as("a third from the same address").isFalse();
        assertThat(a.arrive(other, 2)).as("another address").isTrue();
        assertThat(a.count(Admission.Outcome.TOO_MANY_FROM_ADDRESS)).isEqualTo(1);
        assertThat(a.fromAddress(flood)).isEqualTo(2);
        a.depart(flood);
        assertThat(a.arrive(flood, 2)).as("one ended: room again").isTrue();
    }

    @Test
    void anAddressCountsItsQueuedConnectionsTooAndNeverQueuesOverItsLimit() throws Exception {
        Admission a = new Admission(1, 5, Duration.ofSeconds(30));
        InetAddress flood = InetAddress.getByName("192.0.2.7");
        assertThat(a.arrive(flood, 2)).isTrue();
        assertThat(a.enter()).isEqualTo(Admission.Outcome.ADMITTED);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            assertThat(a.arrive(flood, 2)).isTrue();
            Future<Admission.Outcome> waiting = pool.submit(a::enter);
            awaitQueued(a, 1);
            assertThat(a.arrive(flood, 2)).as("one session and one waiter: the limit").isFalse();
            assertThat(a.queued()).as("the refused one was never queued").isEqualTo(1);
            a.leave();
            assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo(Admission.Outcome.ADMITTED);
        }
    }

    @Test
    void anAddressLeavesTheMapWithItsLastConnection() throws Exception {
        Admission a = new Admission(10, 0, Duration.ofSeconds(30));
        for (int i = 1; i <= 50; i++) {
            InetAddress client = InetAddress.getByName("192.0.2." + i);
            assertThat(a.arrive(client, 3)).isTrue();
            assertThat(a.arrive(client, 3)).isTrue();
        }
        assertThat(a.addresses()).isEqualTo(50);
        for (int i = 1; i <= 50; i++) {
            InetAddress client = InetAddress.getByName("192.0.2." + i);
            a.depart(client);
            a.depart(client);
        }
        assertThat(a.addresses()).isZero();
    }

    @Test
    void anIpv4ClientSeenAsIpv4MappedIpv6IsTheSameAddress() throws Exception {
        Admission a = new Admission(10, 0, Duration.ofSeconds(30));
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 7};
        // Inet6Address.getByAddress keeps the 16 bytes as an IPv6 address (InetAddress.getByAddress would turn them into IPv4).
        InetAddress asIpv6 = Inet6Address.getByAddress(null, mapped, -1);
        assertThat(asIpv6).isInstanceOf(Inet6Address.class);
        assertThat(a.arrive(InetAddress.getByName("192.0.2.7"), 2)).isTrue();
        assertThat(a.arrive(asIpv6, 2)).isTrue();
        assertThat(a.arrive(asIpv6, 2)).as("both count against 192.0.2.7").isFalse();
        assertThat(a.addresses()).isEqualTo(1);
        a.depart(asIpv6);
        a.depart(InetAddress.getByName("192.0.2.7"));
        assertThat(a.addresses()).isZero();
    }

    @Test
    void refusesImpossibleLimits() {
        assertThatThrownBy(() -> new Admission(0, 1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Admission(1, -1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void awaitQueued(Admission a, int n) throws InterruptedException {
        for (int i = 0; i < 1000 && a.queued() < n; i++) {
            Thread.sleep(5);
        }
        assertThat(a.queued()).isEqualTo(n);
    }
}
