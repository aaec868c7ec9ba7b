package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.ServerSettings.NetworkAddress;
import dev.ferry.server.ServerSettings.UserAccount;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files in examples/ are what operators copy first: they must load, and mean what their comments say. */
class ExamplesTest {

    // Surefire runs in the module directory.
    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void serverExampleLoadsWithItsUsersFile() throws Exception {
        ServerSettings defaults = ServerSettings.defaults(Path.of("/unused"));
        ServerSettings settings = ServerConfigFile.load(EXAMPLES.resolve("ferry-server.yaml"), defaults);

        Path root = Path.of("/srv/ftp");
        assertThat(settings.listen()).isEqualTo(new InetSocketAddress("127.0.0.1", 2121));
        assertThat(settings.root()).isEqualTo(root);
        assertThat(settings.usersFile()).isEqualTo(EXAMPLES.resolve("users.yaml"));
        assertThat(settings.users()).extracting(UserAccount::name).containsExactly("alice", "bob", "carol");
        assertThat(settings.anonymous()).isEqualTo(new ServerSettings.Anonymous(false, root.resolve("pub")));
        assertThat(settings.passive()).isEqualTo(new ServerSettings.Passive(40000, 40100, "203.0.113.7",
                List.of(new NetworkAddress("10.0.0.0/8", "10.0.0.5")), ServerSettings.Passive.DEFAULTS.acceptTimeout()));
        // Apart from the values above, the example spells out the defaults.
        assertThat(settings.limits()).isEqualTo(ServerSettings.Limits.DEFAULTS);
        assertThat(settings.loginPolicy()).isEqualTo(ServerSettings.LoginPolicy.DEFAULTS);
        assertThat(settings.allowActiveMode()).isEqualTo(defaults.allowActiveMode());
        assertThat(settings.serverName()).isEqualTo(defaults.serverName());
        assertThat(settings.trustedProxies()).as("commented out: off").isEmpty();
        assertThat(settings.metricsListen()).isEqualTo(new InetSocketAddress("127.0.0.1", 9121));
    }

    @Test
    void serverExamplesCommentedProxyProtocolSectionLoadsOnceUncommented() throws Exception {
        String example = Files.readString(EXAMPLES.resolve("ferry-server.yaml"));
        String uncommented = example.replace("  # proxy-protocol:\n  #   trusted:", "  proxy-protocol:\n    trusted:");
        assertThat(uncommented).isNotEqualTo(example);
        Path copy = Files.writeString(dir.resolve("ferry-server.yaml"), uncommented);
        Files.copy(EXAMPLES.resolve("users.yaml"), dir.resolve("users.yaml"));

        ServerSettings settings = ServerConfigFile.load(copy, ServerSettings.defaults(Path.of("/unused")));

        assertThat(settings.trustedProxies()).containsExactly("10.0.1.10/32");
    }

    @Test
    void usersExampleHasOneAccountOfEachKind() throws Exception {
        Path root = Path.of("/srv/ftp");
        List<UserAccount> users = UsersFile.load(EXAMPLES.resolve("users.yaml"), root);
        assertThat(users).extracting(UserAccount::name, UserAccount::home, UserAccount::writable, UserAccount::enabled)
                .containsExactly(
                        Tuple.tuple("alice", root.resolve("alice"), true, true),
                        Tuple.tuple("bob", root.resolve("shared"), false, true),
                        Tuple.tuple("carol", null, true, false));
        assertThat(users).allSatisfy(u -> assertThat(u.passwordHash()).startsWith("$argon2id$v=19$"));
    }
}
