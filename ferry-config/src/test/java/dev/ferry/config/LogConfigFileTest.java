package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.config.LogSettings.Format;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LogConfigFileTest {

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("ferry.yaml");
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    private LogSettings load(String yaml) throws Exception {
        return LogConfigFile.load(write(yaml), LogSettings.DEFAULTS);
    }

    @Test
    void readsFormatAndResolvesXferlogAgainstTheFilesDirectory() throws Exception {
        LogSettings s = load("""
                server:
                  root: /srv/ftp
                log:
                  format: json
                  xferlog: logs/xferlog
                """);
        assertThat(s.format()).isEqualTo(Format.JSON);
        assertThat(s.xferlog()).isEqualTo(dir.resolve("logs/xferlog"));
    }

    @Test
    void absoluteXferlogStaysAsWritten() throws Exception {
        assertThat(load("log:\n  xferlog: /var/log/ferry/xferlog\n").xferlog()).isEqualTo(Path.of("/var/log/ferry/xferlog"));
    }

    @Test
    void fileWithoutLogSectionKeepsTheBase() throws Exception {
        LogSettings base = new LogSettings(Format.JSON, Path.of("/tmp/x"));
        assertThat(LogConfigFile.load(write("balancer:\n  listen: 127.0.0.1:21\n"), base)).isEqualTo(base);
        assertThat(LogConfigFile.load(write("# nothing yet\n"), base)).isEqualTo(base);
    }

    @Test
    void emptyLogSectionKeysKeepTheBase() throws Exception {
        assertThat(load("log:\n  format: logfmt\n")).isEqualTo(LogSettings.DEFAULTS);
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("log:\n  formt: json\n", "2:3",
                        "log: unknown key 'formt'; did you mean 'format'? Allowed keys in log: format, xferlog"),
                Arguments.of("log:\n  format: JSON\n", "2:11", "log.format: expected one of logfmt or json, got 'JSON'"),
                Arguments.of("log:\n  format: [json]\n", "2:11", "log.format: expected one of logfmt or json, got a list"),
                Arguments.of("log:\n  xferlog: ''\n", "2:12", "log.xferlog: expected a path, got an empty value"),
                Arguments.of("log:\n  xferlog: .\n", "2:12", "log.xferlog: " + "DIR" + " is a directory; expected the file to append xferlog lines to"),
                Arguments.of("log: json\n", "1:6", "log: expected a mapping with the keys format, xferlog, got 'json'"),
                Arguments.of("lgo:\n  format: json\n", "1:1", "unknown key 'lgo'; did you mean 'log'? Allowed keys: server, balancer, log"),
                Arguments.of("format: json\n", "1:1", "unknown key 'format'; log settings go inside the `log:` section "
                        + "(indent 'format' under `log:`). Allowed keys: server, balancer, log"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void reportsFileLineColumnAndWhatIsExpected(String yaml, String position, String message) throws IOException {
        Path file = write(yaml);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> LogConfigFile.load(file, LogSettings.DEFAULTS));
        assertThat(e).as("no error for:%n%s", yaml).isNotNull();
        assertThat(e.line() + ":" + e.column()).isEqualTo(position);
        assertThat(e.getMessage()).isEqualTo(file + ":" + position + ": " + message.replace("DIR", dir.toString()));
    }

    @Test
    void theDaemonLoadersAcceptTheLogSection() throws Exception {
        Path file = write("server:\n  root: /srv/ftp\nlog:\n  format: json\n");
        assertThat(ServerConfigFile.load(file, ServerSettings.defaults(Path.of("/r"))).root())
                .isEqualTo(Path.of("/srv/ftp"));
    }
}
