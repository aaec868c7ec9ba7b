package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.net.NetworkAddress;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.ServerSettings;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files in examples/ are what operators copy first: they must load, and mean what their comments say. */
class ExamplesTest {

    // Surefire runs in the module directory.
    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    private static final Path MIGRATION_GUIDE = EXAMPLES.resolveSibling("docs").resolve("migrating-from-haproxy.md");

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
    void serverExamplesCommentedStorageSectionLoadsOnceUncommented() throws Exception {
        String example = Files.readString(EXAMPLES.resolve("ferry-server.yaml"));
        StringBuilder uncommented = new StringBuilder();
        boolean inBlock = false;
        for (String line : example.split("\n", -1)) {
            inBlock = line.equals("  # storage:") || inBlock && line.startsWith("  #   ");
            uncommented.append(inBlock ? "  " + line.substring(4) : line).append('\n');
        }
        assertThat(uncommented.toString()).contains("\n  storage:\n    bucket: ferry\n");
        Path copy = Files.writeString(dir.resolve("ferry-server.yaml"), uncommented);
        Files.copy(EXAMPLES.resolve("users.yaml"), dir.resolve("users.yaml"));
        Files.writeString(dir.resolve("s3-credentials"), "[default]\n");

        ServerSettings settings = ServerConfigFile.load(copy, ServerSettings.defaults(Path.of("/unused")));

        assertThat(settings.objectStore().url()).isEqualTo("s3://ferry/ftp");
        assertThat(settings.objectStore().endpoint()).hasToString("http://127.0.0.1:9000");
        assertThat(settings.objectStore().pathStyle()).isTrue();
        assertThat(settings.objectStore().credentialsFile()).isEqualTo(dir.resolve("s3-credentials"));
        assertThat(settings.objectStore().homePrefix(settings.root(), settings.users().getFirst().home())).isEqualTo("ftp/alice/");
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

    /** docs/tls-passthrough.md: the balancer holds no key; each backend's range is its server's range. */
    @Test
    void passthroughExampleGivesEachBackendTheRangeItsServerUses() throws Exception {
        Path example = EXAMPLES.resolve("balancer-passthrough.yaml");
        BalancerSettings b = BalancerConfigFile.load(example, BalancerSettings.defaults());
        ServerSettings ftp1 = ServerConfigFile.load(example, ServerSettings.defaults(Path.of("/unused")));

        assertThat(b.tls().mode()).isEqualTo(BalancerSettings.TlsMode.PASSTHROUGH);
        assertThat(b.tls().certificate()).as("no key at the balancer").isNull();
        assertThat(b.backends()).containsExactly(
                new BackendSpec("ftp1", new InetSocketAddress("10.0.1.11", 21), 1, BackendSpec.DEFAULT_MAX_CONNECTING, 40000, 40049),
                new BackendSpec("ftp2", new InetSocketAddress("10.0.1.12", 21), 2, BackendSpec.DEFAULT_MAX_CONNECTING, 40050, 40099));
        assertThat(b.balance()).isEqualTo(BalancerSettings.Balance.LEASTCONN);
        assertThat(b.proxyProtocol()).isEqualTo(BalancerSettings.ProxyProtocol.V2);
        assertThat(b.check().type()).isEqualTo(BalancerSettings.CheckType.FTP);

        assertThat(ftp1.listen()).isEqualTo(b.backends().get(0).address());
        assertThat(new int[] {ftp1.passive().portLow(), ftp1.passive().portHigh()}).containsExactly(40000, 40049);
        assertThat(ftp1.passive().publicAddress()).isEqualTo(b.listen().getHostString());
        assertThat(ftp1.trustedProxies()).containsExactly("10.0.1.10/32");
        assertThat(ftp1.tls().policy()).isEqualTo(TlsPolicy.REQUIRED);
        assertThat(ftp1.tls().reuse()).isEqualTo(SessionReuse.REQUIRED);
    }

    /** docs/migrating-from-haproxy.md translates this haproxy.cfg: bind, maxconn, server lines, check, timeouts, send-proxy-v2. */
    @Test
    void fromHaproxyExampleHasTheValuesOfTheHaproxyCfgItTranslates() throws Exception {
        BalancerSettings b = BalancerConfigFile.load(EXAMPLES.resolve("from-haproxy.yaml"), BalancerSettings.defaults());

        assertThat(b.listen()).isEqualTo(new InetSocketAddress("203.0.113.7", 21));
        assertThat(new int[] {b.passiveLow(), b.passiveHigh()}).containsExactly(30000, 30020);
        assertThat(b.publicAddress()).as("the address the client reached: the VIP").isNull();
        assertThat(b.backends()).containsExactly(
                new BackendSpec("ftp1", new InetSocketAddress("10.0.1.11", 21), 1),
                new BackendSpec("ftp2", new InetSocketAddress("10.0.1.12", 21), 2));
        assertThat(b.balance()).isEqualTo(BalancerSettings.Balance.LEASTCONN);
        assertThat(b.check()).isEqualTo(new BalancerSettings.Check(BalancerSettings.CheckType.FTP,
                Duration.ofSeconds(10), Duration.ofSeconds(2), 2, 2, null, null));
        assertThat(b.maxSessions()).isEqualTo(2000);
        assertThat(b.queue()).isEqualTo(new BalancerSettings.Queue(200, Duration.ofSeconds(10)));
        assertThat(b.timeouts()).isEqualTo(new BalancerSettings.Timeouts(Duration.ofSeconds(5), Duration.ofMinutes(5),
                Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMinutes(1)));
        assertThat(b.retries()).isEqualTo(3);
        assertThat(b.proxyProtocol()).isEqualTo(BalancerSettings.ProxyProtocol.V2);

        ServerSettings s = ServerConfigFile.load(EXAMPLES.resolve("from-haproxy.yaml"), ServerSettings.defaults(Path.of("/unused")));
        assertThat(s.listen()).isEqualTo(new InetSocketAddress(21));
        assertThat(s.passive()).as("no pasv_address, no shared range").isEqualTo(ServerSettings.Passive.DEFAULTS);
        assertThat(s.trustedProxies()).containsExactly("10.0.1.10/32");
        assertThat(s.limits()).isEqualTo(new ServerSettings.Limits(500, 50, Duration.ofMinutes(5), Duration.ofMinutes(5),
                ServerSettings.Limits.DEFAULTS.maxCommandLength(), ServerSettings.Limits.DEFAULTS.loginTimeout()));
    }

    /** The guide shows the example with shorter comments: both must say the same. */
    @Test
    void migrationGuideShowsTheFromHaproxyExample() throws Exception {
        String guide = Files.readString(MIGRATION_GUIDE);
        int section = guide.indexOf("## The same set-up in Ferry");
        assertThat(section).isNotNegative();
        int start = guide.indexOf("```yaml\n", section) + "```yaml\n".length();
        String yaml = guide.substring(start, guide.indexOf("```", start));
        Path shown = Files.writeString(dir.resolve("from-guide.yaml"), yaml);
        Files.copy(EXAMPLES.resolve("users.yaml"), dir.resolve("users.yaml"));
        Path example = EXAMPLES.resolve("from-haproxy.yaml");

        assertThat(BalancerConfigFile.load(shown, BalancerSettings.defaults()))
                .isEqualTo(BalancerConfigFile.load(example, BalancerSettings.defaults()));
        ServerSettings fromGuide = ServerConfigFile.load(shown, ServerSettings.defaults(Path.of("/unused")));
        ServerSettings fromExample = ServerConfigFile.load(example, ServerSettings.defaults(Path.of("/unused")));
        // The users file sits beside each file: equal accounts, different paths.
        assertThat(fromGuide.withUsers(fromGuide.users(), null)).isEqualTo(fromExample.withUsers(fromExample.users(), null));
    }
}
