package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.ServerSettings.UserAccount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry users} edits: one entry's lines change, comments and the rest stay, the result loads. */
class UsersFileTextTest {

    static final String HASH = "$argon2id$v=19$m=65536,t=3,p=1$t9bE4WMekbwuyuAWFuDFOQ$qtij5sokYSheA4eOxonuCiLiyofl2VnIb6ahem5Tnk0";

    private static final String FILE = """
            # Ferry users file: keep this comment
            users:
              # alice is the first
              - name: alice
                password: %1$s
                home: alice   # her own folder

              - name: bob
                password: '%1$s'
                home: shared
                access: read-only
            # trailing comment
            """.formatted(HASH);

    @TempDir
    Path dir;

    private Path write(String text) throws Exception {
        return Files.writeString(dir.resolve("users.yaml"), text);
    }

    private List<UserAccount> load(String text) throws Exception {
        return UsersFile.load(Files.writeString(dir.resolve("check.yaml"), text), Path.of("/srv/ftp"));
    }

    @Test
    void addAppendsAnEntryWithItsHomeAndKeepsComments() throws Exception {
        String after = UsersFileText.read(write(FILE)).withAdded("carol", HASH, "carol", true);

        assertThat(after).startsWith(FILE.substring(0, FILE.indexOf("# trailing")))
                .contains("# Ferry users file: keep this comment", "# her own folder", "# trailing comment")
                .contains("access: read-only\n\n  - name: carol\n    password: " + HASH + "\n    home: carol\n    access: read-only\n");
        assertThat(load(after)).extracting(UserAccount::name, UserAccount::home, UserAccount::writable)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("alice", Path.of("/srv/ftp/alice"), true),
                        org.assertj.core.groups.Tuple.tuple("bob", Path.of("/srv/ftp/shared"), false),
                        org.assertj.core.groups.Tuple.tuple("carol", Path.of("/srv/ftp/carol"), false));
    }

    @Test
    void aDuplicateAddIsRefused() throws Exception {
        assertThatThrownBy(() -> UsersFileText.read(write(FILE)).withAdded("bob", HASH, "bob", false))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("user 'bob' is already in the file");
    }

    @Test
    void theFirstUserGoesIntoAnEmptyOrNewFile() throws Exception {
        String fresh = UsersFileText.empty().withAdded("alice", HASH, "alice", false);
        assertThat(fresh).isEqualTo("users:\n  - name: alice\n    password: " + HASH + "\n    home: alice\n");
        assertThat(load(fresh)).extracting(UserAccount::name).containsExactly("alice");

        String inline = UsersFileText.read(write("# none yet\nusers: []   # filled by ferry users\n"))
                .withAdded("bob", HASH, null, false);
        assertThat(inline).isEqualTo("# none yet\nusers:   # filled by ferry users\n  - name: bob\n    password: " + HASH + "\n");
        assertThat(load(inline)).extracting(UserAccount::home).containsExactly((Path) null);
    }

    @Test
    void removeTakesOutTheEntryAndOnlyIt() throws Exception {
        String after = UsersFileText.read(write(FILE)).withRemoved("alice");

        assertThat(after).doesNotContain("name: alice", "her own folder")
                .contains("# Ferry users file", "# alice is the first", "  - name: bob\n", "# trailing comment");
        assertThat(load(after)).extracting(UserAccount::name).containsExactly("bob");

        String none = UsersFileText.read(write(after)).withRemoved("bob");
        assertThat(load(none)).isEmpty();
        assertThat(none).contains("users: []");
    }

    @Test
    void removeOfAMissingUserSaysSo() throws Exception {
        assertThatThrownBy(() -> UsersFileText.read(write(FILE)).withRemoved("mallory"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no user 'mallory' in the file");
    }

    @Test
    void aValueIsReplacedInPlaceOrAddedAsALine() throws Exception {
        UsersFileText text = UsersFileText.read(write(FILE));
        String disabled = text.withValue("alice", "enabled", "false");
        assertThat(disabled).contains("    home: alice   # her own folder\n    enabled: false\n\n  - name: bob");
        assertThat(load(disabled).get(0).enabled()).isFalse();

        String enabled = UsersFileText.read(write(disabled)).withValue("alice", "enabled", "true");
        assertThat(load(enabled).get(0).enabled()).isTrue();

        String other = "$argon2id$v=19$m=65536,t=3,p=1$5imS+R9fQQYfReN9yNQvMA$iJl/WJEA5DOX6IjlXGeRLBRM0QvlbLnJeuB0UFWn2wQ";
        String rehashed = text.withValue("bob", "password", other);
        assertThat(rehashed).contains("    password: " + other + "\n    home: shared\n");
        assertThat(load(rehashed).get(1).passwordHash()).isEqualTo(other);
    }

    @Test
    void entriesListWhatTheFileSays() throws Exception {
        assertThat(UsersFileText.read(write(FILE + "  - name: 'carol.x'\n    password: " + HASH + "\n    enabled: false\n"))
                .entries()).containsExactly(
                        new UsersFileText.Entry("alice", "alice", false, true),
                        new UsersFileText.Entry("bob", "shared", true, true),
                        new UsersFileText.Entry("carol.x", null, false, false));
    }

    @Test
    void aFileTheServerRefusesIsNotEdited() throws Exception {
        assertThatThrownBy(() -> UsersFileText.read(write("users:\n  - name: alice\n    password: secret\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("not a hash");
    }

    @Test
    void namesAndPathsAreQuotedOnlyWhenYamlWouldReadThemOtherwise() {
        assertThat(UsersFileText.scalar("alice")).isEqualTo("alice");
        assertThat(UsersFileText.scalar("team/alice")).isEqualTo("team/alice");
        assertThat(UsersFileText.scalar("no")).isEqualTo("'no'");
        assertThat(UsersFileText.scalar("007")).isEqualTo("'007'");
        assertThat(UsersFileText.scalar("a+b")).isEqualTo("'a+b'");
        assertThat(UsersFileText.scalar("/srv/ftp/o'neil")).isEqualTo("'/srv/ftp/o''neil'");
    }

    @Test
    void aReplacedFileKeepsItsModeAndLeavesNoTempFile() throws Exception {
        Path file = write(FILE);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        Object inode = Files.readAttributes(file, "unix:ino").get("ino");

        AtomicFile.replace(file, UsersFileText.read(file).withRemoved("bob"), p -> UsersFile.load(p, Path.of("")));

        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-r-----"));
        assertThat(Files.readString(file)).doesNotContain("bob");
        assertThat(Files.readAttributes(file, "unix:ino").get("ino")).as("a new file renamed over the old").isNotEqualTo(inode);
        try (var listing = Files.list(dir)) {
            assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("users.yaml");
        }
    }

    @Test
    void aNewFileIsOwnerOnly() throws Exception {
        Path file = dir.resolve("new-users.yaml");
        AtomicFile.replace(file, UsersFileText.empty().withAdded("alice", HASH, "alice", false), p -> { });
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void aFailedCheckLeavesTheOldFileAndNoTempFile() throws Exception {
        Path file = write(FILE);
        assertThatThrownBy(() -> AtomicFile.replace(file, "users:\n  - name: x\n    password: plain\n",
                p -> UsersFile.load(p, Path.of("")))).isInstanceOf(ConfigException.class);
        assertThat(Files.readString(file)).isEqualTo(FILE);
        try (var listing = Files.list(dir)) {
            assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("users.yaml");
        }
    }

    @Test
    void aSymbolicLinkStaysAndItsTargetIsReplaced() throws Exception {
        Path real = write(FILE);
        Path link = Files.createSymbolicLink(dir.resolve("link.yaml"), real);
        AtomicFile.replace(link, UsersFileText.read(link).withRemoved("bob"), p -> { });
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.readString(real)).doesNotContain("name: bob");
    }
}
