package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.database.DatabaseSettings;
import dev.ferry.server.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code users: database} and the {@code database:} section of a server's file. */
class DatabaseSectionTest {

    @TempDir
    Path dir;
    private ServerSettings base;

    @BeforeEach
    void setUp() throws Exception {
        base = ServerSettings.defaults(dir);
        Files.writeString(dir.resolve("db-password"), "s3cret\n");
    }

    private Path write(String yaml) throws Exception {
        return Files.writeString(dir.resolve("ferry.yaml"), yaml);
    }

    @Test
    void usersDatabaseReadsEveryKeyWithPathsRelativeToTheFile() throws Exception {
        ServerSettings s = ServerConfigFile.load(write("""
                server:
                  users: database
                  database:
                    url: postgresql://db.example:5433/ferry
                    user: ftp
                    password-file: db-password
                    pool-size: 8
                    connect-timeout: 2s
                    query-timeout: 1500ms
                """), base);
        assertThat(s.accountSource()).isEqualTo(dev.ferry.server.auth.DatabaseSource.INSTANCE);
        assertThat(s.users()).isEmpty();
        assertThat(s.database()).isEqualTo(new DatabaseSettings("jdbc:postgresql://db.example:5433/ferry", "ftp",
                dir.resolve("db-password"), 8, Duration.ofSeconds(2), Duration.ofMillis(1500)));
        assertThat(s.database().displayUrl()).isEqualTo("postgresql://db.example:5433/ferry");

        ServerConfigFile.Accounts accounts = ServerConfigFile.accounts(dir.resolve("ferry.yaml"));
        assertThat(accounts.usersFile()).isNull();
        assertThat(accounts.database()).isEqualTo(s.database());
    }

    @Test
    void defaultsAreASmallPoolAndFiveSecondTimeouts() throws Exception {
        ServerSettings s = ServerConfigFile.load(write("""
                server:
                  users: database
                  database: {url: "jdbc:postgresql://127.0.0.1/ferry", user: ferry}
                """), base);
        assertThat(s.database()).isEqualTo(new DatabaseSettings("postgresql://127.0.0.1/ferry", "ferry", null));
        assertThat(s.database().poolSize()).isEqualTo(4);
    }

    @Test
    void anInlineListStillMeansUsersFromTheFile() throws Exception {
        ServerSettings s = ServerConfigFile.load(write("server:\n  users: []\n"), base);
        assertThat(s.accountSource()).isNull();
        assertThat(s.database()).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            users: ldapp|2:10|server.users: expected a list of users, or database, ldap or hook, got 'ldapp'
            users: database|2:3|server: missing key 'database'
            users: database\\n  users-file: u.yaml\\n  database: {url: postgresql://h/d, user: f}|3:15|remove one of the two
            users: database\\n  database: {user: f}|3:13|server.database: missing key 'url'
            users: database\\n  database: {url: postgresql://h/d}|3:13|missing key 'user'
            users: database\\n  database: {url: mysql://h/d, user: f}|3:19|expected a database URL such as postgresql://
            users: database\\n  database: {url: postgresql://u:pw@h/d, user: f}|3:19|must not carry a password
            users: database\\n  database: {url: postgresql://h/d, user: f, pool-size: 0}|3:57|expected a whole number from 1 to 64
            users: database\\n  database: {url: postgresql://h/d, user: f, connect-timeout: 100ms}|3:63|at least 250ms
            users: database\\n  database: {url: postgresql://h/d, user: f, password-file: nope}|3:61|cannot read
            users: database\\n  database: {url: postgresql://h/d, user: f, paswd: x}|3:46|unknown key 'paswd'
            """)
    void mistakesAreReportedAtTheirLine(String body, String position, String message) throws Exception {
        Path file = write("server:\n  " + body.replace("\\n", "\n") + "\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ServerConfigFile.load(file, base));
        assertThat(e).as(body).isNotNull();
        assertThat(e.getMessage()).startsWith(file + ":" + position).contains(message);
    }
}
