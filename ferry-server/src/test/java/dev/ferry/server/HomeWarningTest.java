package dev.ferry.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.runtime.log.EventLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** A home that is missing or not a directory is reported at start, one WARN per user naming user and path. */
class HomeWarningTest {

    @TempDir
    Path root;

    @Test
    void eachBadHomeGivesOneWarnNamingUserAndPath() throws Exception {
        Path alice = Files.createDirectory(root.resolve("alice"));
        Path bob = root.resolve("bob");
        Path carol = Files.writeString(root.resolve("carol"), "a file, not a directory");
        List<ServerSettings.UserAccount> users = List.of(
                new ServerSettings.UserAccount("alice", "$argon2id$x", alice, true, true),
                new ServerSettings.UserAccount("bob", "$argon2id$x", bob, true, true),
                new ServerSettings.UserAccount("carol", "$argon2id$x", carol, true, false),
                new ServerSettings.UserAccount("dave", "$argon2id$x", null, true, true));

        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("ferry.server");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        log.addAppender(events);
        try {
            FtpServer.warnAboutHomes(new EventLog(LoggerFactory.getLogger("ferry.server"), "s1"), users);
        } finally {
            log.detachAppender(events);
        }

        assertThat(events.list).extracting(ILoggingEvent::getLevel).containsOnly(Level.WARN);
        assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "node=s1 event=home-missing user=bob home=" + bob
                        + " hint=\"this user cannot log in until the directory exists\"",
                "node=s1 event=home-not-a-directory user=carol home=" + carol
                        + " hint=\"this user cannot log in until the directory exists\"");
    }
}
