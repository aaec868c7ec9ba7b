package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.policy.Bandwidth;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --max-upload-rate} and {@code --max-download-rate} on {@code ferry server} and {@code ferry cluster}. */
class BandwidthFlagsTest {

    @TempDir
    Path dir;

    private ServerSettings server(String... args) throws Exception {
        ServerCommand command = new ServerCommand();
        String[] all = new String[args.length + 2];
        all[0] = "--root";
        all[1] = dir.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        new CommandLine(command).parseArgs(all);
        return command.settings();
    }

    @Test
    void theFlagsSetTheServersRates() throws Exception {
        assertThat(server().limits().bandwidth()).isEqualTo(Bandwidth.UNLIMITED);
        assertThat(server("--max-upload-rate", "8MiB", "--max-download-rate", "100MiB").limits().bandwidth())
                .isEqualTo(new Bandwidth(8L << 20, 100L << 20));
        assertThat(server("--max-download-rate", "1000").limits().bandwidth()).isEqualTo(new Bandwidth(0, 1000));
    }

    @Test
    void aFlagReplacesTheFilesRateAndLeavesTheOtherDirection() throws Exception {
        Path file = Files.writeString(dir.resolve("ferry.yaml"),
                "server:\n  limits:\n    upload-rate: 1MiB\n    download-rate: 2MiB\n");
        assertThat(server("--config", file.toString(), "--max-download-rate", "0").limits().bandwidth())
                .isEqualTo(new Bandwidth(1 << 20, 0));
    }

    @Test
    void theClustersFlagsGoToEachServersLimits() {
        ServerSettings.Limits limits = BandwidthFlags.apply(ServerSettings.Limits.DEFAULTS, null, "4MiB");
        assertThat(limits.bandwidth()).isEqualTo(new Bandwidth(0, 4 << 20));
        assertThat(limits.withBandwidth(Bandwidth.UNLIMITED)).isEqualTo(ServerSettings.Limits.DEFAULTS);
        assertThat(BandwidthFlags.apply(ServerSettings.Limits.DEFAULTS, null, null)).isSameAs(ServerSettings.Limits.DEFAULTS);
        assertThatThrownBy(() -> BandwidthFlags.apply(ServerSettings.Limits.DEFAULTS, "8MB", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--max-upload-rate: expected a rate in bytes per second such as 10MiB (0: no limit), got '8MB'"
                        + " (use KiB, MiB, GiB or TiB)");
    }
}
