package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.config.StateDirectory;
import dev.ferry.server.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Where the self-signed certificate goes: {@code --state-dir}, then the file's {@code state-directory}, then
 * (under systemd) {@code $STATE_DIRECTORY}, else where a run by hand always kept it; the older
 * {@code tls.self-signed-directory} still wins for the certificate.
 */
class StateDirectoryOptionTest {

    @TempDir
    Path dir;

    @BeforeEach
    void notUnderSystemd() {
        assumeTrue(System.getenv(StateDirectory.VARIABLE) == null, "the test's own environment sets $STATE_DIRECTORY");
    }

    private ServerSettings server(String... args) throws Exception {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    private BalancerSettings balancer(String... args) throws Exception {
        BalancerCommand command = new BalancerCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    @Test
    void theFlagChoosesTheServersCertificateDirectory() throws Exception {
        ServerSettings s = server("--root", dir.resolve("ftp").toString(), "--state-dir", dir.resolve("state").toString());

        assertThat(s.stateDirectory()).isEqualTo(dir.resolve("state"));
        assertThat(s.tls().selfSignedDirectory()).isEqualTo(dir.resolve("state"));
    }

    @Test
    void theFilesKeyIsRelativeToTheFileAndTheFlagOverridesIt() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), "server:\n  root: ftp\n  state-directory: state\n");

        assertThat(server("--config", config.toString()).tls().selfSignedDirectory()).isEqualTo(dir.resolve("state"));
        assertThat(server("--config", config.toString(), "--state-dir", dir.resolve("other").toString())
                .tls().selfSignedDirectory()).isEqualTo(dir.resolve("other"));
    }

    @Test
    void withoutASettingARunByHandKeepsItWhereItAlwaysWas() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), "server:\n  root: ftp\n");

        assertThat(server("--config", config.toString()).tls().selfSignedDirectory()).as("beside the config file").isEqualTo(dir);
        assertThat(server("--root", dir.resolve("srv/ftp").toString()).tls().selfSignedDirectory())
                .as("beside the root, never inside it").isEqualTo(dir.resolve("srv"));
    }

    @Test
    void theOlderTlsKeyStillWinsForTheCertificate() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"),
                "server:\n  root: ftp\n  tls:\n    self-signed-directory: keep\n");

        ServerSettings s = server("--config", config.toString(), "--state-dir", dir.resolve("state").toString());
        assertThat(s.stateDirectory()).isEqualTo(dir.resolve("state"));
        assertThat(s.tls().selfSignedDirectory()).isEqualTo(dir.resolve("keep"));
    }

    @Test
    void theBalancersSelfSignedCertificateGoesToItsStateDirectory() throws Exception {
        BalancerSettings s = balancer("--backend", "a=127.0.0.1:2121", "--tls-mode", "terminate",
                "--state-dir", dir.resolve("state").toString());
        assertThat(s.tls().selfSignedDirectory()).isEqualTo(dir.resolve("state"));

        Path config = Files.writeString(dir.resolve("balancer.yaml"),
                "balancer:\n  backends:\n    - {name: a, address: 127.0.0.1:2121}\n  state-directory: state\n  tls:\n    mode: terminate\n");
        assertThat(balancer("--config", config.toString()).tls().selfSignedDirectory()).isEqualTo(dir.resolve("state"));
        Path older = Files.writeString(dir.resolve("older.yaml"), "balancer:\n  backends:\n    - {name: a, address: 127.0.0.1:2121}\n"
                + "  state-directory: state\n  tls:\n    mode: terminate\n    self-signed-directory: keep\n");
        assertThat(balancer("--config", older.toString(), "--state-dir", dir.resolve("other").toString())
                .tls().selfSignedDirectory()).as("the older, narrower key wins").isEqualTo(dir.resolve("keep"));
        assertThat(balancer("--config", config.toString(), "--state-dir", dir.resolve("other").toString())
                .tls().selfSignedDirectory()).as("the flag overrides the file").isEqualTo(dir.resolve("other"));
    }
}
