package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.net.NetworkAddress;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.ServerSettings.Limits;
import dev.ferry.server.ServerSettings.LoginPolicy;
import dev.ferry.server.ServerSettings.Passive;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.policy.Bandwidth;
import java.io.IOException;
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
import org.junit.jupiter.params.provider.MethodSource;

class ServerConfigFileTest {

    static final String HASH = "$argon2id$v=19$m=65536,t=3,p=1$t9bE4WMekbwuyuAWFuDFOQ$qtij5sokYSheA4eOxonuCiLiyofl2VnIb6ahem5Tnk0";
    static final String BCRYPT = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";

    @TempDir
    Path dir;

    private final ServerSettings base = ServerSettings.defaults(Path.of("/base-root"));

    private Path write(String name, String yaml) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    private ServerSettings load(String yaml) throws Exception {
        return ServerConfigFile.load(write("ferry.yaml", yaml), base);
    }

    /** Loads and returns the error, asserting it carries the file's name and position. */
    private ConfigException failure(String yaml, String position) throws IOException {
        Path file = write("ferry.yaml", yaml);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ServerConfigFile.load(file, base));
        assertThat(e).as("no error for:%n%s", yaml).isNotNull();
        assertThat(e.getMessage()).startsWith(file + ":" + position + ": ");
        assertThat(e.file()).isEqualTo(file.toString());
        assertThat(e.line() + ":" + e.column()).isEqualTo(position);
        return e;
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                // --- keys: unknown (with the nearest allowed one), misplaced, duplicate, not a name
                Arguments.of("""
                        server:
                          listn: 127.0.0.1:21
                        """, "2:3", "server: unknown key 'listn'; did you mean 'listen'? Allowed keys in server: listen, root, users-file, users, anonymous, passive, limits, login, active-mode, server-name, proxy-protocol, metrics, tls, state-directory, umask, node, storage, events, ldap, auth-hook, database"),
                Arguments.of("""
                        server:
                          limits:
                            maxSessions: 10
                        """, "3:5", "server.limits: unknown key 'maxSessions'; did you mean 'max-sessions'? Allowed keys in server.limits: max-sessions, max-sessions-per-address, idle-timeout, data-timeout, max-command-length, login-timeout, upload-rate, download-rate"),
                Arguments.of("""
                        server:
                          login:
                            ban_window: 5m
                        """, "3:5", "server.login: unknown key 'ban_window'; did you mean 'ban-window'? Allowed keys in server.login: failure-delay, max-attempts-per-session, ban-after-failures, ban-window, ban-duration, credential-cache-ttl"),
                Arguments.of("""
                        server:
                          tls: on
                        """, "2:8", "server.tls: expected a mapping with the keys enabled, cert, key, password-file, self-signed-directory, require, session-reuse, implicit-listen, handshake-timeout, allow-ccc, got 'on'"),
                Arguments.of("""
                        listen: 127.0.0.1:21
                        """, "1:1", "unknown key 'listen'; server settings go inside the `server:` section (indent 'listen' under `server:`). Allowed keys: server, balancer, log"),
                Arguments.of("""
                        server:
                          listen: 127.0.0.1:21
                          root: /srv
                          listen: 127.0.0.1:22
                        """, "4:3", "server: duplicate key 'listen' (first at line 2); each key may appear once"),
                Arguments.of("""
                        server:
                          [a, b]: 1
                        """, "2:3", "server: expected a key name, got a list"),
                // --- structure: wrong kind of node, missing section
                Arguments.of("""
                        {}
                        """, "1:1", "missing key 'server' (the mapping that holds the server settings)"),
                Arguments.of("""
                        - server
                        """, "1:1", "expected a mapping with the keys server, balancer, log, got a list"),
                Arguments.of("""
                        server:
                        """, "1:8", "server: expected a mapping with the keys listen, root, users-file, users, anonymous, passive, limits, login, active-mode, server-name, proxy-protocol, metrics, tls, state-directory, umask, node, storage, events, ldap, auth-hook, database, got nothing"),
                Arguments.of("""
                        server:
                          limits: 5
                        """, "2:11", "server.limits: expected a mapping with the keys max-sessions, max-sessions-per-address, idle-timeout, data-timeout, max-command-length, login-timeout, upload-rate, download-rate, got '5'"),
                Arguments.of("""
                        server:
                          anonymous: true
                        """, "2:14", "server.anonymous: expected a mapping with the keys enabled, home, upload-directory, got 'true'"),
                Arguments.of("""
                        server:
                          anonymous:
                            upload-directory: /
                        """, "3:23", "server.anonymous.upload-directory: expected a directory below the anonymous home, such as incoming, got '/' (the anonymous home itself)"),
                Arguments.of("""
                        server:
                          anonymous:
                            upload-directory: ..
                        """, "3:23", "server.anonymous.upload-directory: expected a directory below the anonymous home, such as incoming, got '..' (the anonymous home itself)"),
                Arguments.of("""
                        server:
                          listen:
                            host: 127.0.0.1
                        """, "3:5", "server.listen: expected HOST:PORT, got a mapping"),
                // --- types and ranges
                Arguments.of("""
                        server:
                          limits:
                            max-sessions: abc
                        """, "3:19", "server.limits.max-sessions: expected a number of at least 1, got 'abc'"),
                Arguments.of("""
                        server:
                          limits:
                            max-sessions: 0
                        """, "3:19", "server.limits.max-sessions: expected a number of at least 1, got 0"),
                Arguments.of("""
                        server:
                          limits:
                            max-sessions-per-address: -3
                        """, "3:31", "server.limits.max-sessions-per-address: expected a number of at least 1, got -3"),
                Arguments.of("""
                        server:
                          limits:
                            upload-rate: 8MB
                        """, "3:18", "server.limits.upload-rate: expected a rate in bytes per second such as 10MiB (0: no limit), got '8MB' (use KiB, MiB, GiB or TiB)"),
                Arguments.of("""
                        server:
                          limits:
                            download-rate: fast
                        """, "3:20", "server.limits.download-rate: expected a rate in bytes per second such as 10MiB (0: no limit), got 'fast'"),
                Arguments.of("""
                        server:
                          limits:
                            download-rate: [1MiB]
                        """, "3:20", "server.limits.download-rate: expected a rate in bytes per second such as 10MiB (0: no limit), got a list"),
                Arguments.of("""
                        server:
                          limits:
                            max-sessions: 99999999999999999999
                        """, "3:19", "server.limits.max-sessions: expected a number of at least 1, got 99999999999999999999"),
                Arguments.of("""
                        server:
                          limits:
                            max-command-length: 100
                        """, "3:25", "server.limits.max-command-length: expected a number from 512 to 65536, got 100"),
                Arguments.of("""
                        server:
                          limits:
                            max-command-length: 1.5e3
                        """, "3:25", "server.limits.max-command-length: expected a number from 512 to 65536, got '1.5e3'"),
                Arguments.of("""
                        server:
                          limits:
                            idle-timeout: 5 minutes
                        """, "3:19", "server.limits.idle-timeout: expected a duration such as 500ms, 30s, 5m, 1h or 1d (a plain number is seconds), got '5 minutes'"),
                Arguments.of("""
                        server:
                          limits:
                            data-timeout: 0s
                        """, "3:19", "server.limits.data-timeout: expected a duration above zero such as 30s, got '0s'"),
                Arguments.of("""
                        server:
                          login:
                            ban-duration: []
                        """, "3:19", "server.login.ban-duration: expected a duration such as 30s, got a list"),
                Arguments.of("""
                        server:
                          login:
                            ban-after-failures: -1
                        """, "3:25", "server.login.ban-after-failures: expected a number of at least 0, got -1"),
                Arguments.of("""
                        server:
                          active-mode: yes
                        """, "2:16", "server.active-mode: expected true or false, got 'yes'"),
                Arguments.of("""
                        server:
                          active-mode:
                        """, "2:15", "server.active-mode: expected true or false, got nothing"),
                Arguments.of("""
                        server:
                          server-name: "Ferry\\r\\n230 logged in"
                        """, "2:16", "server.server-name: expected text on one line, got 'Ferry\\r\\n230 logged in' (control characters are not allowed)"),
                Arguments.of("""
                        server:
                          server-name: ''
                        """, "2:16", "server.server-name: expected text, got an empty value"),
                // --- values checked by the shared parsers
                Arguments.of("""
                        server:
                          listen: 2121
                        """, "2:11", "server.listen: expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121, got '2121' (no port)"),
                Arguments.of("""
                        server:
                          listen: "[::1]:99999"
                        """, "2:11", "server.listen: expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121, got '[::1]:99999' (port 99999 is above 65535)"),
                Arguments.of("""
                        server:
                          passive:
                            ports: 40100-40000
                        """, "3:12", "server.passive.ports: expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port), got '40100-40000' (LOW is above HIGH)"),
                Arguments.of("""
                        server:
                          passive:
                            public-address: 2001:db8::1
                        """, "3:21", "server.passive.public-address: expected an IPv4 address such as 203.0.113.7 or a host name such as ftp.example.com, got '2001:db8::1' (PASV replies carry IPv4 addresses only; IPv6 clients use EPSV, which names no address)"),
                Arguments.of("""
                        server:
                          passive:
                            accept-timeout: 0
                        """, "3:21", "server.passive.accept-timeout: expected a duration above zero such as 30s, got '0'"),
                Arguments.of("""
                        server:
                          passive:
                            networks:
                              - network: 10.1.0.0/8
                                address: 10.0.0.5
                        """, "4:18", "server.passive.networks[0].network: expected a network such as 10.0.0.0/8 or fd00::/8, got '10.1.0.0/8' (bits are set after the /8 prefix; did you mean 10.0.0.0/8?)"),
                Arguments.of("""
                        server:
                          passive:
                            networks:
                              - network: 10.0.0.0/8
                                address: 10.0.0.5
                              - network: 192.168.0.0/16
                                address: 192.168.0.5
                              - network: 10.0.0.0/8
                                address: 10.0.0.6
                        """, "8:18", "server.passive.networks[2].network: network 10.0.0.0/8 is already listed at line 4; the first matching entry wins, so this one would never apply"),
                // --- metrics
                Arguments.of("""
                        server:
                          metrics: 127.0.0.1:9121
                        """, "2:12", "server.metrics: expected a mapping with the keys listen, got '127.0.0.1:9121'"),
                Arguments.of("""
                        server:
                          metrics:
                            address: 127.0.0.1:9121
                        """, "3:5", "server.metrics: unknown key 'address'. Allowed keys in server.metrics: listen"),
                Arguments.of("""
                        server:
                          metrics:
                            listen: 9121
                        """, "3:13", "server.metrics.listen: expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121, got '9121' (no port)"),
                // --- proxy-protocol
                Arguments.of("""
                        server:
                          proxy-protocol: v2
                        """, "2:19", "server.proxy-protocol: expected a mapping with the keys trusted, got 'v2'"),
                Arguments.of("""
                        server:
                          proxy-protocol:
                            trust: [127.0.0.1]
                        """, "3:5", "server.proxy-protocol: unknown key 'trust'; did you mean 'trusted'? Allowed keys in server.proxy-protocol: trusted"),
                Arguments.of("""
                        server:
                          proxy-protocol:
                            trusted: 127.0.0.1/32
                        """, "3:14", "server.proxy-protocol.trusted: expected a list of networks such as 10.0.1.10/32, got '127.0.0.1/32'"),
                Arguments.of("""
                        server:
                          proxy-protocol:
                            trusted:
                              - 127.0.0.1/32
                              - 10.0.1.10/8
                        """, "5:9", "server.proxy-protocol.trusted[1]: expected a network such as 10.0.0.0/8 or fd00::/8, got '10.0.1.10/8' (bits are set after the /8 prefix; did you mean 10.0.0.0/8?)"),
                Arguments.of("""
                        server:
                          proxy-protocol:
                            trusted: [balancer.example.com]
                        """, "3:15", "server.proxy-protocol.trusted[0]: expected a network such as 10.0.0.0/8 or fd00::/8, got 'balancer.example.com' ('balancer.example.com' is not an IP address)"),
                Arguments.of("""
                        server:
                          proxy-protocol:
                            trusted:
                              - {network: 10.0.0.0/8}
                        """, "4:9", "server.proxy-protocol.trusted[0]: expected a network such as 10.0.1.10/32, got a mapping"),
                Arguments.of("""
                        server:
                          passive:
                            networks:
                              - network: 10.0.0.0/8
                        """, "4:9", "server.passive.networks[0]: missing key 'address' (the address told to clients of that network)"),
                Arguments.of("""
                        server:
                          passive:
                            networks: 10.0.0.0/8
                        """, "3:15", "server.passive.networks: expected a list of {network: CIDR, address: ADDRESS} entries, got '10.0.0.0/8'"),
                // --- inline users
                Arguments.of("""
                        server:
                          users: alice
                        """, "2:10", "server.users: expected a list of users, or database, ldap or hook, got 'alice'"),
                Arguments.of("""
                        server:
                          users:
                            - name: alice
                        """, "3:7", "server.users[0]: missing key 'password' (a hash made by `ferry passwd`)"),
                Arguments.of("""
                        server:
                          users:
                            - password: %s
                        """.formatted(HASH), "3:7", "server.users[0]: missing key 'name' (a user name of 1 to 64 letters, digits and . _ - @ +)"),
                Arguments.of("""
                        server:
                          users:
                            - name: al ice
                              password: %s
                        """.formatted(HASH), "3:13", "server.users[0].name: expected a user name of 1 to 64 letters, digits and . _ - @ +, got 'al ice'"),
                Arguments.of("""
                        server:
                          users:
                            - name: alice
                              password: %s
                            - name: alice
                              password: %s
                        """.formatted(HASH, HASH), "5:13", "server.users[1].name: duplicate user 'alice' (first defined at line 3); each name may appear once"),
                Arguments.of("""
                        server:
                          users:
                            - name: alice
                              password: %s
                              access: rw
                        """.formatted(HASH), "5:15", "server.users[0].access: expected read-only or read-write, got 'rw'"),
                Arguments.of("""
                        server:
                          users:
                            - name: alice
                              password: %s
                              enabled: 1
                        """.formatted(HASH), "5:16", "server.users[0].enabled: expected true or false, got '1'"),
                Arguments.of("""
                        server:
                          users:
                            - name: alice
                              password: $argon2id$v=19$m=65536,t=3,p=1$t9bE4WMekbwuyuAWFuDFOQ
                        """, "4:17", "server.users[0].password: malformed argon2id hash; expected $argon2id$v=19$m=...,t=...,p=...$SALT$HASH as printed by `ferry passwd` (check that it was copied whole)"),
                Arguments.of("""
                        server:
                          users:
                            - name: alice
                              password: $2b$12$tooShort
                        """, "4:17", "server.users[0].password: malformed bcrypt hash; expected $2b$COST$ followed by 53 characters (check that it was copied whole)"),
                Arguments.of("""
                        server:
                          users:
                            - name: alice
                              password:
                        """, "4:16", "server.users[0].password: expected a password hash made by `ferry passwd` (starting with $argon2id$, or $2a$, $2b$, $2y$ for bcrypt), got nothing"),
                Arguments.of("""
                        server:
                          users:
                            - name: alice
                              nme: bob
                        """, "4:7", "server.users[0]: unknown key 'nme'; did you mean 'name'? Allowed keys in server.users[0]: name, password, home, access, enabled, tls, storage, quota, bandwidth, max-sessions, rights"),
                Arguments.of("""
                        server:
                          users:
                            - alice
                        """, "3:7", "server.users[0]: expected a mapping with the keys name, password, home, access, enabled, tls, storage, quota, bandwidth, max-sessions, rights, got 'alice'"),
                // --- YAML syntax
                Arguments.of("""
                        server:
                        \tlisten: 127.0.0.1:21
                        """, "2:1", "tab character; YAML indents with spaces only (replace the tab with spaces)"),
                Arguments.of("""
                        server:
                          listen: 127.0.0.1:21
                            root: /srv
                        """, "3:9", "YAML syntax error: mapping values are not allowed here; check the indentation, or quote a value that contains ': '"),
                Arguments.of("""
                        server:
                          passive:
                            networks: [{network: 10.0.0.0/8, address: 10.0.0.5}
                        """, "4:1", "YAML syntax error: expected ',' or ']', but got <stream end> (while parsing a flow sequence started at line 3); if the value is an address such as [::1]:2121, put it in quotes"),
                Arguments.of("""
                        server:
                          listen: *:2121
                        """, "2:11", "YAML syntax error: found undefined alias :2121; a value that starts with * must be put in quotes, as in \"*:2121\""),
                Arguments.of("""
                        server:
                          listen: [::1]:2121
                        """, "2:12", "YAML syntax error: expected the node content, but found ':' (while parsing a flow node); if the value is an address such as [::1]:2121, put it in quotes"),
                Arguments.of("""
                        server: {}
                        ---
                        server: {}
                        """, "2:1", "a second YAML document starts here; expected the file to hold one document"),
                Arguments.of("", "1:1", "the file is empty; expected a `server:` section (see docs/configuration.md)"),
                Arguments.of("""
                        # nothing but a comment
                        """, "1:1", "the file is empty; expected a `server:` section (see docs/configuration.md)"));
    }

    @ParameterizedTest(name = "[{index}] {1} {2}")
    @MethodSource("errors")
    void reportsFileLineColumnAndWhatIsExpected(String yaml, String position, String problem) throws IOException {
        assertThat(failure(yaml, position).problem()).isEqualTo(problem);
    }

    @Test
    void plainPasswordIsRefusedWithoutBeingEchoed() throws IOException {
        ConfigException e = failure("""
                server:
                  users:
                    - name: alice
                      password: hunter2-secret
                """, "4:17");
        assertThat(e.problem()).isEqualTo("server.users[0].password: expected a password hash made by `ferry passwd`"
                + " (starting with $argon2id$, or $2a$, $2b$, $2y$ for bcrypt); the value given is not a hash (it is not shown here)");
        assertThat(e.getMessage()).doesNotContain("hunter2");
    }

    @Test
    void malformedHashIsNotEchoedEither() throws IOException {
        ConfigException e = failure("""
                server:
                  users:
                    - name: alice
                      password: $argon2id$secret-looking
                """, "4:17");
        assertThat(e.getMessage()).doesNotContain("secret-looking");
    }

    @Test
    void missingFileIsNamedWithoutPosition() {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ServerConfigFile.load(missing, base))
                .isInstanceOf(ConfigException.class)
                .hasMessage(missing + ": no such file")
                .extracting(e -> ((ConfigException) e).line()).isEqualTo(0);
    }

    @Test
    void directoryIsNotAConfigFile() {
        assertThatThrownBy(() -> ServerConfigFile.load(dir, base))
                .hasMessage(dir + ": is a directory; expected a YAML file");
    }

    @Test
    void fileThatIsNotUtf8IsRefused() throws IOException {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, "server:\n  server-name: caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> ServerConfigFile.load(file, base))
                .hasMessage(file + ": not UTF-8 text; expected a YAML file in UTF-8");
    }

    @Test
    void usersFileThatDoesNotExistIsReportedAtTheKey() throws IOException {
        ConfigException e = failure("""
                server:
                  users-file: missing-users.yaml
                """, "2:15");
        assertThat(e.problem()).isEqualTo("server.users-file: cannot read " + dir.resolve("missing-users.yaml")
                + " (no such file); expected a readable YAML users file");
    }

    @Test
    void errorInsideTheUsersFileNamesTheUsersFile() throws IOException {
        Path users = write("users.yaml", """
                users:
                  - name: bob
                    password: %s
                    access: write
                """.formatted(HASH));
        Path config = write("ferry.yaml", "server:\n  users-file: users.yaml\n");
        assertThatThrownBy(() -> ServerConfigFile.load(config, base))
                .hasMessage(users + ":4:13: users[0].access: expected read-only or read-write, got 'write'");
    }

    @Test
    void userInBothTheUsersFileAndInlineIsADuplicate() throws IOException {
        Path users = write("users.yaml", """
                users:
                  - name: bob
                    password: %s
                """.formatted(HASH));
        ConfigException e = failure("""
                server:
                  users-file: users.yaml
                  users:
                    - name: bob
                      password: %s
                """.formatted(HASH), "4:13");
        assertThat(e.problem()).isEqualTo("server.users[0].name: duplicate user 'bob' (first defined at "
                + users + ":2); each name may appear once");
    }

    @Test
    void fullFileParsesToTheExpectedSettings() throws Exception {
        write("users.yaml", """
                users:
                  - name: alice
                    password: %s
                    home: alice
                  - name: bob
                    password: %s
                    home: /data/bob
                    access: read-only
                    enabled: false
                """.formatted(HASH, BCRYPT));
        ServerSettings settings = load("""
                # every key, none at its default
                server:
                  listen: 127.0.0.1:2200
                  root: srv
                  server-name: Test FTP
                  node: ftp-a
                  users-file: users.yaml
                  users:
                    - name: carol@example.com
                      password: "%s"
                      access: read-write
                  anonymous:
                    enabled: true
                    home: pub
                  passive:
                    ports: 40000-40100
                    public-address: ftp.example.com
                    networks:
                      - network: 10.0.0.0/8
                        address: 10.0.0.5
                      - {network: "fd00::/8", address: 192.168.1.1}
                    accept-timeout: 10s
                  limits:
                    max-sessions: 20
                    max-sessions-per-address: 4
                    idle-timeout: 10m
                    data-timeout: 2m
                    max-command-length: 1024
                    login-timeout: 20s
                  login:
                    failure-delay: 500ms
                    max-attempts-per-session: 5
                    ban-after-failures: 0
                    ban-window: 1h
                    ban-duration: 1d
                    credential-cache-ttl: 0
                  active-mode: false
                  proxy-protocol:
                    trusted: [10.0.1.10, "fd00::a:0/112"]
                  metrics:
                    listen: 127.0.0.1:9121
                """.formatted(HASH));
        Path root = dir.resolve("srv");
        ServerSettings expected = new ServerSettings(
                new InetSocketAddress("127.0.0.1", 2200),
                root,
                List.of(new UserAccount("alice", HASH, root.resolve("alice"), true, true),
                        new UserAccount("bob", BCRYPT, Path.of("/data/bob"), false, false),
                        new UserAccount("carol@example.com", HASH, null, true, true)),
                dir.resolve("users.yaml"),
                new Anonymous(true, root.resolve("pub")),
                new Passive(40000, 40100, "ftp.example.com",
                        List.of(new NetworkAddress("10.0.0.0/8", "10.0.0.5"), new NetworkAddress("fd00::/8", "192.168.1.1")),
                        Duration.ofSeconds(10)),
                new Limits(20, 4, Duration.ofMinutes(10), Duration.ofMinutes(2), 1024, Duration.ofSeconds(20)),
                new LoginPolicy(Duration.ofMillis(500), 5, 0, Duration.ofHours(1), Duration.ofDays(1), Duration.ZERO),
                false,
                "Test FTP",
                List.of("10.0.1.10/32", "fd00::a:0/112"),
                new InetSocketAddress("127.0.0.1", 9121)).withNode("ftp-a");
        assertThat(settings).isEqualTo(expected);
    }

    /** The whole server's bandwidth: sizes per second, 0 or left out for no limit. */
    @Test
    void limitsCarryTheServersUploadAndDownloadRates() throws Exception {
        assertThat(load("server:\n  limits:\n    upload-rate: 100MiB\n    download-rate: 512KiB\n").limits().bandwidth())
                .isEqualTo(new Bandwidth(100L << 20, 512L << 10));
        assertThat(load("server:\n  limits:\n    download-rate: 1048576\n").limits().bandwidth())
                .isEqualTo(new Bandwidth(0, 1 << 20));
        assertThat(load("server:\n  limits:\n    upload-rate: 0\n    max-sessions: 9\n").limits().bandwidth())
                .isEqualTo(Bandwidth.UNLIMITED);
        assertThat(ServerConfigFile.load(write("ferry.yaml", "server:\n  limits:\n    max-sessions: 9\n"),
                base.withLimits(base.limits().withBandwidth(new Bandwidth(5, 6)))).limits().bandwidth())
                .as("left out: the base's").isEqualTo(new Bandwidth(5, 6));
    }

    /** Where the self-signed certificate goes when the unit's $STATE_DIRECTORY is not wanted; relative to the file. */
    @Test
    void stateDirectoryIsAPathRelativeToTheFile() throws Exception {
        assertThat(load("server:\n  state-directory: state\n").stateDirectory()).isEqualTo(dir.resolve("state"));
        assertThat(load("server:\n  state-directory: /var/lib/ferry\n").stateDirectory()).isEqualTo(Path.of("/var/lib/ferry"));
        assertThat(load("server:\n  listen: 127.0.0.1:2121\n").stateDirectory()).as("left out: the CLI chooses").isNull();
    }

    /** Relative to the anonymous home, and a virtual path: ".." cannot climb out of it. */
    @Test
    void anonymousUploadDirectoryIsBelowTheAnonymousHome() throws Exception {
        assertThat(load("server:\n  anonymous:\n    enabled: true\n    upload-directory: incoming\n").anonymous()
                .uploadDirectory()).hasToString("/incoming");
        assertThat(load("server:\n  anonymous:\n    upload-directory: /pub/../drop/\n").anonymous()
                .uploadDirectory()).hasToString("/drop");
        assertThat(load("server:\n  anonymous:\n    enabled: true\n").anonymous().uploadDirectory())
                .as("off by default").isNull();
    }

    @Test
    void keysLeftOutKeepTheBaseValues() throws Exception {
        ServerSettings custom = base
                .withLimits(Limits.DEFAULTS.withMaxSessions(7))
                .withPassive(Passive.DEFAULTS.withPorts(50000, 50010).withPublicAddress("198.51.100.1"))
                .withServerName("Base name");
        ServerSettings settings = ServerConfigFile.load(write("ferry.yaml", """
                server:
                  limits:
                    idle-timeout: 1m
                  passive:
                    accept-timeout: 5s
                """), custom);
        assertThat(settings).isEqualTo(custom
                .withLimits(custom.limits().withMaxSessions(7))
                .withLimits(new Limits(7, 50, Duration.ofMinutes(1), Duration.ofMinutes(1), 4096, Duration.ofMinutes(1)))
                .withPassive(new Passive(50000, 50010, "198.51.100.1", List.of(), Duration.ofSeconds(5))));
    }

    @Test
    void anEmptyTrustedListTurnsTheProxyProtocolOffAndALeftOutOneKeepsTheBase() throws Exception {
        ServerSettings custom = base.withTrustedProxies(List.of("127.0.0.1/32"));
        ServerSettings off = ServerConfigFile.load(write("ferry.yaml", "server:\n  proxy-protocol:\n    trusted: []\n"), custom);
        ServerSettings kept = ServerConfigFile.load(write("ferry.yaml", "server:\n  proxy-protocol: {}\n"), custom);

        assertThat(off.trustedProxies()).isEmpty();
        assertThat(kept.trustedProxies()).containsExactly("127.0.0.1/32");
    }

    @Test
    void tlsFilesAreRelativeToTheConfigFile() throws Exception {
        Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\n");
        Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n");
        ServerSettings settings = load("""
                server:
                  tls:
                    cert: cert.pem
                    key: key.pem
                    password-file: secret.txt
                    self-signed-directory: keep
                    handshake-timeout: 5s
                    allow-ccc: true
                """);
        ServerSettings.Tls tls = settings.tls();
        assertThat(tls.enabled()).isTrue();
        assertThat(tls.certificate()).isEqualTo(dir.resolve("cert.pem"));
        assertThat(tls.key()).isEqualTo(dir.resolve("key.pem"));
        assertThat(tls.passwordFile()).isEqualTo(dir.resolve("secret.txt"));
        assertThat(tls.selfSignedDirectory()).isEqualTo(dir.resolve("keep"));
        assertThat(tls.handshakeTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(tls.allowCcc()).isTrue();
        assertThat(ServerSettings.Tls.DEFAULTS.allowCcc()).as("CCC is refused unless allowed").isFalse();
    }

    @Test
    void tlsPolicyReuseAndImplicitListener() throws Exception {
        ServerSettings.Tls tls = load("""
                server:
                  tls:
                    require: login
                    session-reuse: required
                    implicit-listen: 127.0.0.1:990
                  users:
                    - name: alice
                      password: %s
                      tls: required
                """.formatted(HASH)).tls();
        assertThat(tls.policy()).isEqualTo(TlsPolicy.LOGIN);
        assertThat(tls.reuse()).isEqualTo(SessionReuse.REQUIRED);
        assertThat(tls.implicitListen()).isEqualTo(new InetSocketAddress("127.0.0.1", 990));
        assertThat(load("""
                server:
                  users:
                    - name: alice
                      password: %s
                      tls: required
                """.formatted(HASH)).users().getFirst().tls()).isEqualTo(TlsPolicy.REQUIRED);
        assertThat(failure("server:\n  tls:\n    require: always\n", "3:14").getMessage())
                .contains("expected optional, login or required, got 'always'");
        assertThat(failure("server:\n  tls:\n    session-reuse: yes\n", "3:20").getMessage())
                .contains("expected required, preferred or off");
    }

    @Test
    void tlsCanBeTurnedOffAndKeepsItsDefaultsOtherwise() throws Exception {
        assertThat(load("server:\n  tls:\n    enabled: false\n").tls())
                .isEqualTo(ServerSettings.Tls.DEFAULTS.withEnabled(false));
        assertThat(load("server:\n  listen: 127.0.0.1:2200\n").tls()).isEqualTo(ServerSettings.Tls.DEFAULTS);
    }

    @Test
    void aMissingTlsCertificateIsReportedAtItsKey() throws IOException {
        ConfigException e = failure("server:\n  tls:\n    cert: nope.pem\n    key: nope.key\n", "3:11");
        assertThat(e.getMessage()).contains("cannot read " + dir.resolve("nope.pem") + " (no such file)");
        assertThat(failure("server:\n  tls:\n    key: k.pem\n", "3:5").getMessage()).contains("cert");
    }

    @Test
    void emptyServerSectionKeepsEverything() throws Exception {
        assertThat(load("server: {}\n")).isEqualTo(base);
    }

    @Test
    void relativePathsFollowTheConfigFileNotTheWorkingDirectory() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(sub.resolve("users.yaml"), "users: []\n");
        Path config = sub.resolve("ferry.yaml");
        Files.writeString(config, """
                server:
                  root: ../ftp
                  users-file: users.yaml
                  anonymous:
                    home: pub
                """);
        ServerSettings settings = ServerConfigFile.load(config, base);
        assertThat(settings.root()).isEqualTo(dir.resolve("ftp"));
        assertThat(settings.usersFile()).isEqualTo(sub.resolve("users.yaml"));
        assertThat(settings.anonymous()).isEqualTo(new Anonymous(false, dir.resolve("ftp/pub")));
        assertThat(settings.users()).isEmpty();
    }

    @Test
    void homesWithoutRootInTheFileFollowTheBaseRoot() throws Exception {
        ServerSettings settings = load("""
                server:
                  users:
                    - name: alice
                      password: %s
                      home: alice
                """.formatted(HASH));
        assertThat(settings.users()).containsExactly(new UserAccount("alice", HASH, Path.of("/base-root/alice"), true, true));
        assertThat(settings.usersFile()).isNull();
    }

    @Test
    void anchorsAndAliasesAreResolved() throws Exception {
        ServerSettings settings = load("""
                server:
                  limits:
                    idle-timeout: &long 20m
                    data-timeout: *long
                """);
        assertThat(settings.limits().dataTimeout()).isEqualTo(Duration.ofMinutes(20));
    }

    @Test
    void quotedAddressesThatYamlWouldMisreadLoad() throws Exception {
        assertThat(load("server:\n  listen: \"[::1]:2121\"\n").listen()).isEqualTo(new InetSocketAddress("::1", 2121));
        assertThat(load("server:\n  listen: \"*:2121\"\n").listen().getAddress().isAnyLocalAddress()).isTrue();
        assertThat(load("server:\n  listen: :2121\n").listen().getAddress().isAnyLocalAddress()).isTrue();
    }

    @Test
    void byteOrderMarkIsIgnored() throws Exception {
        assertThat(load("\uFEFFserver:\n  server-name: BOM\n").serverName()).isEqualTo("BOM");
    }
}
