package dev.ferry.cli.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import dev.ferry.config.LogSettings;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Sets up the process's Logback as a start does; each test leaves the xferlog logger off again. */
class LogOutputTest {

    private static final String LINE_1 = "Mon Dec  7 14:07:36 2026 0 127.0.0.3 5 /a.txt b _ o r alice ftp 0 * c";
    private static final String LINE_2 = "Mon Dec  7 14:07:37 2026 0 127.0.0.3 5 /b.txt b _ i r alice ftp 0 * c";

    @TempDir
    Path dir;

    @AfterEach
    void xferlogOff() throws IOException {
        LogOutput.apply(LogSettings.DEFAULTS, "--xferlog");
    }

    private static Logger xferlog() {
        return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(LogOutput.XFERLOG);
    }

    @Test
    void withoutAFileTheXferlogLoggerIsOffAndNotAdditive() throws IOException {
        LogOutput.apply(LogSettings.DEFAULTS, "--xferlog");
        assertThat(xferlog().getLevel()).isEqualTo(Level.OFF);
        assertThat(xferlog().isAdditive()).isFalse();
        assertThat(xferlog().iteratorForAppenders().hasNext()).isFalse();
    }

    @Test
    void xferlogLinesAreAppendedOnePerLineAfterWhatTheFileHeld() throws IOException {
        Path file = dir.resolve("xferlog");
        Files.writeString(file, "kept\n");
        LogOutput.apply(LogSettings.DEFAULTS.withXferlog(file), "--xferlog");
        LoggerFactory.getLogger(LogOutput.XFERLOG).info(LINE_1);
        LoggerFactory.getLogger(LogOutput.XFERLOG).info(LINE_2);
        assertThat(Files.readString(file)).isEqualTo("kept\n" + LINE_1 + "\n" + LINE_2 + "\n");
        assertThat(xferlog().isAdditive()).as("never on the console too").isFalse();
    }

    @Test
    void afterLogrotatesCopytruncateTheNextLineStartsTheEmptyFile() throws IOException {
        Path file = dir.resolve("xferlog");
        LogOutput.apply(LogSettings.DEFAULTS.withXferlog(file), "--xferlog");
        LoggerFactory.getLogger(LogOutput.XFERLOG).info(LINE_1);
        // What logrotate's copytruncate does: copy the file aside, then truncate the original in place.
        Files.copy(file, dir.resolve("xferlog.1"), StandardCopyOption.COPY_ATTRIBUTES);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(0);
        }
        LoggerFactory.getLogger(LogOutput.XFERLOG).info(LINE_2);
        assertThat(Files.readString(dir.resolve("xferlog.1"))).isEqualTo(LINE_1 + "\n");
        // Without O_APPEND the line would land at its old offset, after a hole of zero bytes.
        assertThat(Files.readAllBytes(file)).isEqualTo((LINE_2 + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aFileInAMissingDirectoryIsRefusedWithTheFlagNamed() {
        Path file = dir.resolve("no-such-dir/xferlog");
        assertThatThrownBy(() -> LogOutput.check(LogSettings.DEFAULTS.withXferlog(file), "--xferlog"))
                .isInstanceOf(IOException.class)
                .hasMessage("--xferlog: cannot create " + file + " (no such directory: " + file.getParent() + ")");
        assertThatThrownBy(() -> LogOutput.apply(LogSettings.DEFAULTS.withXferlog(dir), "log.xferlog"))
                .hasMessage("log.xferlog: " + dir + " is a directory; expected the file to append xferlog lines to");
    }

    @Test
    void checkWritesNothing() throws IOException {
        Path file = dir.resolve("xferlog");
        LogOutput.check(LogSettings.DEFAULTS.withXferlog(file), "--xferlog");
        assertThat(file).doesNotExist();
    }
}
