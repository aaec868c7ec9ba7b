package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.auth.hook.HookSettings;
import dev.ferry.server.auth.ldap.LdapSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** users: ldap with ldap:, users: hook with auth-hook:, and their FILE:LINE:COL errors. */
class AccountSourceSectionTest {

    @TempDir
    Path dir;

    private final ServerSettings base = ServerSettings.defaults(Path.of("/base-root"));

    private ServerSettings load(String yaml) throws Exception {
        Files.writeString(dir.resolve("ldap.secret"), "s3cret\n");
        Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        return ServerConfigFile.load(write(yaml), base);
    }

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("ferry.yaml");
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    @Test
    void ldapSectionWithEveryKey() throws Exception {
        ServerSettings s = load("""
                server:
                  root: /srv/ftp
                  users: ldap
                  ldap:
                    urls: [ldaps://ldap1.example.org, "ldaps://ldap2.example.org:1636"]
                    ca-file: ca.pem
                    bind-dn: cn=ferry,ou=services,dc=example,dc=org
                    bind-password-file: ldap.secret
                    base-dn: ou=people,dc=example,dc=org
                    user-filter: (&(objectClass=posixAccount)(uid={user}))
                    groups:
                      cn=ftp-write,ou=groups,dc=example,dc=org: read-write
                      cn=ftp-read,ou=groups,dc=example,dc=org: read-only
                    default-access: read-only
                    home-attribute: homeDirectory
                    connect-timeout: 2s
                    response-timeout: 3s
                    pool-size: 4
                    cache-ttl: 0
                """);
        assertThat(s.accountSource()).isEqualTo(new LdapSettings(
                List.of(URI.create("ldaps://ldap1.example.org"), URI.create("ldaps://ldap2.example.org:1636")), false,
                dir.resolve("ca.pem"), "cn=ferry,ou=services,dc=example,dc=org", dir.resolve("ldap.secret"),
                "ou=people,dc=example,dc=org", "(&(objectClass=posixAccount)(uid={user}))", null,
                LdapSettings.DEFAULT_GROUP_FILTER, LdapSettings.DEFAULT_GROUP_ATTRIBUTE,
                Map.of("cn=ftp-write,ou=groups,dc=example,dc=org", LdapSettings.Access.READ_WRITE,
                        "cn=ftp-read,ou=groups,dc=example,dc=org", LdapSettings.Access.READ_ONLY),
                LdapSettings.Access.READ_ONLY, "homeDirectory", null, Duration.ofSeconds(2), Duration.ofSeconds(3), 4,
                Duration.ZERO));
        assertThat(s.users()).isEmpty();
    }

    @Test
    void hookSectionWithDefaults() throws Exception {
        ServerSettings s = load("""
                server:
                  users: hook
                  auth-hook:
                    url: http://127.0.0.1:8080/ftp-auth
                """);
        assertThat(s.accountSource()).isEqualTo(new HookSettings(URI.create("http://127.0.0.1:8080/ftp-auth"),
                HookSettings.DEFAULT_TIMEOUT, HookSettings.DEFAULT_CACHE_TTL));
        assertThat(s.accountSource().kind()).isEqualTo("hook");
    }

    /** The examples of docs/users.md load as written (their /etc/ferry files made here). */
    @Test
    void theDocsExamplesLoad() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "users.md"));
        Files.writeString(dir.resolve("ldap.secret"), "s3cret\n");
        Files.writeString(dir.resolve("ldap-ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        List<String> kinds = new java.util.ArrayList<>();
        for (String section : List.of("## LDAP\n", "## Auth hook\n")) {
            int start = doc.indexOf(section);
            assertThat(start).as(section).isNotNegative();
            int end = doc.indexOf("\n## ", start + section.length());
            String text = doc.substring(start, end < 0 ? doc.length() : end);
            java.util.regex.Matcher blocks = java.util.regex.Pattern.compile("```yaml\n(.*?)```",
                    java.util.regex.Pattern.DOTALL).matcher(text);
            while (blocks.find()) {
                String yaml = blocks.group(1).replace("/etc/ferry/", dir + "/");
                kinds.add(ServerConfigFile.load(write(yaml), base).accountSource().kind());
            }
        }
        assertThat(kinds).containsExactly("ldap", "hook");
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("""
                        server:
                          users: ldap
                        """, "2:3", "missing key 'ldap'"),
                Arguments.of("""
                        server:
                          users: nis
                        """, "2:10", "expected a list of users, or database, ldap or hook, got 'nis'"),
                Arguments.of("""
                        server:
                          users: ldap
                          ldap:
                            url: http://ldap.example.org
                            base-dn: dc=example,dc=org
                        """, "4:10", "expected an ldap:// or ldaps:// URL"),
                Arguments.of("""
                        server:
                          users: ldap
                          ldap:
                            url: ldap://ldap.example.org
                        """, "4:5", "missing key 'base-dn'"),
                Arguments.of("""
                        server:
                          users: ldap
                          ldap:
                            url: ldap://ldap.example.org
                            base-dn: dc=example,dc=org
                            user-filter: (cn=fixed)
                        """, "6:18", "holding {user}"),
                Arguments.of("""
                        server:
                          users: ldap
                          ldap:
                            url: ldap://ldap.example.org
                            base-dn: dc=example,dc=org
                            groups: {"cn=w,dc=example,dc=org": write}
                        """, "6:40", "expected read-only or read-write"),
                Arguments.of("""
                        server:
                          users: ldap
                          ldap:
                            url: ldaps://ldap.example.org
                            base-dn: dc=example,dc=org
                            start-tls: true
                        """, "6:16", "is TLS from the start"),
                Arguments.of("""
                        server:
                          users: ldap
                          ldap:
                            url: ldap://ldap.example.org
                            base-dn: dc=example,dc=org
                            bind-dn: cn=ferry,dc=example,dc=org
                        """, "4:5", "missing key 'bind-password-file'"),
                Arguments.of("""
                        server:
                          users: ldap
                          users-file: users.yaml
                          ldap:
                            url: ldap://ldap.example.org
                            base-dn: dc=example,dc=org
                        """, "3:15", "a users file would not be read"),
                Arguments.of("""
                        server:
                          users: []
                          ldap:
                            url: ldap://ldap.example.org
                        """, "4:5", "the ldap: section is read with users: ldap"),
                Arguments.of("""
                        server:
                          users: hook
                          auth-hook:
                            url: http://user:pw@127.0.0.1/auth
                        """, "4:10", "must not carry a user or password"),
                Arguments.of("""
                        server:
                          users: hook
                          auth-hook:
                            url: http://127.0.0.1/auth
                            timeout: 0s
                        """, "5:14", "server.auth-hook.timeout"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void errorsNameTheirPlace(String yaml, String position, String words) throws Exception {
        Files.writeString(dir.resolve("ldap.secret"), "s3cret\n");
        Path file = write(yaml);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ServerConfigFile.load(file, base));
        assertThat(e).as("no error for:%n%s", yaml).isNotNull();
        assertThat(e.getMessage()).startsWith(file + ":" + position + ": ").contains(words);
    }
}
