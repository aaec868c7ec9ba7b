package dev.ferry.runtime.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonReaderTest {

    @Test
    void readsAnSftpgoUserObject() {
        Object v = JsonReader.read("""
                {"status": 1, "username": "al\\"ice\\u00e9\\n", "permissions": {"/": ["*"], "/in": []},
                 "quota_size": 1073741824, "ratio": -1.5e3, "ok": true, "no": false, "nothing": null}""");
        assertThat(v).isInstanceOf(Map.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        assertThat(m.keySet()).containsExactly("status", "username", "permissions", "quota_size", "ratio", "ok", "no",
                "nothing");
        assertThat(m.get("username")).isEqualTo("al\"iceé\n");
        assertThat(m.get("permissions")).isEqualTo(Map.of("/", List.of("*"), "/in", List.of()));
        assertThat(m.get("quota_size")).isEqualTo(new BigDecimal("1073741824"));
        assertThat(m.get("ratio")).isEqualTo(new BigDecimal("-1.5e3"));
        assertThat(m.get("ok")).isEqualTo(true);
        assertThat(m.containsKey("nothing") && m.get("nothing") == null).isTrue();
    }

    @Test
    void whatJsonStringWritesReadsBack() {
        String awkward = "q\" b\\ n\n t\t c\u0001 nul\u0000 é \ud83d\ude00";
        StringBuilder out = new StringBuilder();
        JsonString.quote(out, awkward, JsonString.Escaping.HTML_SAFE);
        assertThat(JsonReader.read(out.toString())).isEqualTo(awkward);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"a\":1,}                 | 7  | a string key expected",
            "[1,2,]                     | 5  | a value expected",
            "{\"a\":1} x                | 8  | text after the JSON value",
            "{\"a\":1,\"a\":2}          | 7  | key \"a\" given twice",
            "NaN                        | 0  | a value expected",
            "01                         | 1  | text after the JSON value",
            "\"tab\there\"              | 4  | a control character inside a string",
            "\"\\x\"                    | 2  | unknown escape",
            "{\"a\" 1}                  | 5  | ':' expected",
            "                           | 0  | a value expected, the text ended",
    })
    void refusesWhatIsNotJson(String text, int offset, String problem) {
        String t = text == null ? "" : text.replace("\\t", "\t");
        assertThatThrownBy(() -> JsonReader.read(t)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("malformed JSON at offset " + offset + ": " + problem);
    }

    @ParameterizedTest
    @ValueSource(ints = {JsonReader.MAX_DEPTH + 1, 100_000})
    void nestingIsBounded(int depth) {
        char[] open = new char[depth];
        Arrays.fill(open, '[');
        assertThatThrownBy(() -> JsonReader.read(new String(open))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nested deeper than " + JsonReader.MAX_DEPTH);
    }
}
