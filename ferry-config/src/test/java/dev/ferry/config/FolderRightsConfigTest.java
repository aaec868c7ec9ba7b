package dev.ferry.config;

import static dev.ferry.config.ServerConfigFileTest.HASH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.policy.FolderRights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code rights:} in a users file entry: what it reads, and each mistake reported at FILE:LINE:COL. */
class FolderRightsConfigTest {

    @TempDir
    Path dir;

    private Path write(String rights) throws IOException {
        return Files.writeString(dir.resolve("users.yaml"), """
                users:
                  - name: alice
                    password: %s
                    rights:
                %s""".formatted(HASH, rights.indent(6)));
    }

    @Test
    void readsTheGrantsAsTheTextFormWritesThem() throws Exception {
        Path file = write("""
                /: [list, download]
                upload/: [upload, list]
                /shared: [list, download, upload, overwrite, delete, rename, mkdir]
                /shared/private: []
                """);
        FolderRights rights = UsersFile.load(file, dir).get(0).policy().rights();
        assertThat(rights.format()).isEqualTo("/=list,download;/upload=list,upload;"
                + "/shared=list,download,upload,overwrite,delete,rename,mkdir;/shared/private=");
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            "/: [list, fly]"                 | 5:17 | users[0].rights./: expected a list of rights: list, download, upload, overwrite, delete, rename, mkdir, got 'fly'
            "/: [List]"                      | 5:11 | users[0].rights./: expected a list of rights: list, download, upload, overwrite, delete, rename, mkdir, got 'List'
            "/: list"                        | 5:10 | users[0].rights./: expected a list of rights: list, download, upload, overwrite, delete, rename, mkdir, got 'list'
            "/incoming: upload"              | 5:18 | users[0].rights./incoming: expected a list of rights: list, download, upload, overwrite, delete, rename, mkdir, got 'upload'
            "/a: [list]\n/a/: [upload]"      | 6:7  | users[0].rights: folder /a is given twice; give each folder once
            "/a: [list]\na: [upload]"        | 6:7  | users[0].rights: folder /a is given twice; give each folder once
            "~: [list]"                      | 5:7  | users[0].rights: expected a folder of the account's tree such as / or /incoming as key
            """)
    void reportsMistakesWhereTheyAre(String rights, String position, String problem) throws IOException {
        Path file = write(rights.replace("\\n", "\n"));
        assertThatThrownBy(() -> UsersFile.load(file, dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":" + position + ": " + problem);
    }

    @Test
    void refusesAFolderNoFileCanHave() throws IOException {
        // YAML's double quotes turn \t into a tab, which no name may hold (VirtualPath)
        Path file = write("\"/a\\tb\": [list]\n");
        assertThatThrownBy(() -> UsersFile.load(file, dir))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":5:7: users[0].rights: expected a folder of the account's tree such as / "
                        + "or /incoming, got ")
                .hasMessageEndingWith(" (Path contains a control character)");
    }

    @Test
    void rightsMustBeAMapping() throws IOException {
        Path file = Files.writeString(dir.resolve("users.yaml"), """
                users:
                  - name: alice
                    password: %s
                    rights: [list, download]
                """.formatted(HASH));
        assertThatThrownBy(() -> UsersFile.load(file, dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ":4:13: users[0].rights: expected a mapping of folders to rights, such as "
                        + "{/: [list, download]}, got a list");
    }
}
