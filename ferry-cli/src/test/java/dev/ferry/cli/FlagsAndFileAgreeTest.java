package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.config.BalancerConfigFile;
import dev.ferry.config.ConfigException;
import dev.ferry.config.ServerConfigFile;
import dev.ferry.config.Setting;
import dev.ferry.server.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * A setting given as a flag is refused exactly when the same value in the config file is, and in the same
 * words after the prefix ("--flag: " on the command line, "FILE:LINE:COL: key: " in the file). Each case is a
 * value one front-end used to accept or word differently.
 */
class FlagsAndFileAgreeTest {

    @TempDir
    Path dir;

    @Test
    void anIpv6PublicAddressIsRefusedAtStartByTheServerFlagAsByTheFile() throws Exception {
        String problem = "expected an IPv4 address such as 203.0.113.7 or a host name such as ftp.example.com, got '::1'"
                + " (PASV replies carry IPv4 addresses only; IPv6 clients use EPSV, which names no address)";

        assertThat(serverFlagError("--public-address", "::1")).isEqualTo("--public-address: " + problem);
        assertThat(serverFileError("""
                server:
                  passive:
                    public-address: "::1"
                """)).isEqualTo("server.passive.public-address: " + problem);
    }

    @Test
    void userAndAdminUserFlagsFollowTheFilesNameRule() throws Exception {
        String problem = "expected a user name of 1 to 64 letters, digits and . _ - @ +, got 'al ice'";

        assertThat(serverFlagError("--user", "al ice:secret")).isEqualTo("--user: " + problem);
        assertThat(serverFileError("server:\n  users: [{name: al ice, password: x}]\n")).isEqualTo("server.users[0].name: " + problem);
        assertThat(balancerFlagError("--admin-user", "al ice:secret")).isEqualTo("--admin-user: " + problem);
        assertThat(balancerFileError("balancer:\n  admin:\n    users: [{name: al ice, password-hash: x, role: admin}]\n"))
                .isEqualTo("balancer.admin.users[0].name: " + problem);
    }

    @Test
    void aBackendFlagIsCheckedAsABackendsEntry() throws Exception {
        assertThat(balancerFlagError("--backend", "b/1=127.0.0.2:21"))
                .isEqualTo("--backend 'b/1': expected a backend name of 1 to 64 letters, digits and . _ -, got 'b/1'");
        assertThat(balancerFileError(backendEntry("name: b/1", "address: 127.0.0.2:21")))
                .isEqualTo("balancer.backends[0].name: expected a backend name of 1 to 64 letters, digits and . _ -, got 'b/1'");

        String wildcard = "expected the address of an FTP server, got a wildcard host (name the server's host)";
        assertThat(balancerFlagError("--backend", "b1=:21")).isEqualTo("--backend b1: address " + wildcard);
        assertThat(balancerFileError(backendEntry("name: b1", "address: ':21'"))).isEqualTo("balancer.backends[0].address: " + wildcard);

        assertThat(balancerFlagError("--backend", "b1=127.0.0.2:21,weight=257"))
                .isEqualTo("--backend b1: weight expected a number from 0 to 256, got 257");
        assertThat(balancerFileError(backendEntry("name: b1", "address: 127.0.0.2:21", "weight: 257")))
                .isEqualTo("balancer.backends[0].weight: expected a number from 0 to 256, got 257");
    }

    @Test
    void aCheckPasswordOnTwoLinesIsRefusedWithoutShowingIt() throws Exception {
        String problem = "expected a password on one line; the value contains control characters (it is not shown here)";

        assertThat(balancerFlagError("--check-user", "probe:se\r\nDELE x")).isEqualTo("--check-user: " + problem);
        assertThat(balancerFileError("""
                balancer:
                  backends: [{name: b1, address: 127.0.0.2:21}]
                  check:
                    user: probe
                    password: "se\\r\\nDELE x"
                """)).isEqualTo("balancer.check.password: " + problem);
    }

    @Test
    void zeroDurationsTheFileRefusesAreRefusedAsFlags() throws Exception {
        assertThat(balancerFlagError("--check-interval", "0"))
                .isEqualTo("--check-interval: expected a duration above zero such as 30s, got '0'");
        assertThat(balancerFileError("""
                balancer:
                  backends: [{name: b1, address: 127.0.0.2:21}]
                  check:
                    interval: 0
                """)).isEqualTo("balancer.check.interval: expected a duration above zero such as 30s, got '0'");

        assertThat(serverFlagError("--idle-timeout", "0s")).isEqualTo("--idle-timeout: expected a duration above zero such as 30s, got '0s'");
        assertThat(serverFileError("""
                server:
                  limits:
                    idle-timeout: 0s
                """)).isEqualTo("server.limits.idle-timeout: expected a duration above zero such as 30s, got '0s'");
    }

    /**
     * Each flag that stands for a key ({@link Setting} rows with a flag): a value below the minimum, zero where
     * it is refused, gives the key's words ("--max-sessions: expected a number of at least 1, got 0").
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("flaggedSettings")
    void everyFlagOfASettingRefusesWhatItsKeyRefuses(String path, Setting<?> setting) throws Exception {
        String bad = refused(setting, "0") ? "0" : "-1";
        String problem = messageOf(() -> setting.parse(bad));

        boolean server = path.startsWith("server.");
        String flagError = server ? serverFlagError(setting.flag(), bad) : balancerFlagError(setting.flag(), bad);
        String fileError = server ? serverFileError(yamlOf(path, bad)) : balancerFileError(yamlOf(path, bad));

        assertThat(flagError).isEqualTo(setting.flag() + ": " + problem);
        assertThat(fileError).isEqualTo(path + ": " + problem);
    }

    static Stream<Arguments> flaggedSettings() {
        return Setting.all().stream().filter(s -> s.flag() != null).map(s -> Arguments.of(s.path(), s));
    }

    @Test
    void aBackendsOwnPassiveRangeOfZeroIsRefusedInTheSameWords() throws Exception {
        String problem = "expected the backend's own passive port range LOW-HIGH such as 40000-40049, got '0'"
                + " (0, any port, cannot be mapped to a backend)";

        assertThat(balancerFlagError("--backend", "b1=127.0.0.2:21,passive-ports=0")).isEqualTo("--backend b1: passive-ports " + problem);
        assertThat(balancerFileError(backendEntry("name: b1", "address: 127.0.0.2:21", "passive-ports: 0")))
                .isEqualTo("balancer.backends[0].passive-ports: " + problem);
    }

    @Test
    void anFtpLoginCheckWithoutAnAccountIsRefusedInTheSameWords() throws Exception {
        String noAccount = "ftp-login logs in, so it needs an account that exists on every backend:"
                + " --check-user NAME:PASSWORD, or user and password under balancer.check";

        assertThat(balancerFlagError("--check", "ftp-login")).isEqualTo("--check: " + noAccount);
        assertThat(balancerFileError("balancer:\n  check:\n    type: ftp-login\n")).isEqualTo("balancer.check.type: " + noAccount);

        String noPassword = "ftp-login logs in, so it needs the password of user 'probe':"
                + " --check-user probe:PASSWORD, or password under balancer.check";
        Path userOnly = Files.writeString(dir.resolve("user-only.yaml"), "balancer:\n  check:\n    user: probe\n");

        assertThat(balancerFlagError("--config", userOnly.toString(), "--check", "ftp-login")).isEqualTo("--check: " + noPassword);
        assertThat(balancerFileError("balancer:\n  check:\n    type: ftp-login\n    user: probe\n"))
                .isEqualTo("balancer.check.type: " + noPassword);
    }

    @Test
    void everyFlagErrorNamesItsFlag() {
        assertThat(balancerFlagError("--grace", "soon")).startsWith("--grace: expected a duration");
        assertThat(balancerFlagError("--listen", "nowhere")).startsWith("--listen: expected HOST:PORT");
        assertThat(balancerFlagError("--balance", "random"))
                .isEqualTo("--balance: expected one of leastconn, roundrobin, source or user, got 'random'");
        assertThat(serverFlagError("--passive-ports", "9-1")).startsWith("--passive-ports: expected a port range");
    }

    @Test
    void theSourceFlagIsCheckedAndSetAsTheFilesSource() throws Exception {
        String problem = "expected a local IP address such as 10.0.1.10 or fd00::10, got '0.0.0.0'"
                + " (the wildcard address lets routing pick, which is what leaving source out does)";

        assertThat(balancerFlagError("--source", "0.0.0.0")).isEqualTo("--source: " + problem);
        assertThat(balancerFileError("balancer:\n  source: 0.0.0.0\n")).isEqualTo("balancer.source: " + problem);
        assertThat(balancer("--source", "127.0.0.9").source()).isEqualTo(java.net.InetAddress.getByName("127.0.0.9"));
        assertThat(balancer().source()).as("default: routing picks").isNull();
    }

    @Test
    void flagSpellingsStayCaseInsensitive() throws Exception {
        assertThat(balancer("--check", "FTP_LOGIN", "--check-user", "probe:pw").check().type())
                .isEqualTo(BalancerSettings.CheckType.FTP_LOGIN);
        assertThat(balancer("--balance", "RoundRobin").balance()).isEqualTo(BalancerSettings.Balance.ROUNDROBIN);
    }

    /** "balancer.check.rise" and "0" as "balancer:\n  check:\n    rise: 0\n". */
    private static String yamlOf(String path, String value) {
        StringBuilder yaml = new StringBuilder();
        String[] names = path.split("\\.");
        for (int i = 0; i < names.length; i++) {
            yaml.append("  ".repeat(i)).append(names[i]).append(':').append(i == names.length - 1 ? " " + value : "").append('\n');
        }
        return yaml.toString();
    }

    private static boolean refused(Setting<?> setting, String value) {
        try {
            setting.parse(value);
            return false;
        } catch (IllegalArgumentException e) {
            return true;
        }
    }

    private static String backendEntry(String... keys) {
        return "balancer:\n  backends:\n    - " + String.join("\n      ", keys) + "\n";
    }

    private BalancerSettings balancer(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--backend", "ftp1=127.0.0.2:2121"));
        all.addAll(List.of(args));
        BalancerCommand command = new BalancerCommand();
        new CommandLine(command).parseArgs(all.toArray(String[]::new));
        return command.settings();
    }

    /** The error of the balancer's flags, with a backend unless they give one. */
    private String balancerFlagError(String... flagsAndValues) {
        List<String> args = new ArrayList<>(List.of(flagsAndValues).contains("--backend") ? List.of() : List.of("--backend", "ftp1=127.0.0.2:2121"));
        args.addAll(List.of(flagsAndValues));
        BalancerCommand command = new BalancerCommand();
        new CommandLine(command).parseArgs(args.toArray(String[]::new));
        return messageOf(command::settings);
    }

    private String serverFlagError(String flag, String value) {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--root", dir.toString(), flag, value);
        return messageOf(command::settings);
    }

    private String serverFileError(String yaml) throws Exception {
        Path file = Files.writeString(dir.resolve("server.yaml"), yaml);
        try {
            ServerConfigFile.load(file, ServerSettings.defaults(dir));
        } catch (ConfigException e) {
            return e.problem();
        }
        throw new AssertionError("the file was accepted");
    }

    private String balancerFileError(String yaml) throws Exception {
        Path file = Files.writeString(dir.resolve("balancer.yaml"), yaml);
        try {
            BalancerConfigFile.load(file, BalancerSettings.defaults());
        } catch (ConfigException e) {
            return e.problem();
        }
        throw new AssertionError("the file was accepted");
    }

    private interface Settings {
        Object read() throws Exception;
    }

    private static String messageOf(Settings settings) {
        try {
            settings.read();
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the flag was accepted");
    }
}
