package dev.ferry.runtime.json;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.json.JsonString.Escaping;
import org.junit.jupiter.api.Test;

class JsonStringTest {

    private static String quoted(String s, Escaping escaping) {
        StringBuilder out = new StringBuilder();
        JsonString.quote(out, s, escaping);
        return out.toString();
    }

    @Test
    void bothEscapeWhatRfc8259Requires() {
        for (Escaping e : Escaping.values()) {
            assertThat(quoted("a\"b\\c\n\u0001", e)).isEqualTo("\"a\\\"b\\\\c\\n\\u0001\"");
            assertThat(quoted("x\uD800", e)).as("a lone surrogate").isEqualTo("\"x\\ud800\"");
            assertThat(quoted("Zoë \uD83D\uDE00", e)).as("non-ASCII and a surrogate pair as themselves")
                    .isEqualTo("\"Zoë \uD83D\uDE00\"");
        }
    }

    @Test
    void onlyTheHtmlSafeOneEscapesMarkup() {
        assertThat(quoted("</b>&\u2028\u007f", Escaping.HTML_SAFE)).isEqualTo("\"\\u003c/b\\u003e\\u0026\\u2028\\u007f\"");
        assertThat(quoted("</b>&\u2028\u007f", Escaping.MINIMAL)).isEqualTo("\"</b>&\u2028\u007f\"");
    }
}
