package dev.ferry.server.listing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MlsxFormatTest {
    private static final Set<String> ALL = new LinkedHashSet<>(MlsxFormat.ALL_FACTS);
    private static final Instant MODIFIED = Instant.parse("2026-11-24T21:56:00Z");

    @ParameterizedTest(name = "[{index}] {0} {2} writable={3}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            FILE      | name        | file | true  | "type=file;size=12;modify=20261124215600;perm=adfrw;unique=fe00.2a; name"
            FILE      | name        | file | false | "type=file;size=12;modify=20261124215600;perm=r;unique=fe00.2a; name"
            DIRECTORY | docs        | dir  | true  | "type=dir;modify=20261124215600;perm=cdeflmp;unique=fe00.2a; docs"
            DIRECTORY | docs        | dir  | false | "type=dir;modify=20261124215600;perm=el;unique=fe00.2a; docs"
            DIRECTORY | /pub        | cdir | false | "type=cdir;modify=20261124215600;perm=el;unique=fe00.2a; /pub"
            DIRECTORY | ..          | pdir | false | "type=pdir;modify=20261124215600;perm=el;unique=fe00.2a; .."
            OTHER     | fifo        | OS.unix=fifo | true | "type=OS.unix=fifo;size=12;modify=20261124215600;perm=;unique=fe00.2a; fifo"
            FILE      | " lead"     | file | false | "type=file;size=12;modify=20261124215600;perm=r;unique=fe00.2a;  lead"
            FILE      | two words   | file | false | "type=file;size=12;modify=20261124215600;perm=r;unique=fe00.2a; two words"
            """)
    void writesAllFacts(FileType type, String name, String typeFact, boolean writable, String expected) {
        FileInfo info = new FileInfo(name.strip(), type, 12, MODIFIED, "rw-r--r--", 1, "fe00.2a");

        assertThat(MlsxFormat.factsLine(info, name, typeFact, writable, ALL)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "[{index}] facts {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            type;size             | "type=file;size=12; a.txt"
            SIZE;Modify           | "size=12;modify=20261124215600; a.txt"
            unique;type           | "type=file;unique=u1; a.txt"
            perm                  | "perm=r; a.txt"
            ""                    | " a.txt"
            """)
    void writesOnlyTheSelectedFactsInAFixedOrder(String selected, String expected) {
        FileInfo info = new FileInfo("a.txt", FileType.FILE, 12, MODIFIED, "rw-r--r--", 1, "u1");
        Set<String> facts = selected.isEmpty() ? Set.of() : Set.of(selected.split(";"));

        assertThat(MlsxFormat.factsLine(info, "a.txt", "file", false, facts)).isEqualTo(expected);
    }

    @Test
    void leavesOutAUniqueIdThatIsNotAFactValue() {
        FileInfo info = new FileInfo("a", FileType.FILE, 1, MODIFIED, "rw-r--r--", 1, "bad;id x");
        FileInfo none = new FileInfo("a", FileType.FILE, 1, MODIFIED, "rw-r--r--", 1, null);

        assertThat(MlsxFormat.factsLine(info, "a", "file", false, ALL)).doesNotContain("unique");
        assertThat(MlsxFormat.factsLine(none, "a", "file", false, ALL)).doesNotContain("unique");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            2026-11-24T21:56:00Z       | 20261124215600
            2026-11-24T21:56:00.120Z   | 20261124215600.120
            2026-11-24T21:56:00.000999Z| 20261124215600
            1970-01-01T00:00:00Z       | 19700101000000
            2000-02-29T23:59:59.999Z   | 20000229235959.999
            +12000-01-01T00:00:00Z     | 99991231235959.999
            """)
    void timeValIsUtcWithMillisecondsOnlyWhenPresent(String instant, String expected) {
        assertThat(MlsxFormat.timeVal(Instant.parse(instant))).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            type;size;                      | type;size;
            Size;TYPE;                      | type;size;
            type;x.unknown;media-type;      | type;
            ""                              | ""
            unique;perm;modify;size;type;   | type;size;modify;perm;unique;
            """)
    void optsMlstSelectsKnownFacts(String argument, String expected) {
        Set<String> selected = MlsxFormat.selectFacts(argument);

        assertThat(MlsxFormat.factList(selected)).isEqualTo(expected);
    }

    @Test
    void selectedFactsComeInCanonicalOrder() {
        assertThat(MlsxFormat.selectFacts("unique;type;")).containsExactly("type", "unique");
        assertThat(MlsxFormat.ALL_FACTS).isEqualTo(List.of("type", "size", "modify", "perm", "unique"));
    }

    @ParameterizedTest
    @CsvSource({"FILE,true,adfrw", "FILE,false,r", "DIRECTORY,true,cdeflmp", "DIRECTORY,false,el", "OTHER,true,''"})
    void permLettersFollowRfc3659(FileType type, boolean writable, String expected) {
        assertThat(MlsxFormat.perm(type, writable)).isEqualTo(expected);
    }
}
