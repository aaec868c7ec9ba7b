package dev.ferry.database;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.PostgresServer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** LISTEN/NOTIFY across a database restart: the listener hears "everything may have changed", then news again. */
class NotificationsTest {

    @Test
    void notificationsArriveAndResumeAfterTheDatabaseRestarts() throws Exception {
        try (PostgresServer pg = PostgresServer.create()) {
            DatabaseSettings s = new DatabaseSettings(pg.url(), pg.user(), pg.passwordFile(), 2, Duration.ofSeconds(2),
                    Duration.ofSeconds(3));
            BlockingQueue<String> heard = new LinkedBlockingQueue<>(100);
            try (Database db = Database.open(s, DatabaseTest.LOG)) {
                Notifications n = db.notifications();
                n.subscribe("ferry_test", new Notifications.Listener() {
                    @Override
                    public void notified(String channel, String payload) {
                        heard.offer(channel + ":" + payload);
                    }

                    @Override
                    public void everythingChanged() {
                        heard.offer("*");
                    }
                });
                assertThat(n.awaitListening(Duration.ofSeconds(10))).isTrue();
                pg.psql(PostgresServer.DATABASE, "NOTIFY ferry_test, 'one'");
                assertThat(heard.poll(10, TimeUnit.SECONDS)).isEqualTo("ferry_test:one");

                long stopped = System.nanoTime();
                pg.stop();
                pg.start();
                // told at the loss, and again once back
                assertThat(heard.poll(20, TimeUnit.SECONDS)).isEqualTo("*");
                assertThat(heard.poll(20, TimeUnit.SECONDS)).isEqualTo("*");
                System.out.printf("notifications back %d ms after the stop began%n",
                        (System.nanoTime() - stopped) / 1_000_000);
                assertThat(n.awaitListening(Duration.ofSeconds(10))).isTrue();
                pg.psql(PostgresServer.DATABASE, "NOTIFY ferry_test, 'two'");
                assertThat(heard.poll(10, TimeUnit.SECONDS)).isEqualTo("ferry_test:two");
            }
        }
    }
}
