package dev.ferry.runtime.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogfmtTest {

    @Test
    void plainTokensAreBare() {
        StringBuilder out = new StringBuilder();
        Logfmt.append(out, "event", "login");
        Logfmt.append(out, "client", "127.0.0.2:40112");
        Logfmt.append(out, "path", "/pub/a-b_c.txt");
        assertThat(out).hasToString("event=login client=127.0.0.2:40112 path=/pub/a-b_c.txt");
    }

    @Test
    void nullIsADash() {
        StringBuilder out = new StringBuilder();
        Logfmt.append(out, "user", null);
        assertThat(out).hasToString("user=-");
    }

    @Test
    void spacesQuotesAndControlsAreQuotedAndEscaped() {
        assertThat(Logfmt.value("my file.txt")).isEqualTo("\"my file.txt\"");
        assertThat(Logfmt.value("")).isEqualTo("\"\"");
        assertThat(Logfmt.value("a=b")).isEqualTo("\"a=b\"");
        assertThat(Logfmt.value("say \"hi\"")).isEqualTo("\"say \\\"hi\\\"\"");
        assertThat(Logfmt.value("back\\slash")).isEqualTo("\"back\\\\slash\"");
        assertThat(Logfmt.value("two\r\nlines")).isEqualTo("\"two\\r\\nlines\"");
        assertThat(Logfmt.value("bell\u0007")).isEqualTo("\"bell\\u0007\"");
    }

    @Test
    void aForgedFieldInAValueStaysInsideItsQuotes() {
        StringBuilder out = new StringBuilder();
        Logfmt.append(out, "user", "x client=10.0.0.1");
        Logfmt.append(out, "client", "127.0.0.2:1");
        assertThat(out).hasToString("user=\"x client=10.0.0.1\" client=127.0.0.2:1");
    }

    @Test
    void nonAsciiLettersStayBare() {
        assertThat(Logfmt.value("größe.txt")).isEqualTo("größe.txt");
    }
}
