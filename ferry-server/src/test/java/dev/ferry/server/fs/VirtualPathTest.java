package dev.ferry.server.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class VirtualPathTest {

    @ParameterizedTest(name = "[{index}] cwd {0} + \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            /       | ""                         | /
            /a/b    | ""                         | /a/b
            /a/b    | .                          | /a/b
            /a/b    | ./                         | /a/b
            /a/b    | x                          | /a/b/x
            /a/b    | ./x                        | /a/b/x
            /a/b    | ../x                       | /a/x
            /a/b    | /x                         | /x
            /a      | ../../etc/passwd           | /etc/passwd
            /a      | ../../../../..             | /
            /       | /..                        | /
            /       | /../..//../                | /
            /x      | a/../../b                  | /b
            /       | //x//y/                    | /x/y
            /       | x/./y/.                    | /x/y
            /a      | %2e%2e                     | /a/%2e%2e
            /a      | %2e%2e/%2e%2e/etc          | /a/%2e%2e/%2e%2e/etc
            /a      | ..\\..\\etc                | /a/..\\..\\etc
            /a      | ...                        | /a/...
            /a      | ~                          | /a/~
            /       | my file.txt                | /my file.txt
            /       | "  two leading spaces"     | /  two leading spaces
            /       | "trailing space "          | "/trailing space "
            /       | données/日本語.txt          | /données/日本語.txt
            /       | emoji 😀                   | /emoji 😀
            /       | C:\\Windows                | /C:\\Windows
            """)
    void resolvesAgainstTheWorkingDirectory(String cwd, String argument, String expected) throws Exception {
        VirtualPath resolved = VirtualPath.resolve(VirtualPath.of(cwd), argument);

        assertThat(resolved).hasToString(expected);
        assertThat(resolved).isEqualTo(VirtualPath.of(expected));
    }

    @Test
    void nullArgumentIsTheWorkingDirectory() throws Exception {
        VirtualPath cwd = VirtualPath.of("/a");

        assertThat(VirtualPath.resolve(cwd, null)).isEqualTo(cwd);
    }

    static Stream<Arguments> invalidArguments() {
        return Stream.of(
                Arguments.of("NUL", "a\0b", "control character"),
                Arguments.of("CR", "a\rb", "control character"),
                Arguments.of("LF", "a\nb", "control character"),
                Arguments.of("CRLF injection", "x\r\n250 ok", "control character"),
                Arguments.of("TAB", "a\tb", "control character"),
                Arguments.of("ESC", "\u001b[31m", "control character"),
                Arguments.of("lone high surrogate", "a\uD800", "not valid Unicode"),
                Arguments.of("lone low surrogate", "\uDC00b", "not valid Unicode"),
                Arguments.of("256-byte ASCII name", "a".repeat(256), "File name too long"),
                Arguments.of("256-byte UTF-8 name", "é".repeat(128), "File name too long"),
                Arguments.of("overlong name later removed by ..", "a".repeat(256) + "/..", "File name too long"),
                Arguments.of("path over 4096 bytes", String.join("/", java.util.Collections.nCopies(17, "a".repeat(255))),
                        "Path too long"),
                Arguments.of("257 levels", "a/".repeat(257), "Path too deep"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("invalidArguments")
    void refusesArgumentsThatCannotNameAFile(String description, String argument, String message) {
        assertThatThrownBy(() -> VirtualPath.resolve(VirtualPath.ROOT, argument))
                .isInstanceOf(InvalidVirtualPathException.class)
                .hasMessageContaining(message)
                // the message is shown to the client: it must never echo the argument (CR/LF)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(argument).matches("[ -~]+"));
    }

    @Test
    void limitsAreInclusive() throws Exception {
        assertThat(VirtualPath.of("/" + "a".repeat(255)).name()).hasSize(255);
        assertThat(VirtualPath.of("/" + "é".repeat(127) + "a").segments()).hasSize(1);
        assertThat(VirtualPath.of("a/".repeat(256)).segments()).hasSize(256);
        // 16 segments of 255 bytes plus 16 slashes = 4096 bytes
        String longest = String.join("/", java.util.Collections.nCopies(16, "a".repeat(255)));
        assertThat(VirtualPath.of(longest).toString()).hasSize(4096);
    }

    @Test
    void limitsApplyToTheResultAgainstTheWorkingDirectory() throws Exception {
        VirtualPath deep = VirtualPath.of("a/".repeat(256));

        assertThatThrownBy(() -> VirtualPath.resolve(deep, "b")).isInstanceOf(InvalidVirtualPathException.class);
        assertThat(VirtualPath.resolve(deep, "../b").segments()).hasSize(256);
    }

    @Test
    void nameParentAndSegments() throws Exception {
        VirtualPath path = VirtualPath.of("/a/b/c");

        assertThat(path.name()).isEqualTo("c");
        assertThat(path.parent()).hasToString("/a/b");
        assertThat(path.parent().parent().parent()).isEqualTo(VirtualPath.ROOT);
        assertThat(path.segments()).containsExactly("a", "b", "c");
        assertThat(path.isRoot()).isFalse();
        assertThat(VirtualPath.ROOT.isRoot()).isTrue();
        assertThat(VirtualPath.ROOT.name()).isEqualTo("/");
        assertThat(VirtualPath.ROOT.parent()).isSameAs(VirtualPath.ROOT);
        assertThat(VirtualPath.ROOT.segments()).isEmpty();
        assertThat(VirtualPath.ROOT).hasToString("/");
        assertThat(VirtualPath.of("/")).isSameAs(VirtualPath.ROOT);
    }

    @Test
    void segmentsCannotBeModified() throws Exception {
        VirtualPath path = VirtualPath.of("/a/b");

        assertThatThrownBy(() -> path.segments().add("c")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void childAddsExactlyOneName() throws Exception {
        assertThat(VirtualPath.of("/a").child("b c")).hasToString("/a/b c");
        assertThat(VirtualPath.ROOT.child("%2e%2e")).hasToString("/%2e%2e");
    }

    @ParameterizedTest
    @CsvSource(quoteCharacter = '"', value = {"\"\"", ".", "..", "a/b", "/", "b/"})
    void childRefusesAnythingButOneName(String name) {
        assertThatThrownBy(() -> VirtualPath.ROOT.child(name)).isInstanceOf(InvalidVirtualPathException.class);
    }

    @Test
    void childRefusesControlCharactersAndOverlongNames() {
        assertThatThrownBy(() -> VirtualPath.ROOT.child("a\nb")).isInstanceOf(InvalidVirtualPathException.class);
        assertThatThrownBy(() -> VirtualPath.ROOT.child("x".repeat(256))).isInstanceOf(InvalidVirtualPathException.class);
    }

    @Test
    void equalityAndOrderAreBySegments() throws Exception {
        assertThat(VirtualPath.of("/a/b")).isEqualTo(VirtualPath.resolve(VirtualPath.of("/a"), "b/"));
        assertThat(VirtualPath.of("/a/b")).hasSameHashCodeAs(VirtualPath.of("//a//b"));
        assertThat(VirtualPath.of("/a")).isNotEqualTo(VirtualPath.of("/ab"));

        List<VirtualPath> paths = new ArrayList<>(List.of(VirtualPath.of("/b"), VirtualPath.of("/a/b"),
                VirtualPath.of("/a"), VirtualPath.ROOT, VirtualPath.of("/a b")));
        paths.sort(null);
        // segment-wise: "/a/b" sorts right after "/a", before "/a b" (which a string sort would put first)
        assertThat(paths).extracting(VirtualPath::toString).containsExactly("/", "/a", "/a/b", "/a b", "/b");
    }

    @Test
    void startsWithComparesSegmentsNotText() throws Exception {
        assertThat(VirtualPath.of("/home/a/x").startsWith(VirtualPath.of("/home/a"))).isTrue();
        assertThat(VirtualPath.of("/home/a").startsWith(VirtualPath.of("/home/a"))).isTrue();
        assertThat(VirtualPath.of("/home/a").startsWith(VirtualPath.ROOT)).isTrue();
        assertThat(VirtualPath.of("/home/ab").startsWith(VirtualPath.of("/home/a"))).isFalse();
        assertThat(VirtualPath.of("/home").startsWith(VirtualPath.of("/home/a"))).isFalse();
    }

    @Test
    void validNames() {
        assertThat(VirtualPath.isValidName("ok name.txt")).isTrue();
        assertThat(VirtualPath.isValidName("bad\nname")).isFalse();
        assertThat(VirtualPath.isValidName("..")).isFalse();
        assertThat(VirtualPath.isValidName("")).isFalse();
    }
}
