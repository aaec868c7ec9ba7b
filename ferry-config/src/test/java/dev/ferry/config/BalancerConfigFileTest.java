package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings.Balance;
import dev.ferry.balancer.BalancerSettings.Check;
import dev.ferry.balancer.BalancerSettings.CheckType;
import dev.ferry.balancer.BalancerSettings.ProxyProtocol;
import dev.ferry.balancer.BalancerSettings.Queue;
import dev.ferry.balancer.BalancerSettings.Timeouts;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.runtime.net.NetworkAddress;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class BalancerConfigFileTest {

    // Surefire runs in the module directory.
    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    private static final String SECRET = "s3cret-Pa55";
    /** A hash of a password nobody knows (the parser checks its form, never what it hashes). */
    private static final String HASH = PasswordHasher.hash("unused-Pa55".toCharArray());

    @TempDir
    Path dir;

    private final BalancerSettings base = BalancerSettings.defaults();

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("ferry.yaml");
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    private BalancerSettings load(String yaml) throws Exception {
        return BalancerConfigFile.load(write(yaml), base);
    }

    /** Loads and returns the error, asserting it carries the file's name and position. */
    private ConfigException failure(String yaml, String position) throws IOException {
        Path file = write(yaml);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> BalancerConfigFile.load(file, base));
        assertThat(e).as("no error for:%n%s", yaml).isNotNull();
        assertThat(e.getMessage()).startsWith(file + ":" + position + ": ");
        assertThat(e.line() + ":" + e.column()).isEqualTo(position);
        return e;
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                // --- keys: unknown (with the nearest allowed one), misplaced, duplicate
                Arguments.of("""
                        balancer:
                          balanse: roundrobin
                        """, "2:3", "balancer: unknown key 'balanse'; did you mean 'balance'? Allowed keys in balancer: listen, public-address, networks, passive-ports, backends, balance, check, max-sessions, max-sessions-per-address, queue, timeouts, retries, proxy-protocol, source, greeting, admin, tls, state-directory, node, login, database"),
                Arguments.of("""
                        balancer:
                          check:
                            inter: 5s
                        """, "3:5", "balancer.check: unknown key 'inter'; did you mean 'interval' (HAProxy's inter)? Allowed keys in balancer.check: type, interval, timeout, rise, fall, user, password"),
                Arguments.of("""
                        balancer:
                          timeouts:
                            client_idle: 5m
                        """, "3:5", "balancer.timeouts: unknown key 'client_idle'; did you mean 'client-idle'? Allowed keys in balancer.timeouts: connect, client-idle, server-idle, data, grace, login"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: a
                              adress: 127.0.0.1:21
                        """, "4:7", "balancer.backends[0]: unknown key 'adress'; did you mean 'address'? Allowed keys in balancer.backends[0]: name, address, weight, max-connecting, passive-ports"),
                Arguments.of("""
                        backends: []
                        """, "1:1", "unknown key 'backends'; balancer settings go inside the `balancer:` section (indent 'backends' under `balancer:`). Allowed keys: server, balancer, log"),
                Arguments.of("""
                        balancr:
                          retries: 2
                        """, "1:1", "unknown key 'balancr'; did you mean 'balancer'? Allowed keys: server, balancer, log"),
                Arguments.of("""
                        balancer:
                          retries: 2
                          retries: 3
                        """, "3:3", "balancer: duplicate key 'retries' (first at line 2); each key may appear once"),
                // --- structure
                Arguments.of("""
                        server:
                          listen: 127.0.0.1:21
                        """, "1:1", "missing key 'balancer' (the mapping that holds the balancer settings)"),
                Arguments.of("""
                        balancer:
                        """, "1:10", "balancer: expected a mapping with the keys listen, public-address, networks, passive-ports, backends, balance, check, max-sessions, max-sessions-per-address, queue, timeouts, retries, proxy-protocol, source, greeting, admin, tls, state-directory, node, login, database, got nothing"),
                Arguments.of("""
                        balancer:
                          check: tcp
                        """, "2:10", "balancer.check: expected a mapping with the keys type, interval, timeout, rise, fall, user, password, got 'tcp'"),
                Arguments.of("""
                        balancer:
                          backends: ftp1=127.0.0.1:21
                        """, "2:13", "balancer.backends: expected a list of {name: NAME, address: HOST:PORT, weight: N} entries, got 'ftp1=127.0.0.1:21'"),
                // --- backends
                Arguments.of("""
                        balancer:
                          backends: []
                        """, "2:13", "balancer.backends: expected at least one backend, got an empty list"),
                Arguments.of("""
                        balancer:
                          backends:
                            - address: 127.0.0.1:21
                        """, "3:7", "balancer.backends[0]: missing key 'name' (a backend name of 1 to 64 letters, digits and . _ -)"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                        """, "3:7", "balancer.backends[0]: missing key 'address' (HOST:PORT of the FTP server)"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp one
                              address: 127.0.0.1:21
                        """, "3:13", "balancer.backends[0].name: expected a backend name of 1 to 64 letters, digits and . _ -, got 'ftp one'"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                              address: 127.0.0.1:21
                            - name: ftp2
                              address: 127.0.0.1:22
                            - name: ftp1
                              address: 127.0.0.1:23
                        """, "7:13", "balancer.backends[2].name: duplicate backend 'ftp1' (first at line 3); each name may appear once"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                              address: 127.0.0.1
                        """, "4:16", "balancer.backends[0].address: expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121, got '127.0.0.1' (no port)"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                              address: 127.0.0.1:0
                        """, "4:16", "balancer.backends[0].address: expected HOST:PORT with a port from 1 to 65535, got port 0"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                              address: ":21"
                        """, "4:16", "balancer.backends[0].address: expected the address of an FTP server, got a wildcard host (name the server's host)"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                              address: 127.0.0.1:21
                              weight: 257
                        """, "5:15", "balancer.backends[0].weight: expected a number from 0 to 256, got 257"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                              address: 127.0.0.1:21
                              max-connecting: 0
                        """, "5:23", "balancer.backends[0].max-connecting: expected a number from 1 to 4096, got 0"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                              address: 127.0.0.1:21
                              passive-ports: 40100-40000
                        """, "5:22", "balancer.backends[0].passive-ports: expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port), got '40100-40000' (LOW is above HIGH)"),
                Arguments.of("""
                        balancer:
                          backends:
                            - name: ftp1
                              address: 127.0.0.1:21
                              passive-ports: 0
                        """, "5:22", "balancer.backends[0].passive-ports: expected the backend's own passive port range LOW-HIGH such as 40000-40049, got '0' (0, any port, cannot be mapped to a backend)"),
                Arguments.of("""
                        balancer:
                          queue:
                            size: -1
                        """, "3:11", "balancer.queue.size: expected a number of at least 0, got -1"),
                Arguments.of("""
                        balancer:
                          queue: 10
                        """, "2:10", "balancer.queue: expected a mapping with the keys size, timeout, got '10'"),
                // --- choices
                Arguments.of("""
                        balancer:
                          balance: round-robin
                        """, "2:12", "balancer.balance: expected one of leastconn, roundrobin, source or user, got 'round-robin'"),
                Arguments.of("""
                        balancer:
                          proxy-protocol: v3
                        """, "2:19", "balancer.proxy-protocol: expected one of off, v1 or v2, got 'v3'"),
                Arguments.of("""
                        balancer:
                          check:
                            type: http
                        """, "3:11", "balancer.check.type: expected one of tcp, ftp or ftp-login, got 'http'"),
                // --- check
                Arguments.of("""
                        balancer:
                          check:
                            type: ftp-login
                            password: x
                        """, "3:11", "balancer.check.type: ftp-login logs in, so it needs an account that exists on every backend:"
                                + " --check-user NAME:PASSWORD, or user and password under balancer.check"),
                Arguments.of("""
                        balancer:
                          check:
                            type: ftp-login
                            user: probe
                        """, "3:11", "balancer.check.type: ftp-login logs in, so it needs the password of user 'probe':"
                                + " --check-user probe:PASSWORD, or password under balancer.check"),
                Arguments.of("""
                        balancer:
                          check:
                            interval: 0s
                        """, "3:15", "balancer.check.interval: expected a duration above zero such as 30s, got '0s'"),
                Arguments.of("""
                        balancer:
                          check:
                            rise: 0
                        """, "3:11", "balancer.check.rise: expected a number of at least 1, got 0"),
                Arguments.of("""
                        balancer:
                          check:
                            fall: many
                        """, "3:11", "balancer.check.fall: expected a number of at least 1, got 'many'"),
                // --- other values
                Arguments.of("""
                        balancer:
                          listen: 127.0.0.1
                        """, "2:11", "balancer.listen: expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121, got '127.0.0.1' (no port)"),
                Arguments.of("""
                        balancer:
                          public-address: "::1"
                        """, "2:19", "balancer.public-address: expected an IPv4 address such as 203.0.113.7 or a host name such as ftp.example.com, got '::1' (PASV replies carry IPv4 addresses only; IPv6 clients use EPSV, which names no address)"),
                Arguments.of("""
                        balancer:
                          passive-ports: 40100-40000
                        """, "2:18", "balancer.passive-ports: expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port), got '40100-40000' (LOW is above HIGH)"),
                Arguments.of("""
                        balancer:
                          networks:
                            - network: 10.0.0.0/8
                              address: 10.0.0.5
                            - network: 10.0.0.0/8
                              address: 10.0.0.6
                        """, "5:16", "balancer.networks[1].network: network 10.0.0.0/8 is already listed at line 3; the first matching entry wins, so this one would never apply"),
                Arguments.of("""
                        balancer:
                          max-sessions: 0
                        """, "2:17", "balancer.max-sessions: expected a number of at least 1, got 0"),
                Arguments.of("""
                        balancer:
                          max-sessions-per-address: 0
                        """, "2:29", "balancer.max-sessions-per-address: expected a number of at least 1, got 0"),
                Arguments.of("""
                        balancer:
                          max-sessions-per-address: half
                        """, "2:29", "balancer.max-sessions-per-address: expected a number of at least 1, got 'half'"),
                Arguments.of("""
                        balancer:
                          retries: 101
                        """, "2:12", "balancer.retries: expected a number from 1 to 100, got 101"),
                Arguments.of("""
                        balancer:
                          timeouts:
                            data: soon
                        """, "3:11", "balancer.timeouts.data: expected a duration such as 500ms, 30s, 5m, 1h or 1d (a plain number is seconds), got 'soon'"),
                Arguments.of("""
                        balancer:
                          timeouts:
                            login: 0s
                        """, "3:12", "balancer.timeouts.login: expected a duration above zero such as 30s, got '0s'"),
                Arguments.of("""
                        balancer:
                          timeouts:
                            login-timeout: 30s
                        """, "3:5", "balancer.timeouts: unknown key 'login-timeout'; did you mean 'login' (ferry server's limits.login-timeout)? Allowed keys in balancer.timeouts: connect, client-idle, server-idle, data, grace, login"),
                Arguments.of("""
                        balancer:
                          greeting: ""
                        """, "2:13", "balancer.greeting: expected text, got an empty value"),
                // --- admin listener
                Arguments.of("""
                        balancer:
                          admin:
                            listen: 127.0.0.1
                        """, "3:13", "balancer.admin.listen: expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121, got '127.0.0.1' (no port)"),
                Arguments.of("""
                        balancer:
                          admin:
                            user: alice
                        """, "3:5", "balancer.admin: unknown key 'user'; did you mean 'users'? Allowed keys in balancer.admin: listen, users"),
                Arguments.of("""
                        balancer:
                          admin:
                            users: []
                        """, "3:12", "balancer.admin.users: expected at least one user, got an empty list (the admin page has no default password)"),
                Arguments.of("""
                        balancer:
                          admin:
                            users:
                              - name: alice
                                role: admin
                        """, "4:9", "balancer.admin.users[0]: missing key 'password-hash' (a hash made by `ferry passwd`)"),
                Arguments.of("""
                        balancer:
                          admin:
                            users:
                              - name: alice
                                password-hash: %s
                        """.formatted(HASH), "4:9", "balancer.admin.users[0]: missing key 'role' (admin (may change backends and end sessions) or read-only (sees everything, changes nothing))"),
                Arguments.of("""
                        balancer:
                          admin:
                            users:
                              - name: alice
                                password-hash: %s
                                role: root
                        """.formatted(HASH), "6:15", "balancer.admin.users[0].role: expected admin or read-only, got 'root'"),
                Arguments.of("""
                        balancer:
                          admin:
                            users:
                              - name: "al ice"
                                password-hash: %s
                                role: admin
                        """.formatted(HASH), "4:15", "balancer.admin.users[0].name: expected a user name of 1 to 64 letters, digits and . _ - @ +, got 'al ice'"),
                Arguments.of("""
                        balancer:
                          admin:
                            users:
                              - name: alice
                                password-hash: %s
                                role: admin
                              - name: alice
                                password-hash: %s
                                role: read-only
                        """.formatted(HASH, HASH), "7:15", "balancer.admin.users[1].name: duplicate admin user 'alice' (first at line 4); each name may appear once"),
                Arguments.of("""
                        balancer:
                          admin:
                            users:
                              - name: alice
                                role: admin
                                password-hash: ""
                        """, "6:24", "balancer.admin.users[0].password-hash: " + PasswordHasher.problemWith("")
                        + " (make one with `ferry passwd`; the value is not shown here)"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void reportsTheFirstProblemWithItsPosition(String yaml, String position, String problem) throws Exception {
        assertThat(failure(yaml, position).problem()).isEqualTo(problem);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "lb.example.com | expected a local IP address such as 10.0.1.10 or fd00::10, got 'lb.example.com' ('lb.example.com' is not an IP address)",
            "0.0.0.0 | expected a local IP address such as 10.0.1.10 or fd00::10, got '0.0.0.0' (the wildcard address lets routing pick, which is what leaving source out does)",
            "'10.0.1.10:0' | expected a local IP address such as 10.0.1.10 or fd00::10, got '10.0.1.10:0'"})
    void sourceIsOneLocalAddressLiteral(String value, String problem) throws Exception {
        assertThat(failure("balancer:\n  source: " + value + "\n", "2:11").problem()).startsWith("balancer.source: " + problem);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "'lb a' | a node name may hold only letters, digits, '.', '_' and '-'",
            "'lb/a' | a node name may hold only letters, digits, '.', '_' and '-'"})
    void nodeIsOneLogToken(String value, String problem) throws Exception {
        assertThat(failure("balancer:\n  node: " + value + "\n", "2:9").problem())
                .startsWith("balancer.node: expected a node name such as ftp-1 or lb-a.example.net, got").contains(problem);
    }

    static Stream<Arguments> badPasswords() {
        return Stream.of(
                Arguments.of("password: \"" + SECRET + "\\r\\nDELE x\"", "4:15",
                        "balancer.check.password: expected a password on one line; the value contains control characters (it is not shown here)"),
                Arguments.of("password: \"\"", "4:15", "balancer.check.password: expected the password of the check account, got an empty value"),
                Arguments.of("password: [" + SECRET + "]", "4:15", "balancer.check.password: expected the password of the check account, got a list"));
    }

    @ParameterizedTest
    @MethodSource("badPasswords")
    void neverEchoesTheCheckPassword(String passwordLine, String position, String problem) throws Exception {
        ConfigException e = failure("""
                balancer:
                  check:
                    user: probe
                    %s
                """.formatted(passwordLine), position);
        assertThat(e.problem()).isEqualTo(problem);
        assertThat(e.getMessage()).doesNotContain(SECRET);
    }

    @Test
    void everyKeySetIsRead() throws Exception {
        BalancerSettings s = load("""
                balancer:
                  listen: 127.0.0.1:2300
                  public-address: ftp.example.com
                  networks:
                    - network: 192.168.0.0/16
                      address: 192.168.1.10
                  passive-ports: 41000-41009
                  backends:
                    - name: ftp1
                      address: 127.0.0.1:2121
                    - name: ftp2
                      address: "[::1]:2122"
                      weight: 0
                      max-connecting: 4
                  balance: user
                  check:
                    type: ftp-login
                    interval: 3s
                    timeout: 500ms
                    rise: 3
                    fall: 4
                    user: probe
                    password: "%s"
                  max-sessions: 50
                  max-sessions-per-address: 10
                  queue:
                    size: 7
                    timeout: 3s
                  timeouts:
                    connect: 1s
                    client-idle: 2m
                    server-idle: 3m
                    data: 4m
                    login: 20s
                  retries: 5
                  proxy-protocol: v2
                  source: 10.0.1.10
                  greeting: Welcome to the farm.
                  node: lb-a
                  login:
                    ban-after-failures: 4
                    ban-window: 2m
                    ban-duration: 1h
                  admin:
                    listen: 127.0.0.1:8081
                    users:
                      - name: alice
                        password-hash: %s
                        role: admin
                      - name: bob
                        password-hash: %s
                        role: read-only
                """.formatted(SECRET, HASH, HASH));

        assertThat(s).isEqualTo(new BalancerSettings(
                new InetSocketAddress("127.0.0.1", 2300), "ftp.example.com",
                List.of(new NetworkAddress("192.168.0.0/16", "192.168.1.10")), 41000, 41009,
                List.of(new BackendSpec("ftp1", new InetSocketAddress("127.0.0.1", 2121), 1),
                        new BackendSpec("ftp2", new InetSocketAddress("::1", 2122), 0, 4)),
                Balance.USER,
                new Check(CheckType.FTP_LOGIN, Duration.ofSeconds(3), Duration.ofMillis(500), 3, 4, "probe", SECRET),
                50, 10, new Queue(7, Duration.ofSeconds(3)), new Timeouts(Duration.ofSeconds(1), Duration.ofMinutes(2), Duration.ofMinutes(3), Duration.ofMinutes(4),
                        Duration.ofSeconds(30), Duration.ofSeconds(20)),
                5, ProxyProtocol.V2, InetAddress.getByName("10.0.1.10"), "Welcome to the farm.",
                new AdminSettings(new InetSocketAddress("127.0.0.1", 8081), List.of(
                        new AdminSettings.User("alice", HASH, AdminSettings.Role.ADMIN),
                        new AdminSettings.User("bob", HASH, AdminSettings.Role.READ_ONLY))),
                BalancerSettings.Tls.OFF, null, "lb-a",
                new dev.ferry.runtime.limits.BanRules(4, Duration.ofMinutes(2), Duration.ofHours(1)), null));
    }

    @Test
    void stateDirectoryIsAPathRelativeToTheFile() throws Exception {
        assertThat(load("balancer:\n  backends:\n    - {name: a, address: 127.0.0.1:2121}\n  state-directory: state\n")
                .stateDirectory()).isEqualTo(dir.resolve("state"));
    }

    /** The CLI keeps the self-signed certificate in the state directory, so terminate needs no self-signed-directory. */
    @Test
    void terminateWithoutACertificateIsAcceptedWithAStateDirectory() throws Exception {
        String terminate = "balancer:\n  backends:\n    - {name: a, address: 127.0.0.1:2121}\n  tls:\n    mode: terminate\n";
        BalancerSettings fromFile = load(terminate + "  state-directory: state\n");
        assertThat(fromFile.tls().selfSignedDirectory()).as("left to the CLI").isNull();
        assertThat(BalancerConfigFile.load(write(terminate), base.withStateDirectory(Path.of("/var/lib/ferry"))).stateDirectory())
                .as("systemd's, passed in by the CLI").isEqualTo(Path.of("/var/lib/ferry"));
    }

    @Test
    void anAdminSectionTurnsTheListenerOnAtItsDefaultAddress() throws Exception {
        BalancerSettings s = load("""
                balancer:
                  admin:
                    users:
                      - name: alice
                        password-hash: %s
                        role: admin
                """.formatted(HASH));
        assertThat(s.admin().enabled()).isTrue();
        assertThat(s.admin().listen()).isEqualTo(AdminSettings.DEFAULT_LISTEN);
        assertThat(load("balancer:\n  retries: 2\n").admin()).as("no section: off").isEqualTo(AdminSettings.OFF);
    }

    @Test
    void neverEchoesAPlainPasswordPastedAsAnAdminHash() throws Exception {
        ConfigException e = failure("""
                balancer:
                  admin:
                    users:
                      - name: alice
                        role: admin
                        password-hash: %s
                """.formatted(SECRET), "6:24");
        assertThat(e.problem()).startsWith("balancer.admin.users[0].password-hash: ").endsWith("the value is not shown here)");
        assertThat(e.getMessage()).doesNotContain(SECRET);
    }

    @Test
    void eachBackendMayHaveAPassiveRangeOfItsOwn() throws Exception {
        BalancerSettings s = load("""
                balancer:
                  backends:
                    - name: ftp1
                      address: 127.0.0.2:2121
                      passive-ports: 40000-40049
                    - name: ftp2
                      address: 127.0.0.3:2121
                      passive-ports: 40050
                    - name: ftp3
                      address: 127.0.0.4:2121
                """);

        assertThat(s.backends()).extracting(BackendSpec::name, BackendSpec::passiveLow, BackendSpec::passiveHigh)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ftp1", 40000, 40049),
                        org.assertj.core.groups.Tuple.tuple("ftp2", 40050, 40050),
                        org.assertj.core.groups.Tuple.tuple("ftp3", 0, 0));
    }

    @Test
    void keysLeftOutKeepTheBaseValues() throws Exception {
        BalancerSettings s = load("""
                balancer:
                  check:
                    rise: 5
                """);
        assertThat(s).isEqualTo(base.withCheck(new Check(CheckType.TCP, Check.DEFAULTS.interval(), Check.DEFAULTS.timeout(),
                5, Check.DEFAULTS.fall(), null, null)));
        assertThat(s.backends()).as("backends may come from the command line instead").isEmpty();
    }

    @Test
    void oneFileServesBothCommands() throws Exception {
        Path file = write("""
                server:
                  listen: 127.0.0.1:2200
                balancer:
                  listen: 127.0.0.1:2100
                  backends:
                    - name: local
                      address: 127.0.0.1:2200
                """);
        assertThat(BalancerConfigFile.load(file, base).listen()).isEqualTo(new InetSocketAddress("127.0.0.1", 2100));
        ServerSettings server = ServerConfigFile.load(file, ServerSettings.defaults(Path.of("/unused")));
        assertThat(server.listen()).isEqualTo(new InetSocketAddress("127.0.0.1", 2200));
    }

    @Test
    void exampleLoadsAndSpellsOutTheDefaults() throws Exception {
        BalancerSettings s = BalancerConfigFile.load(EXAMPLES.resolve("ferry-balancer.yaml"), base);

        assertThat(s.listen()).isEqualTo(new InetSocketAddress("127.0.0.1", 2121));
        assertThat(s.publicAddress()).isEqualTo("203.0.113.7");
        assertThat(s.networkAddresses()).containsExactly(new NetworkAddress("10.0.0.0/8", "10.0.0.5"));
        assertThat(new int[] {s.passiveLow(), s.passiveHigh()}).containsExactly(40000, 40100);
        assertThat(s.backends()).containsExactly(
                new BackendSpec("ftp1", new InetSocketAddress("10.0.1.11", 21), 1),
                new BackendSpec("ftp2", new InetSocketAddress("10.0.1.12", 21), 2));
        // Apart from the values above, the example spells out the defaults.
        assertThat(s.balance()).isEqualTo(base.balance());
        assertThat(s.check()).isEqualTo(base.check());
        assertThat(s.maxSessions()).isEqualTo(base.maxSessions());
        assertThat(s.maxSessionsPerAddress()).as("commented out: derived from max-sessions").isZero();
        assertThat(s.perAddressLimit()).isEqualTo(1000);
        assertThat(s.timeouts()).isEqualTo(base.timeouts());
        assertThat(s.retries()).isEqualTo(base.retries());
        assertThat(s.proxyProtocol()).isEqualTo(base.proxyProtocol());
        assertThat(s.greeting()).isEqualTo(base.greeting());
        assertThat(s.bans()).isEqualTo(base.bans());
        assertThat(s.admin()).as("commented out: off").isEqualTo(AdminSettings.OFF);
    }

    @Test
    void examplesCommentedAdminSectionLoadsOnceUncommented() throws Exception {
        String example = Files.readString(EXAMPLES.resolve("ferry-balancer.yaml"));
        String uncommented = example.replaceAll("(?m)^  # (admin:|  listen: 127|  users:|    - name:|      password-hash:|      role:)", "  $1");
        assertThat(uncommented).isNotEqualTo(example);
        BalancerSettings s = BalancerConfigFile.load(write(uncommented), base);

        assertThat(s.admin().listen()).isEqualTo(AdminSettings.DEFAULT_LISTEN);
        assertThat(s.admin().users()).extracting(AdminSettings.User::name, AdminSettings.User::role)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ops", AdminSettings.Role.ADMIN),
                        org.assertj.core.groups.Tuple.tuple("monitor", AdminSettings.Role.READ_ONLY));
    }
}
