package dev.ferry.balancer.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
