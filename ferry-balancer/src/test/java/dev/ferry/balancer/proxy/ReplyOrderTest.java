package dev.ferry.balancer.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.command.Verb;
import dev.ferry.runtime.net.Watchdog;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ReplyOrder} alone: which command a reply answers, and who waits for whom, under pipelining. */
class ReplyOrderTest {

    private final Watchdog watchdog = new Watchdog("reply-order-test");
    private final AtomicInteger serverIdleFired = new AtomicInteger();
    private Duration serverIdle = Duration.ofSeconds(10);
    private final ReplyOrder order = new ReplyOrder(watchdog.guard(serverIdleFired::incrementAndGet), () -> serverIdle);

    @AfterEach
    void close() {
        watchdog.close();
    }

    @Test
    void finalRepliesAnswerTheCommandsInTheOrderTheyWereSent() {
        Awaited user = Awaited.forwarded(Verb.USER);
        Awaited pass = Awaited.forwarded(Verb.PASS);
        Awaited pwd = Awaited.forwarded(Verb.PWD);
        order.expect(user);
        order.expect(pass);
        order.expect(pwd);
        assertThat(order.head()).as("a 1xx looks, it does not take").isSameAs(user);
        assertThat(order.take()).isSameAs(user);
        assertThat(order.take()).isSameAs(pass);
        assertThat(order.take()).isSameAs(pwd);
        assertThat(order.take()).as("an unsolicited reply answers nothing").isNull();
    }

    @Test
    void aReplyOfTheBalancersOwnWaitsUntilEveryEarlierCommandWasAnswered() throws Exception {
        order.expect(Awaited.forwarded(Verb.NOOP));
        order.expect(Awaited.forwarded(Verb.NOOP));
        CompletableFuture<Void> turn = CompletableFuture.runAsync(order::awaitTurn);
        order.take();
        order.replied();
        Thread.sleep(100);
        assertThat(turn).as("one command still awaits its reply").isNotDone();
        order.take();
        order.replied();
        turn.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aClientFarAheadWaitsInsteadOfGrowingTheQueue() throws Exception {
        for (int i = 0; i < ReplyOrder.MAX_AWAITED; i++) {
            order.expect(Awaited.forwarded(Verb.NOOP));
        }
        Awaited last = Awaited.forwarded(Verb.PWD);
        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> order.expect(last));
        Thread.sleep(100);
        assertThat(sent).isNotDone();
        order.take();
        order.replied();
        sent.get(5, TimeUnit.SECONDS);
        for (int i = 1; i < ReplyOrder.MAX_AWAITED; i++) {
            order.take();
        }
        assertThat(order.take()).isSameAs(last);
    }

    @Test
    void nobodyWaitsForABackendThatEnded() throws Exception {
        order.expect(Awaited.forwarded(Verb.NOOP));
        CompletableFuture<Void> turn = CompletableFuture.runAsync(order::awaitTurn);
        Thread.sleep(50);
        order.backendEnded();
        turn.get(5, TimeUnit.SECONDS);
        order.awaitTurn();
    }

    @Test
    void waitsAreBoundedByTheServerIdleTimeout() throws Exception {
        serverIdle = Duration.ofMillis(100);
        order.expect(Awaited.forwarded(Verb.NOOP));
        long start = System.nanoTime();
        order.awaitTurn();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(90));
    }

    @Test
    void theServerIdleClockRunsOnlyWhileAReplyIsAwaited() throws Exception {
        serverIdle = Duration.ofMillis(100);
        order.expect(Awaited.forwarded(Verb.NOOP));
        order.take();
        order.replied();
        Thread.sleep(300);
        assertThat(serverIdleFired).as("nothing awaited: the backend's silence is fine").hasValue(0);
        order.expect(Awaited.forwarded(Verb.NOOP));
        order.expect(Awaited.forwarded(Verb.NOOP));
        order.take();
        order.replied();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (serverIdleFired.get() == 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(serverIdleFired).as("one command still awaits its reply").hasValue(1);
    }

    @Test
    void theBalancerAnswersATimedOutTransferOnlyWhileItIsTheOneAwaited() {
        DataRoute route = new DataRoute(DataRoute.Mode.PASSIVE, Verb.PASV, null);
        DataRoute other = new DataRoute(DataRoute.Mode.PASSIVE, Verb.PASV, null);
        Awaited retr = new Awaited(Awaited.Kind.TRANSFER, Verb.RETR, route);
        order.expect(retr);
        assertThat(order.answerTransfer(other)).isNull();
        assertThat(order.answerTransfer(route)).isSameAs(retr);
        assertThat(retr.answered()).isTrue();
        assertThat(order.answerTransfer(route)).as("answered once").isNull();
    }
}
