package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.config.UsersFile;
import dev.ferry.server.ServerSettings.UserAccount;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ferry users}: what an operator types, what the file becomes, what the command says. */
class UsersCommandTest {

    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {}

    private Run run(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                var in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
                if (cls == UsersCommand.Add.class) {
                    return cls.cast(new UsersCommand.Add(() -> null, in));
                }
                if (cls == UsersCommand.Passwd.class) {
                    return cls.cast(new UsersCommand.Passwd(() -> null, in));
                }
                return CommandLine.defaultFactory().create(cls);
            }
        };
        CommandLine cli = new CommandLine(new UsersCommand(), factory);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private List<UserAccount> accounts(Path file) throws Exception {
        return UsersFile.load(file, dir.resolve("root"));
    }

    @Test
    void addMakesAValidFileWithAHomePerUserAndCreatesTheHome() throws Exception {
        Path root = Files.createDirectory(dir.resolve("root"));
        Path file = dir.resolve("users.yaml");

        Run alice = run("s3cret-alice\n", "add", "alice", "--file", file.toString(), "--root", root.toString(), "--password-stdin");
        Run bob = run("s3cret-bob\n", "add", "bob", "--file", file.toString(), "--read-only", "--password-stdin");

        assertThat(alice.exitCode()).as(alice.err()).isZero();
        assertThat(alice.out()).contains("added alice, home " + root.resolve("alice") + " (created) in " + file);
        assertThat(bob.exitCode()).as(bob.err()).isZero();
        assertThat(bob.out()).contains("added bob, home 'bob' under the server root");
        assertThat(Files.isDirectory(root.resolve("alice"))).isTrue();
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(accounts(file)).extracting(UserAccount::name, UserAccount::home, UserAccount::writable).containsExactly(
                org.assertj.core.groups.Tuple.tuple("alice", root.resolve("alice"), true),
                org.assertj.core.groups.Tuple.tuple("bob", root.resolve("bob"), false));
        assertThat(dev.ferry.runtime.password.PasswordHasher.verify("s3cret-alice".toCharArray(), accounts(file).get(0).passwordHash()))
                .isTrue();
        String all = alice.out() + alice.err() + bob.out() + bob.err() + Files.readString(file);
        assertThat(all).as("the password is never echoed").doesNotContain("s3cret");
    }

    @Test
    void aDuplicateAddIsRefusedAndTheFileIsUnchanged() throws Exception {
        Path file = dir.resolve("users.yaml");
        assertThat(run("pw\n", "add", "alice", "--file", file.toString(), "--password-stdin").exitCode()).isZero();
        String before = Files.readString(file);

        Run again = run("pw2\n", "add", "alice", "--file", file.toString(), "--password-stdin");

        assertThat(again.exitCode()).isEqualTo(2);
        assertThat(again.err()).contains("user 'alice' is already in the file");
        assertThat(Files.readString(file)).isEqualTo(before);
    }

    @Test
    void aBadNameIsRefusedByTheUsersFileRule() throws Exception {
        Path file = dir.resolve("users.yaml");
        Run r = run("pw\n", "add", "bad name", "--file", file.toString(), "--password-stdin");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("expected a user name of 1 to 64 letters, digits and . _ - @ +");
        assertThat(file).doesNotExist();
    }

    @Test
    void removeOfAMissingUserExitsNonZeroAndSaysSo() throws Exception {
        Path file = dir.resolve("users.yaml");
        run("pw\n", "add", "alice", "--file", file.toString(), "--password-stdin");

        Run r = run("", "remove", "mallory", "--file", file.toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("no user 'mallory' in the file");
    }

    @Test
    void disableEnablePasswdRemoveAndList() throws Exception {
        Path file = dir.resolve("users.yaml");
        run("pw\n", "add", "zed", "--file", file.toString(), "--password-stdin");
        run("pw\n", "add", "alice", "--file", file.toString(), "--home", "shared", "--password-stdin");

        assertThat(run("", "disable", "zed", "--file", file.toString()).exitCode()).isZero();
        assertThat(accounts(file).get(0).enabled()).isFalse();
        assertThat(run("", "enable", "zed", "--file", file.toString()).exitCode()).isZero();
        assertThat(accounts(file).get(0).enabled()).isTrue();
        String oldHash = accounts(file).get(1).passwordHash();
        assertThat(run("new-pw\n", "passwd", "alice", "--file", file.toString(), "--password-stdin").exitCode()).isZero();
        assertThat(accounts(file).get(1).passwordHash()).isNotEqualTo(oldHash);
        run("", "disable", "zed", "--file", file.toString());

        Run list = run("", "list", "--file", file.toString());
        assertThat(list.exitCode()).isZero();
        assertThat(list.out().lines().toList()).containsExactly(
                "NAME   HOME    ACCESS      ENABLED",
                "alice  shared  read-write  yes",
                "zed    zed     read-write  no");
        assertThat(list.out()).doesNotContain("$argon2id$");

        assertThat(run("", "remove", "zed", "--file", file.toString()).exitCode()).isZero();
        assertThat(accounts(file)).extracting(UserAccount::name).containsExactly("alice");
    }

    @Test
    void anAccountWithStorageOfItsOwnIsKeptByAddAndShownByList() throws Exception {
        Path file = dir.resolve("users.yaml");
        run("pw\n", "add", "alice", "--file", file.toString(), "--password-stdin");
        String hash = accounts(file).get(0).passwordHash();
        Files.writeString(file, Files.readString(file) + "  - name: bob\n    password: '" + hash + "'\n    home: bob\n"
                + "    storage: {bucket: other, prefix: /teams/b/}\n");

        Run add = run("pw\n", "add", "carol", "--file", file.toString(), "--password-stdin");
        Run list = run("", "list", "--file", file.toString());

        assertThat(add.exitCode()).as(add.err()).isZero();
        assertThat(accounts(file)).extracting(UserAccount::name).containsExactly("alice", "bob", "carol");
        assertThat(accounts(file).get(1).storage().objectStore().url()).isEqualTo("s3://other/teams/b");
        assertThat(list.out().lines().toList()).containsExactly(
                "NAME   HOME   ACCESS      ENABLED  STORAGE",
                "alice  alice  read-write  yes      (server's)",
                "bob    bob    read-write  yes      s3://other/teams/b",
                "carol  carol  read-write  yes      (server's)");
    }

    @Test
    void addForAServerOnAnObjectStoreNamesTheKeysAndMakesNoDirectory() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), """
                server:
                  root: /srv/ferry-test-root
                  storage: s3://ferry/ftp
                  users-file: users.yaml
                """);

        Run add = run("pw\n", "add", "dave", "--config", config.toString(), "--password-stdin");
        Run outside = run("pw\n", "add", "erin", "--home", "../erin", "--config", config.toString(), "--password-stdin");

        assertThat(add.exitCode()).as(add.err()).isZero();
        assertThat(add.out()).contains("added dave, home 'dave': keys ftp/dave/ in s3://ferry/ftp");
        assertThat(Path.of("/srv/ferry-test-root")).as("no directory made for a home on an object store").doesNotExist();
        assertThat(outside.exitCode()).isEqualTo(2);
        assertThat(outside.err()).contains("is not below the server root");
        assertThat(accounts(dir.resolve("users.yaml"))).extracting(UserAccount::name).containsExactly("dave");
    }

    @Test
    void withoutATerminalOrPasswordStdinNothingIsRead() throws Exception {
        Path file = dir.resolve("users.yaml");
        Run r = run("pw\n", "add", "alice", "--file", file.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--password-stdin");
        assertThat(file).doesNotExist();
    }

    @Test
    void aChangeToAMissingFileSaysSo() {
        Run r = run("", "disable", "alice", "--file", dir.resolve("nope.yaml").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("nope.yaml: no such file");
    }

    @Test
    void configNamesTheUsersFileAndTheRootTheServerUses() throws Exception {
        Path root = Files.createDirectory(dir.resolve("srv"));
        Path etc = Files.createDirectory(dir.resolve("etc"));
        Path config = Files.writeString(etc.resolve("ferry.yaml"), """
                server:
                  root: ../srv
                  users-file: users.yaml
                """);

        Run add = run("s3cret-carol\n", "add", "carol", "--config", config.toString(), "--password-stdin");
        Run list = run("", "list", "--config", config.toString());

        assertThat(add.exitCode()).as(add.err()).isZero();
        assertThat(add.out()).contains("added carol, home " + root.resolve("carol") + " (created) in " + etc.resolve("users.yaml"));
        assertThat(Files.isDirectory(root.resolve("carol"))).isTrue();
        assertThat(list.out()).contains("carol").contains("read-write");
    }

    @Test
    void aConfigWithoutAUsersFileIsRefusedWithItsPosition() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), "server:\n  root: /srv/ftp\n");

        Run r = run("x\n", "add", "dave", "--config", config.toString(), "--password-stdin");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains(config + ":2:3: server: missing key 'users-file'");
        assertThat(dir.resolve("users.yaml")).doesNotExist();
    }

    @Test
    void showPrintsOneAccountOfTheFileWithoutItsHash() throws Exception {
        Path file = dir.resolve("users.yaml");
        assertThat(run("pw-bob\n", "add", "bob", "--file", file.toString(), "--read-only", "--home", "pub",
                "--password-stdin").exitCode()).isZero();
        run("", "disable", "bob", "--file", file.toString());

        Run show = run("", "show", "bob", "--file", file.toString());
        assertThat(show.exitCode()).isZero();
        assertThat(show.out().lines().toList()).containsExactly(
                "name:      bob",
                "home:      pub",
                "access:    read-only",
                "enabled:   no",
                "quota:     no limit, no limit",
                "bandwidth: up no limit, down no limit",
                "sessions:  no limit",
                "rights:    (none)");
        Run missing = run("", "show", "carol", "--file", file.toString());
        assertThat(missing.exitCode()).isEqualTo(UsersCommand.REFUSED);
        assertThat(missing.err()).contains("no user 'carol' in the file");
    }

    /** Limits on add and set: the loader's own keys, each option changing only its limit, comments kept. */
    @Test
    void addAndSetWriteTheLimitsTheServerReads() throws Exception {
        Path file = dir.resolve("users.yaml");
        Run added = run("s3cret-alice\n", "add", "alice", "--file", file.toString(), "--password-stdin",
                "--quota-bytes", "10GiB", "--quota-files", "1000", "--max-sessions", "2");
        assertThat(added.exitCode()).as(added.err()).isZero();
        assertThat(run("s3cret-bob\n", "add", "bob", "--file", file.toString(), "--password-stdin").exitCode()).isZero();
        Files.writeString(file, Files.readString(file).replace("  - name: bob", "  # bob is the night shift\n  - name: bob"));
        UserAccount alice = accounts(file).get(0);
        assertThat(alice.policy().quota()).isEqualTo(new dev.ferry.server.policy.Quota(10L << 30, 1000));
        assertThat(alice.policy().maxSessions()).isEqualTo(2);

        // only the bytes: the files stay; rates, rights, access and home are added
        Run set = run("", "set", "alice", "--file", file.toString(), "--quota-bytes", "1GiB", "--upload-rate", "1MiB",
                "--rights", "/=list,download;/incoming=list,upload", "--read-only", "--home", "customers/alice");
        assertThat(set.exitCode()).as(set.err()).isZero();
        assertThat(set.out()).contains("changed alice in " + file);
        alice = accounts(file).get(0);
        assertThat(alice.policy().quota()).isEqualTo(new dev.ferry.server.policy.Quota(1L << 30, 1000));
        assertThat(alice.policy().bandwidth()).isEqualTo(new dev.ferry.server.policy.Bandwidth(1L << 20, 0));
        assertThat(alice.policy().rights().format()).isEqualTo("/=list,download;/incoming=list,upload");
        assertThat(alice.writable()).isFalse();
        assertThat(alice.home()).isEqualTo(dir.resolve("root/customers/alice"));
        assertThat(Files.readString(file)).contains("# bob is the night shift", "quota: {bytes: 1073741824, files: 1000}",
                "rights: {'/': [list, download], '/incoming': [list, upload]}");
        assertThat(accounts(file).get(1).policy()).isEqualTo(dev.ferry.server.policy.AccountPolicy.NONE);

        // a block mapping written by hand is replaced whole; '' removes the rights
        Files.writeString(file, Files.readString(file).replace("quota: {bytes: 1073741824, files: 1000}",
                "quota:\n      bytes: 5\n      files: 6"));
        assertThat(run("", "set", "alice", "--file", file.toString(), "--quota-files", "0", "--rights", "", "--read-write")
                .exitCode()).isZero();
        alice = accounts(file).get(0);
        assertThat(alice.policy().quota()).isEqualTo(new dev.ferry.server.policy.Quota(5, 0));
        assertThat(alice.policy().rights().isEmpty()).isTrue();
        assertThat(alice.writable()).isTrue();

        Run shown = run("", "show", "alice", "--file", file.toString());
        assertThat(shown.out()).contains("quota:     5 bytes, no limit", "bandwidth: up 1048576 B/s, down no limit",
                "sessions:  2", "rights:    (none)");

        String before = Files.readString(file);
        Run bad = run("", "set", "alice", "--file", file.toString(), "--upload-rate", "1MB");
        assertThat(bad.exitCode()).isEqualTo(UsersCommand.REFUSED);
        assertThat(bad.err()).contains("--upload-rate").contains("MiB");
        assertThat(run("", "set", "alice", "--file", file.toString(), "--rights", "/=fly").err())
                .contains("--rights").contains("unknown right");
        assertThat(run("", "set", "alice", "--file", file.toString()).err()).contains("nothing to change");
        assertThat(run("", "set", "carol", "--file", file.toString(), "--max-sessions", "1").err()).contains("no user 'carol'");
        assertThat(Files.readString(file)).isEqualTo(before);
    }
}
