package dev.ferry.balancer.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.runtime.log.EventLog;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RefusalLogTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final RefusalLog refusals = new RefusalLog(now::get);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private Logger logger;
    private EventLog log;

    @BeforeEach
    void capture() {
        logger = (Logger) LoggerFactory.getLogger("test.refusals");
        logger.setLevel(Level.DEBUG);
        appender.start();
        logger.addAppender(appender);
        log = new EventLog(logger, "lb");
    }

    @AfterEach
    void release() {
        logger.detachAppender(appender);
    }

    @Test
    void withinTheBoundEachRefusalIsOneInfoLine() {
        for (int i = 0; i < RefusalLog.PER_SECOND; i++) {
            refuse("127.0.0.7:" + (40000 + i));
        }
        assertThat(appender.list).hasSize(RefusalLog.PER_SECOND).allMatch(e -> e.getLevel() == Level.INFO)
                .first().extracting(ILoggingEvent::getFormattedMessage)
                .isEqualTo("node=lb event=refused client=127.0.0.7:40000 reason=max-per-address");
    }

    @Test
    void aFloodGoesToDebugAndTheNextInfoLineCountsWhatWasLeftOut() {
        for (int i = 0; i < RefusalLog.PER_SECOND + 500; i++) {
            refuse("127.0.0.7:40000");
        }
        assertThat(appender.list).filteredOn(e -> e.getLevel() == Level.INFO).hasSize(RefusalLog.PER_SECOND);
        assertThat(appender.list).filteredOn(e -> e.getLevel() == Level.DEBUG).hasSize(500);

        now.addAndGet(Duration.ofSeconds(1).toNanos());
        refuse("127.0.0.8:40001");
        ILoggingEvent last = appender.list.getLast();
        assertThat(last.getLevel()).isEqualTo(Level.INFO);
        assertThat(last.getFormattedMessage())
                .isEqualTo("node=lb event=refused client=127.0.0.8:40001 reason=max-per-address suppressed=500");

        refuse("127.0.0.8:40002");
        assertThat(appender.list.getLast().getFormattedMessage()).as("counted once").doesNotContain("suppressed");
    }

    private void refuse(String client) {
        refusals.log(level -> log.at(level, "refused").with("client", client).with("reason", "max-per-address"));
    }
}
