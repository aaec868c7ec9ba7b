package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.server.log.SessionEvents;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What a session's refusals and logins write to the log: one {@code event=refused} INFO line per command refused
 * for the session's rights or state (bounded), with the client and user in the standard place, for fail2ban
 * and auditors; nothing at INFO for a verb that is merely unknown.
 */
@Timeout(20)
class SessionRefusalLogTest {

    private static final InetSocketAddress CLIENT = InMemoryServer.socketAddress("127.0.0.5", 40005);
    private static final String PREFIX = "event=refused client=127.0.0.5:40005 ";

    @TempDir
    Path root;
    private InMemoryServer server;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger sessionLog = (Logger) LoggerFactory.getLogger("ferry.session");

    @BeforeEach
    void capture() {
        log.start();
        sessionLog.addAppender(log);
        sessionLog.setLevel(Level.INFO);
        server = new InMemoryServer(InMemoryServer.settings(root));
    }

    @AfterEach
    void stop() throws InterruptedException {
        try {
            server.close();
        } finally {
            sessionLog.detachAppender(log);
            sessionLog.setLevel(null);
        }
    }

    @Test
    void anonymousWritesAreRefusedAndLoggedWithPathReasonAndReply() throws Exception {
        ControlClient c = greeted();
        c.login("anonymous", "guest@example.com");

        assertThat(c.command("STOR a.txt")).startsWith("550 ");
        assertThat(c.command("MKD dir")).startsWith("550 ");
        assertThat(c.command("RNFR a.txt")).startsWith("550 ");

        assertThat(lines(PREFIX)).containsExactly(
                PREFIX + "user=anonymous cmd=STOR path=/a.txt reason=read-only reply=550",
                PREFIX + "user=anonymous cmd=MKD path=/dir reason=read-only reply=550",
                PREFIX + "user=anonymous cmd=RNFR path=/a.txt reason=read-only reply=550");
        assertThat(infoLines()).allSatisfy(line -> assertThat(line).startsWith("node=").contains(" session="));
    }

    @Test
    void stateRefusalsAreLoggedButUnknownCommandsAreNot() throws Exception {
        ControlClient c = greeted();
        assertThat(c.command("LIST docs")).startsWith("530 ");
        assertThat(c.command("XYZZY")).startsWith("500 ");
        c.login("alice", InMemoryServer.PASSWORD);
        assertThat(c.command("RNTO b.txt")).startsWith("503 ");
        assertThat(c.command("MKD a\u0007b")).startsWith("553 ");

        assertThat(lines(PREFIX)).containsExactly(
                PREFIX + "user=- cmd=LIST path=docs reason=not-logged-in reply=530",
                PREFIX + "user=alice cmd=RNTO path=/b.txt reason=rnfr-first reply=503",
                PREFIX + "user=alice cmd=MKD path=a?b reason=invalid-path reply=553");
        assertThat(infoLines()).noneMatch(line -> line.contains("XYZZY"));
    }

    @Test
    void refusalLinesAreBoundedPerSessionAndCountedOnTheDisconnect() throws Exception {
        ControlClient c = greeted();
        c.login("reader", InMemoryServer.PASSWORD);
        int refusals = SessionEvents.REFUSED_LINES + 5;
        for (int i = 0; i < refusals; i++) {
            assertThat(c.command("DELE f" + i)).startsWith("550 ");
        }
        assertThat(c.command("QUIT")).startsWith("221 ");
        awaitLine("event=disconnect");

        assertThat(lines(PREFIX)).hasSize(SessionEvents.REFUSED_LINES);
        assertThat(lines("event=refused-suppressed client=127.0.0.5:40005 user=reader")).hasSize(1);
        assertThat(lines("event=disconnect client=127.0.0.5:40005 user=reader")).singleElement().asString()
                .contains(" refused=" + refusals);
    }

    @Test
    void aFailedLoginNamesClientUserAndReasonButNeverThePassword() throws Exception {
        ControlClient c = greeted();
        assertThat(c.command("USER alice")).startsWith("331 ");
        assertThat(c.command("PASS not-the-password")).startsWith("530 ");
        assertThat(c.command("USER nobody")).startsWith("331 ");
        assertThat(c.command("PASS not-the-password")).startsWith("530 ");

        assertThat(lines("event=login-failed client=127.0.0.5:40005 ")).containsExactly(
                "event=login-failed client=127.0.0.5:40005 user=alice reason=bad_password attempt=1",
                "event=login-failed client=127.0.0.5:40005 user=nobody reason=unknown_user attempt=2");
        assertThat(infoLines()).noneMatch(line -> line.contains("not-the-password"));
    }

    private ControlClient greeted() throws Exception {
        ControlClient c = server.connect(CLIENT);
        assertThat(c.replyLine()).startsWith("220 ");
        return c;
    }

    private void awaitLine(String containing) throws InterruptedException {
        for (int i = 0; i < 500 && lines(containing).isEmpty(); i++) {
            Thread.sleep(10);
        }
    }

    private List<String> infoLines() {
        List<ILoggingEvent> events;
        synchronized (log) {
            events = List.copyOf(log.list);
        }
        return events.stream().filter(e -> e.getLevel() == Level.INFO).map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** The INFO lines holding {@code containing}, from there on (node and session ids left out). */
    private List<String> lines(String containing) {
        return infoLines().stream().filter(line -> line.contains(containing))
                .map(line -> line.substring(line.indexOf(containing))).toList();
    }
}
