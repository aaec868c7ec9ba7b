package dev.ferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ReplyTest {

    @Test
    void singleLineIsCodeSpaceTextCrlf() {
        Reply reply = Reply.of(200, "NOOP ok.");

        assertThat(reply.toWire()).isEqualTo("200 NOOP ok.\r\n");
        assertThat(reply.isMultiLine()).isFalse();
        assertThat(reply.category()).isEqualTo(2);
        assertThat(reply).hasToString("200 NOOP ok.");
    }

    // RFC 959 §4.2: "123-First line", middle lines, "123 The last line".
    @Test
    void multiLineHasCodeDashFirstIndentedMiddleAndCodeSpaceLast() {
        Reply reply = Reply.multiLine(211, "Features:", List.of("EPSV", "MDTM"), "End");

        assertThat(reply.toWire()).isEqualTo("211-Features:\r\n EPSV\r\n MDTM\r\n211 End\r\n");
        assertThat(reply.isMultiLine()).isTrue();
    }

    @Test
    void multiLineWithoutMiddleLinesIsFirstAndLastOnly() {
        assertThat(Reply.multiLine(214, "Help:", List.of(), "End.").toWire()).isEqualTo("214-Help:\r\n214 End.\r\n");
    }

    @Test
    void middleLineAlreadyIndentedIsNotIndentedTwice() {
        // MLST sends its entry with exactly one leading space (RFC 3659 §7.2.1).
        Reply reply = Reply.multiLine(250, "Listing /a", List.of(" type=file; /a"), "End");

        assertThat(reply.toWire()).isEqualTo("250-Listing /a\r\n type=file; /a\r\n250 End\r\n");
    }

    @Test
    void middleLineThatLooksLikeTheClosingLineCannotEndTheReplyEarly() {
        Reply reply = Reply.multiLine(211, "Status:", List.of("211 fake end", "230 fake login"), "End");

        assertThat(reply.toWire().split("\r\n"))
                .containsExactly("211-Status:", " 211 fake end", " 230 fake login", "211 End");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\r\n230 Logged in", "a\n230 Logged in", "a\r230 Logged in"})
    void lineBreaksInSingleLineTextCannotForgeAReply(String text) {
        String wire = Reply.of(550, text).toWire();

        assertThat(wire).startsWith("550 a").endsWith("230 Logged in\r\n");
        assertThat(wire.indexOf('\r')).isEqualTo(wire.length() - 2);
        assertThat(wire.indexOf('\n')).isEqualTo(wire.length() - 1);
    }

    @Test
    void lineBreaksInEveryLineOfAMultiLineReplyAreReplaced() {
        Reply reply = Reply.multiLine(213, "Status\r\n226 x", List.of("b\n226 y"), "End\r226 z");

        assertThat(reply.toWire()).isEqualTo("213-Status  226 x\r\n b 226 y\r\n213 End 226 z\r\n");
    }

    @Test
    void bytesAreUtf8() {
        // RFC 2640 §3.1: UTF-8 on the control connection.
        assertThat(Reply.of(250, "café").toBytes()).isEqualTo("250 café\r\n".getBytes(StandardCharsets.UTF_8));
        assertThat(Reply.of(250, "café").toBytes()).hasSize(11);
    }

    // RFC 959 Appendix II: a quote inside the name is doubled, and the name is enclosed in quotes.
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
            "/                | \"/\"",
            "/usr/dm          | \"/usr/dm\"",
            "/say \"hi\"      | \"/say \"\"hi\"\"\"",
            "\"               | \"\"\"\"",
            "/with space      | \"/with space\"",
    })
    void quotePathDoublesQuotes(String path, String quoted) {
        assertThat(Reply.quotePath(path)).isEqualTo(quoted);
    }

    @ParameterizedTest
    @ValueSource(ints = {100, 150, 421, 599, 631, 659})
    void codesFrom100To659AreAccepted(int code) {
        assertThat(Reply.of(code, "x").code()).isEqualTo(code);
        assertThat(Reply.of(code, "x").category()).isEqualTo(code / 100);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 99, 660, 999, 1000})
    void codesOutsideTheRangeAreRefused(int code) {
        assertThatThrownBy(() -> Reply.of(code, "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(code));
    }

    @Test
    void aReplyNeedsALine() {
        assertThatThrownBy(() -> new Reply(200, List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void linesAreCopiedSoTheReplyCannotChangeAfterwards() {
        List<String> lines = new java.util.ArrayList<>(List.of("one"));
        Reply reply = new Reply(200, lines);

        lines.set(0, "two");

        assertThat(reply.lines()).containsExactly("one");
    }
}
