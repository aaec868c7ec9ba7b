package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.config.ConfigException;
import dev.ferry.config.EventsSection;
import dev.ferry.server.ServerSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** --event-webhook and --event-command: what they set, over the file, and what they refuse. */
class EventOptionsTest {

    @TempDir
    Path dir;

    private ServerCommand parsed(String... args) {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void theFlagsSetTheHooksAndKeepTheFilesOtherEventSettings() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), """
                server:
                  events:
                    webhook: http://127.0.0.1:1/old
                    retries: 7
                    timeout: 4s
                """);
        ServerSettings s = parsed("--config", config.toString(), "--state-dir", dir.toString(),
                "--event-webhook", "https://hooks.example.com/ferry?token=x", "--event-command", "/bin/hook --quiet")
                .settings();

        assertThat(s.events().webhook()).isEqualTo(URI.create("https://hooks.example.com/ferry?token=x"));
        assertThat(s.events().command()).containsExactly("/bin/hook", "--quiet");
        assertThat(s.events().retries()).isEqualTo(7);
        assertThat(s.events().timeout()).isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void withoutFlagsOrFileEventsAreOff() throws Exception {
        assertThat(parsed("--state-dir", dir.toString()).settings().events().enabled()).isFalse();
    }

    @Test
    void aBadWebhookIsRefusedNamingTheFlagWithoutEchoingIt() {
        ServerCommand command = parsed("--state-dir", dir.toString(), "--event-webhook", "file:///etc/passwd?token=s3cret");
        String message;
        try {
            command.settings();
            throw new AssertionError("accepted");
        } catch (IllegalArgumentException | ConfigException e) {
            message = e.getMessage();
        }
        assertThat(message).isEqualTo("--event-webhook: expected " + EventsSection.WEBHOOK
                + " (with a host name and no #fragment)").doesNotContain("s3cret");
    }

    @Test
    void theClusterTakesTheSameFlags() {
        ClusterCommand cluster = new ClusterCommand();
        new CommandLine(cluster).parseArgs("--event-webhook", "http://127.0.0.1:8080/h", "--event-command", "/bin/true");
        assertThat(cluster.eventOptions.apply(dev.ferry.server.events.EventSettings.OFF).command())
                .isEqualTo(List.of("/bin/true"));
    }
}
