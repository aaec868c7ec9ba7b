package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.fs.VirtualPath;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The mapping between a home's virtual paths and its keys, without a store. */
class S3KeysTest {

    @ParameterizedTest(name = "{0} + {1}: file {2}, directory {3}")
    @CsvSource(delimiter = '|', value = {
            "srv/alice/ | /            | srv/alice/           | srv/alice/",
            "srv/alice/ | /a           | srv/alice/a          | srv/alice/a/",
            "srv/alice/ | /a/b c/ü.txt | srv/alice/a/b c/ü.txt | srv/alice/a/b c/ü.txt/",
            "''         | /            | ''                   | ''",
            "''         | /a/b         | a/b                  | a/b/",
    })
    void pathsMapToKeysBelowTheHomePrefix(String prefix, String path, String file, String directory)
            throws Exception {
        Keys keys = new Keys(prefix);
        VirtualPath p = VirtualPath.of(path);
        assertThat(keys.file(p)).isEqualTo(file);
        assertThat(keys.directory(p)).isEqualTo(directory);
    }

    @Test
    void aPrefixMustEndInASlash() {
        assertThatThrownBy(() -> new Keys("srv/alice")).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest(name = "{1} in {0}: \"{2}\"")
    @CsvSource(delimiter = '|', value = {
            "d/ | d/file      | file",
            "d/ | d/sub/      | sub",
            "d/ | d/          | ''",
            "d/ | d//         | ''",
            "d/ | d/../       | ''",
            "d/ | d/./        | ''",
            "d/ | d/a/b       | ''",
            "d/ | e/file      | ''",
            "'' | top         | top",
    })
    void listedKeysBecomeNamesOnlyWhenTheyAreOneValidSegment(String directory, String key, String name) {
        assertThat(Keys.entryName(directory, key).orElse("")).isEqualTo(name);
    }

    @Test
    void aControlCharacterInAKeyIsNoName() {
        assertThat(Keys.entryName("d/", "d/a\u0000b")).isEmpty();
        assertThat(Keys.entryName("d/", "d/a\rb")).isEmpty();
    }

    @Test
    void aRenamedDirectorysKeysKeepTheirRestAndMarkers() throws Exception {
        Keys keys = new Keys("h/");
        VirtualPath from = VirtualPath.of("/a/b");
        VirtualPath to = VirtualPath.of("/c");
        assertThat(keys.moved("h/a/b/", from, to)).isEqualTo("h/c/");
        assertThat(keys.moved("h/a/b/x/y z", from, to)).isEqualTo("h/c/x/y z");
        assertThatThrownBy(() -> keys.moved("h/a/bb", from, to)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void keyOrderIsCodePointOrderAsS3ListsThem() {
        List<String> keys = new ArrayList<>(List.of("\uD83D\uDE00", "\uE000", "é", "a/", "a.txt", "a b", "Z", "a"));
        keys.sort(Keys.ORDER);
        // String.compareTo would put U+1F600 (a surrogate pair) before U+E000
        assertThat(keys).containsExactly("Z", "a", "a b", "a.txt", "a/", "é", "\uE000", "\uD83D\uDE00");
    }
}
