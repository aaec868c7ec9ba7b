package dev.ferry.runtime.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

class SessionLogTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger("ferry.test.session-log");
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    @BeforeEach
    void attach() {
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.INFO);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
    }

    @Test
    void everySessionLineCarriesNodeSessionClientAndUser() {
        SessionLog session = new EventLog(logger, "ftp-1").session("s7", "127.0.0.2:40112");
        session.info("connect").log();
        session.user("alice");
        session.info("transfer").with("cmd", "RETR").with("path", "/a b.txt").log();

        assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "node=ftp-1 session=s7 event=connect client=127.0.0.2:40112 user=-",
                "node=ftp-1 session=s7 event=transfer client=127.0.0.2:40112 user=alice cmd=RETR path=\"/a b.txt\"");
    }

    @Test
    void fieldsTravelAsKeyValuePairsForTheJsonOutput() {
        SessionLog session = new EventLog(logger, "ftp-1").session("s7", "127.0.0.2:40112");
        session.proxySession("lb1-42");
        session.info("login").with("anonymous", false).log();

        assertThat(appender.list.getFirst().getKeyValuePairs()).extracting(p -> p.key + "=" + p.value).containsExactly(
                "node=ftp-1", "session=s7", "event=login", "client=127.0.0.2:40112", "user=-",
                "proxy_session=lb1-42", "anonymous=false");
    }

    @Test
    void aLevelThatIsOffWritesNothing() {
        SessionLog session = new EventLog(logger, "ftp-1").session("s7", "127.0.0.2:1");
        session.debug("command").with("line", "NOOP").log();
        assertThat(appender.list).isEmpty();
    }

    @Test
    void daemonLinesStartWithTheNode() {
        new EventLog(logger, "lb-a").warn("home-missing").with("user", "carol").with("home", "/srv/ftp/carol").log();
        assertThat(appender.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getFormattedMessage()).isEqualTo("node=lb-a event=home-missing user=carol home=/srv/ftp/carol");
        });
    }

    @Test
    void nodeNamesAreOneToken() {
        assertThat(NodeName.problem("ftp-1.example_net")).isNull();
        assertThat(NodeName.problem("")).isNotNull();
        assertThat(NodeName.problem("two words")).isNotNull();
        assertThat(NodeName.problem("x".repeat(65))).isNotNull();
        assertThat(NodeName.problem(NodeName.local())).isNull();
    }

    @Test
    void aHostNameIsMadeOneToken() {
        assertThat(NodeName.token("my host/1")).isEqualTo("my-host-1");
        assertThat(NodeName.token("h".repeat(80))).hasSize(64);
    }
}
