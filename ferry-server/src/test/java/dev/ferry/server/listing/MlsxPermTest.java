package dev.ferry.server.listing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.FileType;
import dev.ferry.server.policy.Right;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 3659 §7.5.5 perm letters from per-folder rights: at the entry, and over the entry itself. */
class MlsxPermTest {

    private static Set<Right> rights(String names) {
        Set<Right> set = EnumSet.noneOf(Right.class);
        for (String n : names.split(" ")) {
            if (!n.isEmpty()) {
                set.add(Right.valueOf(n));
            }
        }
        return set;
    }

    @ParameterizedTest(name = "{0} here=[{1}] entry=[{2}] -> {3}")
    @CsvSource(delimiter = '|', textBlock = """
            FILE      | LIST DOWNLOAD                                   | LIST DOWNLOAD   | r
            FILE      | LIST UPLOAD                                     | LIST UPLOAD     | ''
            FILE      | OVERWRITE                                       | DELETE RENAME   | adfw
            FILE      | LIST DOWNLOAD UPLOAD OVERWRITE DELETE RENAME MKDIR | LIST DOWNLOAD UPLOAD OVERWRITE DELETE RENAME MKDIR | adfrw
            DIRECTORY | LIST DOWNLOAD                                   | LIST DOWNLOAD   | el
            DIRECTORY | UPLOAD                                          | ''              | ce
            DIRECTORY | LIST DOWNLOAD UPLOAD OVERWRITE DELETE RENAME MKDIR | LIST DOWNLOAD | celmp
            DIRECTORY | LIST DOWNLOAD UPLOAD OVERWRITE DELETE RENAME MKDIR | LIST DOWNLOAD UPLOAD OVERWRITE DELETE RENAME MKDIR | cdeflmp
            DIRECTORY | ''                                              | DELETE RENAME   | df
            OTHER     | LIST DOWNLOAD UPLOAD OVERWRITE DELETE RENAME MKDIR | LIST            | ''
            """)
    void lettersFollowTheRights(FileType type, String here, String entry, String expected) {
        assertThat(MlsxFormat.perm(type, rights(here.strip()), rights(entry.strip()))).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} writable={1}")
    @CsvSource({"FILE, true, adfrw", "FILE, false, r", "DIRECTORY, true, cdeflmp", "DIRECTORY, false, el"})
    void anAccountsAccessGivesTheLettersItAlwaysHad(FileType type, boolean writable, String expected) {
        assertThat(MlsxFormat.perm(type, writable)).isEqualTo(expected);
    }
}
