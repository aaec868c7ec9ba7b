package dev.ferry.cli.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.status.Status;
import java.net.URL;
import org.junit.jupiter.api.Test;

/** The shipped logback.xml, read as Logback reads it at start: LogOutput relies on what it declares. */
class LogbackXmlTest {

    @Test
    void parsesWithoutErrorsAndDeclaresWhatLogOutputChanges() throws Exception {
        URL xml = LogbackXmlTest.class.getResource("/logback.xml");
        assertThat(xml).isNotNull();
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(xml);

        assertThat(context.getStatusManager().getCopyOfStatusList())
                .filteredOn(s -> s.getLevel() >= Status.WARN)
                .as("Logback's complaints about logback.xml").isEmpty();
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogOutput.CONSOLE))
                .isInstanceOf(ConsoleAppender.class);
        Logger xferlog = context.getLogger(LogOutput.XFERLOG);
        assertThat(xferlog.getLevel()).isEqualTo(Level.OFF);
        assertThat(xferlog.isAdditive()).isFalse();
        context.stop();
    }
}
