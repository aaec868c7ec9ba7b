package dev.ferry.cli.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import dev.ferry.config.LogSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.LoggerFactory;

/**
 * Applies {@link LogSettings} to the Logback set-up of logback.xml, once, at start, before the daemon writes
 * its first line: the console appender gets the JSON encoder when asked, and the {@value #XFERLOG} logger,
 * off in logback.xml, gets its file.
 *
 * <p>Programmatic rather than a system property read by logback.xml: the format comes from the YAML file
 * too, which is read after Logback has configured itself, and an xferlog file chosen in YAML cannot be a
 * property of a file Logback has already read.
 *
 * <p>Rotation of the xferlog file is logrotate's {@code copytruncate} (ferry-dist's logrotate/ferry): the
 * file is opened with O_APPEND, so after logrotate truncates it the next line lands at offset 0, with no
 * hole of zeros and no reopening. A line written between the copy and the truncation is lost, which
 * logrotate documents and an xferlog tolerates.
 */
public final class LogOutput {

    /** The logger whose messages are xferlog lines (the server writes one per transfer). */
    public static final String XFERLOG = "ferry.xferlog";
    /** The console appender's name in logback.xml. */
    static final String CONSOLE = "STDERR";
    private static final String XFERLOG_APPENDER = "XFERLOG";

    private LogOutput() {
    }

    /**
     * What the start will need, checked without writing anything (for --check-config and before start):
     * the xferlog file can be appended to, or created in an existing writable directory.
     */
    public static void check(LogSettings settings, String what) throws IOException {
        Path file = settings.xferlog();
        if (file == null) {
            return;
        }
        if (Files.isDirectory(file)) {
            throw new IOException(what + ": " + file + " is a directory; expected the file to append xferlog lines to");
        }
        if (Files.exists(file)) {
            if (!Files.isWritable(file)) {
                throw new IOException(what + ": cannot append to " + file + " (permission denied)");
            }
            return;
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IOException(what + ": cannot create " + file + " (no such directory: " + parent + ")");
        }
        if (!Files.isWritable(parent)) {
            throw new IOException(what + ": cannot create " + file + " (directory " + parent + " is not writable)");
        }
    }

    /** Sets Logback up for {@code settings}; throws when the xferlog file cannot be opened for appending. */
    public static void apply(LogSettings settings, String what) throws IOException {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        if (settings.format() == LogSettings.Format.JSON) {
            consoleEncoder(context);
        }
        Logger xferlog = context.getLogger(XFERLOG);
        xferlog.setAdditive(false);
        xferlog.detachAndStopAllAppenders();
        if (settings.xferlog() == null) {
            xferlog.setLevel(Level.OFF);
            return;
        }
        check(settings, what);
        // Opened here first for the operator's message: Logback reports a failed open only on its status list.
        try (OutputStream ignored = Files.newOutputStream(settings.xferlog(), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            // created if missing; nothing written
        } catch (IOException e) {
            throw new IOException(what + ": cannot append to " + settings.xferlog() + " (" + e.getMessage() + ")", e);
        }
        xferlog.addAppender(fileAppender(context, settings.xferlog()));
        xferlog.setLevel(Level.INFO);
    }

    /** The JSON encoder in place of logback.xml's pattern; a Logback set-up of the operator's own is left alone. */
    private static void consoleEncoder(LoggerContext context) {
        Appender<ILoggingEvent> appender = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(CONSOLE);
        if (!(appender instanceof ConsoleAppender<ILoggingEvent> console)) {
            return;
        }
        JsonLines json = new JsonLines();
        json.setContext(context);
        json.start();
        console.stop();
        console.setEncoder(json);
        console.start();
    }

    private static FileAppender<ILoggingEvent> fileAppender(LoggerContext context, Path file) throws IOException {
        PatternLayoutEncoder line = new PatternLayoutEncoder();
        line.setContext(context);
        line.setPattern("%msg%n");
        line.setCharset(StandardCharsets.UTF_8);
        line.start();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName(XFERLOG_APPENDER);
        appender.setFile(file.toString());
        // Append mode opens the file with O_APPEND: what makes logrotate's copytruncate safe.
        appender.setAppend(true);
        appender.setEncoder(line);
        appender.start();
        if (!appender.isStarted()) {
            throw new IOException("cannot open " + file + " for appending");
        }
        return appender;
    }
}
