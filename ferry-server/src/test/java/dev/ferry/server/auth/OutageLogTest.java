package dev.ferry.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.EventLog;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class OutageLogTest {

    @Test
    void oneLinePerIntervalCountingTheAttemptsBetween() {
        Logger logger = (Logger) LoggerFactory.getLogger("ferry.test.outage");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            EventLog log = new EventLog(logger, "test");
            AtomicLong now = new AtomicLong(1_000_000);
            OutageLog outages = new OutageLog(now::get);
            for (int i = 0; i < 5; i++) {
                Event line = outages.warn(log, "x-unavailable");
                if (line != null) {
                    line.log();
                }
                now.addAndGet(1_000);
            }
            now.addAndGet(OutageLog.EVERY.toMillis());
            outages.warn(log, "x-unavailable").log();

            assertThat(lines.list).hasSize(2);
            assertThat(lines.list.get(0).getFormattedMessage()).contains("event=x-unavailable").contains("since_last=0");
            assertThat(lines.list.get(1).getFormattedMessage()).contains("since_last=4");
        } finally {
            logger.detachAppender(lines);
        }
    }
}
