package dev.ferry.cli;

import static dev.ferry.cli.DatabaseUsersServerTest.config;
import static dev.ferry.cli.DatabaseUsersServerTest.users;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry users recount NAME}: the shared quota ledger counts an account again after changes beside Ferry. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class UsersRecountTest {

    @TempDir
    Path dir;
    private PostgresServer pg;

    @AfterEach
    void tearDown() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void aRecountWalksTheHomeAndReplacesTheUsage() throws Exception {
        pg = PostgresServer.create();
        Path root = Files.createDirectories(dir.resolve("root"));
        Path file = config(dir, pg, root, "");
        DatabaseUsersServerTest.Run added = users("pw-alice\n", "add", "alice", "--config", file.toString(),
                "--password-stdin");
        assertThat(added.exitCode()).as(added.err()).isZero();
        Files.write(root.resolve("alice/a.bin"), new byte[100]);
        Files.createDirectories(root.resolve("alice/sub"));
        Files.write(root.resolve("alice/sub/b.bin"), new byte[200]);

        DatabaseUsersServerTest.Run first = users("", "recount", "alice", "--config", file.toString());
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).isEqualTo("alice: 300 bytes, 2 files (counted for the first time)\n");

        // beside Ferry: a shell removes one file and adds another
        Files.delete(root.resolve("alice/a.bin"));
        Files.write(root.resolve("alice/c.bin"), new byte[5_000]);
        DatabaseUsersServerTest.Run again = users("", "recount", "alice", "--config", file.toString());
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).isEqualTo("alice: 5200 bytes, 2 files (was 300 bytes, 2 files)\n");
        assertThat(pg.psql(PostgresServer.DATABASE, "SELECT bytes_used || ' ' || files_used FROM ferry_quota_usage"
                + " WHERE account = 'alice'")).isEqualTo("5200 2");

        DatabaseUsersServerTest.Run unknown = users("", "recount", "nobody", "--config", file.toString());
        assertThat(unknown.exitCode()).isEqualTo(UsersCommand.REFUSED);
        assertThat(unknown.err()).contains("no user 'nobody'");
    }

    /**
     * A database home is relative to every server's root, by one rule for `ferry users` and the admin API: one that
     * leads out of it is refused before anything is stored, and a row written so with SQL is not recounted.
     */
    @Test
    void aHomeOutsideTheRootIsRefusedAndAnSqlOneIsNotRecounted() throws Exception {
        pg = PostgresServer.create();
        Path root = Files.createDirectories(dir.resolve("root"));
        Path file = config(dir, pg, root, "");
        for (String home : new String[] {"../etc", "/etc"}) {
            DatabaseUsersServerTest.Run added = users("pw-eve\n", "add", "eve", "--home", home, "--config",
                    file.toString(), "--password-stdin");
            assertThat(added.exitCode()).as(added.err()).isEqualTo(UsersCommand.REFUSED);
            assertThat(added.err()).contains("--home must be relative to the server root");
        }
        assertThat(pg.psql(PostgresServer.DATABASE, "SELECT count(*) FROM ferry_users")).isEqualTo("0");

        assertThat(users("pw-bob\n", "add", "bob", "--config", file.toString(), "--password-stdin").exitCode()).isZero();
        DatabaseUsersServerTest.Run set = users("", "set", "bob", "--home", "a/../../x", "--config", file.toString());
        assertThat(set.exitCode()).as(set.err()).isEqualTo(UsersCommand.REFUSED);
        assertThat(pg.psql(PostgresServer.DATABASE, "SELECT home FROM ferry_users WHERE name = 'bob'")).isEqualTo("bob");

        pg.psql(PostgresServer.DATABASE, "UPDATE ferry_users SET home = '../outside' WHERE name = 'bob'");
        DatabaseUsersServerTest.Run recount = users("", "recount", "bob", "--config", file.toString());
        assertThat(recount.exitCode()).isEqualTo(UsersCommand.REFUSED);
        assertThat(recount.err()).contains("outside the root");
    }

    @Test
    void aServerWithoutADatabaseHasNothingToRecount() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path users = Files.writeString(dir.resolve("users.yaml"), "users: []\n");
        Path file = Files.writeString(dir.resolve("ferry.yaml"), """
                server:
                  listen: 127.0.0.1:0
                  root: %s
                  users-file: %s
                """.formatted(root, users));
        DatabaseUsersServerTest.Run r = users("", "recount", "alice", "--config", file.toString());
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(UsersCommand.REFUSED);
        assertThat(r.err()).contains("has no database: section");
    }
}
