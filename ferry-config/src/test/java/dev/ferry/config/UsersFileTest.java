package dev.ferry.config;

import static dev.ferry.config.ServerConfigFileTest.BCRYPT;
import static dev.ferry.config.ServerConfigFileTest.HASH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.ServerSettings.UserAccount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UsersFileTest {

    @TempDir
    Path dir;

    private final Path serverRoot = Path.of("/srv/ftp");

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("users.yaml"), yaml);
    }

    @Test
    void readsEveryFieldAndAppliesDefaults() throws Exception {
        Path file = write("""
                users:
                  - name: alice
                    password: %s
                  - name: bob
                    password: '%s'
                    home: bob
                    access: read-only
                    enabled: false
                  - name: carol
                    password: %s
                    home: /data/carol
                    access: read-write
                    enabled: true
                """.formatted(HASH, BCRYPT, HASH));
        assertThat(UsersFile.load(file, serverRoot)).containsExactly(
                new UserAccount("alice", HASH, null, true, true),
                new UserAccount("bob", BCRYPT, Path.of("/srv/ftp/bob"), false, false),
                new UserAccount("carol", HASH, Path.of("/data/carol"), true, true));
    }

    @Test
    void homeCannotClimbOutOfTheWayItIsWritten() throws Exception {
        // A relative home is resolved and normalized, so the server sees the real directory it names.
        Path file = write("""
                users:
                  - name: alice
                    password: %s
                    home: ../shared/./alice
                """.formatted(HASH));
        assertThat(UsersFile.load(file, serverRoot).get(0).home()).isEqualTo(Path.of("/srv/shared/alice"));
    }

    @Test
    void emptyListIsAllowed() throws Exception {
        assertThat(UsersFile.load(write("users: []\n"), serverRoot)).isEmpty();
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            ""                                    | 1:1  | the file is empty; expected a `users:` list (see docs/configuration.md)
            "{}"                                  | 1:1  | missing key 'users' (the list of accounts)
            "- name: alice"                       | 1:1  | expected a mapping with the keys users, got a list
            "users:"                              | 1:7  | users: expected a list of users, got nothing
            "user: []"                            | 1:1  | unknown key 'user'; did you mean 'users'? Allowed keys: users
            "users: [{name: alice, password: x}]" | 1:33 | users[0].password: expected a password hash made by `ferry passwd` (starting with $argon2id$, or $2a$, $2b$, $2y$ for bcrypt); the value given is not a hash (it is not shown here)
            "users: [{name: '', password: x}]"    | 1:16 | users[0].name: expected a user name of 1 to 64 letters, digits and . _ - @ +, got ''
            """)
    void reportsErrorsWithTheUsersFileName(String yaml, String position, String problem) throws IOException {
        Path file = write(yaml);
        assertThatThrownBy(() -> UsersFile.load(file, serverRoot))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ":" + position + ": " + problem);
    }

    @Test
    void missingUsersFileIsReported() {
        Path file = dir.resolve("absent.yaml");
        assertThatThrownBy(() -> UsersFile.load(file, serverRoot)).hasMessage(file + ": no such file");
    }
}
