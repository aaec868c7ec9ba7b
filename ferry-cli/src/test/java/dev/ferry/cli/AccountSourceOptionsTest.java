package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** users: ldap / users: hook in the config file, and the flags that name accounts too. */
class AccountSourceOptionsTest {

    @TempDir
    Path dir;

    private ServerCommand command(String... args) {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    private Path hookConfig() throws Exception {
        return Files.writeString(dir.resolve("ferry.yaml"), """
                server:
                  users: hook
                  auth-hook:
                    url: http://127.0.0.1:9/auth
                """);
    }

    @Test
    void theFilesSourceIsKeptAndUsersFileReplacesIt() throws Exception {
        Path config = hookConfig();
        assertThat(command("--config", config.toString()).settings().accountSource().kind()).isEqualTo("hook");

        Path users = Files.writeString(dir.resolve("users.yaml"), """
                users:
                  - name: alice
                    password: $argon2id$v=19$m=65536,t=3,p=1$t9bE4WMekbwuyuAWFuDFOQ$qtij5sokYSheA4eOxonuCiLiyofl2VnIb6ahem5Tnk0
                """);
        ServerSettings replaced = command("--config", config.toString(), "--users-file", users.toString()).settings();
        assertThat(replaced.accountSource()).isNull();
        assertThat(replaced.users()).extracting(ServerSettings.UserAccount::name).containsExactly("alice");
    }

    @Test
    void aUserFlagBesideAHookIsRefused() throws Exception {
        Path config = hookConfig();
        assertThatThrownBy(() -> command("--config", config.toString(), "--user", "bob:secret").settings())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--user: the config file checks logins with users: hook");
    }
}
