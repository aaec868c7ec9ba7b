package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.BalancerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code --max-sessions-per-address N} and {@code --login-timeout DURATION}: defaults, the file, and what is refused. */
class BalancerAdmissionOptionsTest {

    @TempDir
    Path dir;

    private static BalancerSettings settings(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--backend", "ftp1=127.0.0.2:2121"));
        all.addAll(List.of(args));
        BalancerCommand command = new BalancerCommand();
        new CommandLine(command).parseArgs(all.toArray(String[]::new));
        return command.settings();
    }

    @Test
    void byDefaultOneAddressMayHoldHalfOfMaxSessionsRoundedUp() throws Exception {
        assertThat(settings().perAddressLimit()).isEqualTo(1000);
        // The benchmark's balancer: 1,000 idle sessions, or bursts of 200, from one address fit.
        assertThat(settings("--max-sessions", "2400").perAddressLimit()).isEqualTo(1200);
        assertThat(settings("--max-sessions", "5").perAddressLimit()).isEqualTo(3);
        assertThat(settings("--max-sessions", "1").perAddressLimit()).isEqualTo(1);
        assertThat(settings().timeouts().login()).isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void theFlagsSetAnAbsoluteLimitAndTheLoginTimeout() throws Exception {
        BalancerSettings s = settings("--max-sessions", "100", "--max-sessions-per-address", "100", "--login-timeout", "20s");

        assertThat(s.perAddressLimit()).as("as many as max-sessions: no limit of its own").isEqualTo(100);
        assertThat(s.timeouts().login()).isEqualTo(Duration.ofSeconds(20));
        assertThat(s.timeouts().clientIdle()).as("the other timeouts untouched").isEqualTo(BalancerSettings.Timeouts.DEFAULTS.clientIdle());
    }

    @Test
    void theFlagsOverrideTheFileAndMaxSessionsOnTheCommandLineMovesTheDefault() throws Exception {
        Path file = dir.resolve("balancer.yaml");
        Files.writeString(file, """
                balancer:
                  max-sessions: 10
                  max-sessions-per-address: 4
                  timeouts:
                    login: 5s
                """);
        Path withoutLimit = dir.resolve("without-limit.yaml");
        Files.writeString(withoutLimit, """
                balancer:
                  max-sessions: 10
                """);

        BalancerSettings fromFile = settings("--config", file.toString());
        BalancerSettings overridden = settings("--config", file.toString(), "--max-sessions-per-address", "6", "--login-timeout", "7s");
        BalancerSettings derived = settings("--config", withoutLimit.toString(), "--max-sessions", "30");

        assertThat(fromFile.perAddressLimit()).isEqualTo(4);
        assertThat(fromFile.timeouts().login()).isEqualTo(Duration.ofSeconds(5));
        assertThat(overridden.perAddressLimit()).isEqualTo(6);
        assertThat(overridden.timeouts().login()).isEqualTo(Duration.ofSeconds(7));
        assertThat(derived.perAddressLimit()).isEqualTo(15);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--max-sessions-per-address | 0    | --max-sessions-per-address: expected a number of at least 1, got 0",
            "--max-sessions-per-address | -3   | --max-sessions-per-address: expected a number of at least 1, got -3",
            "--login-timeout            | 0s   | --login-timeout: expected a duration above zero such as 30s, got '0s'",
            "--login-timeout            | soon | --login-timeout: expected a duration such as 500ms, 30s, 5m, 1h or 1d (a plain number is seconds), got 'soon'",
    })
    void impossibleValuesAreRefusedWithTheFlagsName(String flag, String value, String message) {
        assertThatThrownBy(() -> settings(flag, value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }
}
