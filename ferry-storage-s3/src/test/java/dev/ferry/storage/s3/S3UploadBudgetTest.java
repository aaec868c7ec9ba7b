package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The uploads' shared memory budget: waits in arrival order, a wait that can be given up, no over-release. */
class S3UploadBudgetTest {

    @Test
    void waitersAreServedInArrivalOrder() throws Exception {
        UploadBudget budget = new UploadBudget(100);
        budget.acquire(100);
        List<Integer> order = new CopyOnWriteArrayList<>();
        CompletableFuture<?>[] waiters = new CompletableFuture<?>[3];
        for (int i = 0; i < 3; i++) {
            int n = i;
            waiters[i] = CompletableFuture.runAsync(() -> {
                try {
                    budget.acquire(60);
                    order.add(n);
                    budget.release(60);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }, r -> Thread.ofVirtual().start(r));
            // Each one queued before the next starts.
            Thread.sleep(100);
        }
        assertThat(order).isEmpty();
        assertThat(budget.inUse()).isEqualTo(100);
        budget.release(100);
        CompletableFuture.allOf(waiters).get(5, TimeUnit.SECONDS);
        assertThat(order).containsExactly(0, 1, 2);
        assertThat(budget.inUse()).isZero();
    }

    @Test
    void aCancelledWaitTakesNothingAndLetsTheNextOneIn() throws Exception {
        UploadBudget budget = new UploadBudget(100);
        budget.acquire(80);
        AtomicBoolean aborted = new AtomicBoolean();
        CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> take(budget, 50, aborted),
                r -> Thread.ofVirtual().start(r));
        Thread.sleep(100);
        CompletableFuture<Boolean> second = CompletableFuture.supplyAsync(() -> take(budget, 20, new AtomicBoolean()),
                r -> Thread.ofVirtual().start(r));
        Thread.sleep(100);
        // 20 bytes are free, but the second waits behind the first (first come, first served).
        assertThat(second).isNotDone();
        aborted.set(true);
        budget.wake();
        assertThat(first.get(5, TimeUnit.SECONDS)).isFalse();
        assertThat(second.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(budget.inUse()).isEqualTo(100);
    }

    @Test
    void releasingMoreThanWasTakenIsABug() throws Exception {
        UploadBudget budget = new UploadBudget(100);
        budget.acquire(10);
        assertThatThrownBy(() -> budget.release(20)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> budget.acquire(101)).isInstanceOf(IllegalArgumentException.class);
        assertThat(budget.inUse()).isEqualTo(10);
    }

    private static boolean take(UploadBudget budget, int size, AtomicBoolean cancelled) {
        try {
            return budget.acquire(size, cancelled::get);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void aSentPartsArrayServesTheNextPartAndKeptArraysStayWithinTheBudget() throws Exception {
        int part = 1024 * 1024 * 2;
        UploadBudget budget = new UploadBudget(2L * part);

        PartBuffer first = PartBuffer.take(budget, part, () -> false);
        first.put(java.nio.ByteBuffer.allocate(part));
        byte[] array = first.arrayFor(0);
        first.release();
        assertThat(budget.kept()).isEqualTo(part);

        PartBuffer second = PartBuffer.take(budget, part, () -> false);
        assertThat(second.arrayFor(0)).isSameAs(array);
        assertThat(budget.kept()).isZero();

        // a small file's buffer never grew to a part: not kept
        PartBuffer small = PartBuffer.take(budget, part, () -> false);
        small.put(java.nio.ByteBuffer.allocate(1000));
        small.release();
        second.release();
        assertThat(budget.kept()).isEqualTo(part);

        // never more kept than the budget holds
        budget.keep(new byte[part]);
        budget.keep(new byte[part]);
        assertThat(budget.kept()).isEqualTo(2L * part);
        assertThat(budget.inUse()).isZero();
    }
}
