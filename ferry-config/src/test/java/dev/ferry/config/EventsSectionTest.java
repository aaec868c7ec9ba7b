package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.events.EventSettings;
import dev.ferry.server.events.EventSettings.Kind;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code server.events}: what it sets, and FILE:LINE:COL for what it refuses. */
class EventsSectionTest {

    @TempDir
    Path dir;

    private final ServerSettings base = ServerSettings.defaults(Path.of("/srv/ftp"));

    private ServerSettings load(String yaml) throws Exception {
        Path file = dir.resolve("ferry.yaml");
        Files.writeString(file, yaml);
        return ServerConfigFile.load(file, base);
    }

    @Test
    void everyKeyIsRead() throws Exception {
        EventSettings e = load("""
                server:
                  events:
                    webhook: https://hooks.example.com/ferry?token=abc
                    command: [/usr/local/bin/on-upload, --verbose]
                    on: [upload, delete]
                    queue: 50
                    workers: 4
                    retries: 5
                    backoff: 2s
                    timeout: 3s
                    partial-suffixes: [.filepart, .tmp]
                """).events();

        assertThat(e).isEqualTo(new EventSettings(URI.create("https://hooks.example.com/ferry?token=abc"),
                List.of("/usr/local/bin/on-upload", "--verbose"), Set.of(Kind.UPLOAD, Kind.DELETE), 50, 4, 5,
                Duration.ofSeconds(2), Duration.ofSeconds(3), List.of(".filepart", ".tmp")));
        assertThat(e.enabled()).isTrue();
    }

    @Test
    void withoutTheSectionEventsAreOff() throws Exception {
        assertThat(load("server: {}\n").events()).isEqualTo(EventSettings.OFF);
        assertThat(EventSettings.OFF.enabled()).isFalse();
    }

    @Test
    void aWebhookAloneKeepsTheDefaults() throws Exception {
        EventSettings e = load("""
                server:
                  events:
                    webhook: http://127.0.0.1:8080/hook
                """).events();

        assertThat(e.on()).containsExactlyInAnyOrder(Kind.values());
        assertThat(e.queue()).isEqualTo(1000);
        assertThat(e.retries()).isEqualTo(3);
        assertThat(e.partialSuffixes()).containsExactly(".filepart", ".part");
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("webhook: ftp://example.com/x", "3:14",
                        "server.events.webhook: expected " + EventsSection.WEBHOOK + " (with a host name and no #fragment)"),
                Arguments.of("webhook: http://h/x\n    on: [upload, copy]", "4:18",
                        "server.events.on: expected upload, delete or rename, got 'copy'"),
                Arguments.of("webhook: http://h/x\n    on: [upload, upload]", "4:18",
                        "server.events.on: upload is listed twice"),
                Arguments.of("webhook: http://h/x\n    on: []", "4:9",
                        "server.events.on: expected at least one of upload, delete, rename (leave out webhook and command"
                                + " to turn events off)"),
                Arguments.of("command: []", "3:14", "server.events.command: expected the program and its arguments, got an empty list"),
                Arguments.of("webhook: http://h/x\n    queue: 0", "4:12", "server.events.queue: expected a number of at least 1, got 0"),
                Arguments.of("webhook: http://h/x\n    timeout: 0s", "4:14",
                        "server.events.timeout: expected a duration above zero such as 30s, got '0s'"),
                Arguments.of("webhook: http://h/x\n    partial-suffixes: [a/b]", "4:23",
                        "server.events.partial-suffixes: a suffix is the end of a file name, without '/', got 'a/b'"),
                Arguments.of("on: [upload]", "3:5", "server.events: missing key 'webhook' (or 'command': where the events go)"),
                Arguments.of("webhok: http://h/x", "3:5",
                        "server.events: unknown key 'webhok'; did you mean 'webhook'? Allowed keys in server.events: "
                                + String.join(", ", EventsSection.KEYS)));
    }

    @ParameterizedTest(name = "[{index}] {2}")
    @MethodSource("errors")
    void refusedWithFileLineColumn(String body, String position, String problem) throws IOException {
        Path file = dir.resolve("ferry.yaml");
        Files.writeString(file, "server:\n  events:\n    " + body + "\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ServerConfigFile.load(file, base));

        assertThat(e).isNotNull();
        assertThat(e.line() + ":" + e.column()).isEqualTo(position);
        assertThat(e.getMessage()).isEqualTo(file + ":" + position + ": " + problem);
    }

    /** SECURITY: a webhook's query may hold a token; a refused URL is not echoed. */
    @Test
    void aRefusedWebhookIsNotEchoed() {
        assertThatThrownBy(() -> EventsSection.webhook("gopher://h/x?token=s3cret"))
                .hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> EventsSection.webhook("http://h/x?token=s3cret#a b"))
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void theCommandFlagSplitsAtSpaces() {
        assertThat(EventsSection.command(" /bin/hook  --from ferry ")).containsExactly("/bin/hook", "--from", "ferry");
        assertThatThrownBy(() -> EventsSection.command("  ")).hasMessage("expected a program and its arguments separated by spaces");
    }
}
