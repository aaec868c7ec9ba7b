package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.runtime.tls.SelfSigned;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Where generated state goes: flag, then file, then systemd's $STATE_DIRECTORY, then the old place. */
class StateDirectoryTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "flag={0} file={1} systemd={2} -> {3}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "/flag | /file | /var/lib/ferry | /flag           | --state-dir",
            "-     | /file | /var/lib/ferry | /file           | server.state-directory",
            "-     | -     | /var/lib/ferry | /var/lib/ferry  | $STATE_DIRECTORY (systemd's StateDirectory=)",
            "-     | -     | /var/lib/ferry:/var/lib/other | /var/lib/ferry | $STATE_DIRECTORY (systemd's StateDirectory=)",
            "-     | -     | relative       | /etc/ferry      | the default without a state directory setting: the config file's directory",
            "-     | -     | -              | /etc/ferry      | the default without a state directory setting: the config file's directory",
    })
    void theFirstSettingThatIsGivenChooses(String flag, String file, String systemd, String path, String chosenBy) {
        StateDirectory s = StateDirectory.choose("server", flag == null ? null : Path.of(flag),
                file == null ? null : Path.of(file), systemd, Path.of("/etc/ferry"), "the config file's directory");

        assertThat(s.path()).isEqualTo(Path.of(path));
        assertThat(s.chosenBy()).isEqualTo(chosenBy);
    }

    @Test
    void aMissingDirectoryIsMade() throws IOException {
        Path state = dir.resolve("var/lib/ferry");
        new StateDirectory(state, "--state-dir").requireWritableForSelfSigned(state, "-", "server", "server.tls.cert");

        assertThat(state).isDirectory();
    }

    /** The installed layout's failure: the message names the directory, what chose it, and the settings to change. */
    @Test
    void aDirectoryThatCannotBeMadeNamesItselfAndTheSetting() throws IOException {
        Path file = Files.writeString(dir.resolve("etc"), "not a directory");
        Path state = file.resolve("ferry");

        assertThatThrownBy(() -> StateDirectory.choose("server", null, null, null, state, "the config file's directory")
                .requireWritableForSelfSigned(state, "server.tls.self-signed-directory", "server", "server.tls.cert"))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot keep the self-signed certificate in " + state + " (")
                .hasMessageContaining("; chosen by the default without a state directory setting: the config file's directory). "
                        + "Set server.state-directory or --state-dir to a directory this account can write (the systemd unit's "
                        + "StateDirectory=ferry gives /var/lib/ferry), or give a certificate (server.tls.cert, --tls-cert)");
    }

    @Test
    void theOlderTlsKeyIsNamedWhenItChoseTheDirectory() throws IOException {
        Path file = Files.writeString(dir.resolve("keep"), "not a directory");

        assertThatThrownBy(() -> new StateDirectory(dir.resolve("state"), "--state-dir")
                .requireWritableForSelfSigned(file.resolve("x"), "balancer.tls.self-signed-directory", "balancer",
                        "balancer.tls.certificate"))
                .hasMessageContaining("chosen by balancer.tls.self-signed-directory). Set balancer.state-directory or --state-dir");
    }

    @Test
    void aKeptCertificateNeedsNoWriting() throws IOException {
        Path state = Files.createDirectories(dir.resolve("state"));
        Files.writeString(state.resolve(SelfSigned.CERTIFICATE_FILE), "pem");
        Files.writeString(state.resolve(SelfSigned.KEY_FILE), "pem");
        state.toFile().setWritable(false, false);
        try {
            new StateDirectory(state, "--state-dir").requireWritableForSelfSigned(state, "-", "server", "server.tls.cert");
        } finally {
            state.toFile().setWritable(true, true);
        }
    }
}
