package dev.ferry.balancer.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JsonTest {

    static Stream<Arguments> strings() {
        return Stream.of(
                Arguments.of("plain", "\"plain\""),
                Arguments.of("say \"hi\"", "\"say \\\"hi\\\"\""),
                Arguments.of("back\\slash", "\"back\\\\slash\""),
                Arguments.of("line\nbreak\r\ttab", "\"line\\nbreak\\r\\ttab\""),
                Arguments.of("\u0000\u001f\u007f", "\"\\u0000\\u001f\\u007f\""),
                Arguments.of("</script><b>&", "\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\""),
                Arguments.of("\u2028\u2029", "\"\\u2028\\u2029\""),
                Arguments.of("ünïcødé ✓", "\"ünïcødé ✓\""));
    }

    @ParameterizedTest
    @MethodSource("strings")
    void escapesStrings(String value, String json) {
        assertThat(Json.write(value)).isEqualTo(json);
    }

    @Test
    void writesNestedValuesInOrder() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("ok", true);
        inner.put("none", null);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", 1);
        m.put("a", List.of(2L, 2.5, "x", inner));
        m.put("nan", Double.NaN);
        assertThat(Json.write(m)).isEqualTo("{\"b\":1,\"a\":[2,2.5,\"x\",{\"ok\":true,\"none\":null}],\"nan\":null}");
    }

    static Stream<Arguments> goodObjects() {
        return Stream.of(
                Arguments.of("{}", Map.of()),
                Arguments.of(" { \"state\" : \"drain\" } \n", Map.of("state", "drain")),
                Arguments.of("{\"weight\":3}", Map.of("weight", 3L)),
                Arguments.of("{\"weight\":-0}", Map.of("weight", 0L)),
                Arguments.of("{\"weight\":2.5}", Map.of("weight", 2.5)),
                Arguments.of("{\"weight\":1e2}", Map.of("weight", 100.0)),
                Arguments.of("{\"big\":12345678901234567890}", Map.of("big", 1.2345678901234567e19)),
                Arguments.of("{\"a\":true,\"b\":false}", Map.of("a", true, "b", false)),
                Arguments.of("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"}", Map.of("s", "\"\\/\b\f\n\r\té")));
    }

    @ParameterizedTest
    @MethodSource("goodObjects")
    void readsFlatObjects(String text, Map<String, Object> expected) {
        assertThat(Json.parseFlatObject(text)).isInstanceOfSatisfying(Json.Parsed.Flat.class,
                flat -> assertThat(flat.values()).isEqualTo(expected));
    }

    @Test
    void keepsNullValues() {
        assertThat(Json.parseFlatObject("{\"x\": null}")).isInstanceOfSatisfying(Json.Parsed.Flat.class,
                flat -> assertThat(flat.values()).containsEntry("x", null).hasSize(1));
    }

    static Stream<Arguments> badObjects() {
        return Stream.of(
                Arguments.of("", "bad JSON at character 1: expected an object such as {\"key\": \"value\"}"),
                Arguments.of("[1]", "bad JSON at character 1: expected an object such as {\"key\": \"value\"}"),
                Arguments.of("{\"state\": \"drain\"", "bad JSON at character 18: expected ',' or '}'"),
                Arguments.of("{state: 1}", "bad JSON at character 2: expected a key in double quotes"),
                Arguments.of("{\"a\" 1}", "bad JSON at character 6: expected ':' after the key"),
                Arguments.of("{\"a\": }", "bad JSON at character 7: expected a string, number, true, false or null"),
                Arguments.of("{\"a\": {\"b\": 1}}", "bad JSON at character 7: expected a string, number, true, false or null (nested values are not used here)"),
                Arguments.of("{\"a\": [1]}", "bad JSON at character 7: expected a string, number, true, false or null (nested values are not used here)"),
                Arguments.of("{\"a\": 1, \"a\": 2}", "bad JSON at character 10: duplicate key \"a\""),
                Arguments.of("{\"a\": 1} x", "bad JSON at character 10: expected the end of the body after the object"),
                Arguments.of("{\"a\": 01}", "bad JSON at character 7: malformed number"),
                Arguments.of("{\"a\": -}", "bad JSON at character 7: malformed number"),
                Arguments.of("{\"a\": 1.}", "bad JSON at character 9: expected digits after the decimal point"),
                Arguments.of("{\"a\": \"x", "bad JSON at character 9: unterminated string"),
                Arguments.of("{\"a\": \"\\x\"}", "bad JSON at character 9: unknown escape \\x"),
                Arguments.of("{\"a\": \"\\u12\"}", "bad JSON at character 10: expected four hex digits after \\u"),
                Arguments.of("{\"a\": \"tab\there\"}", "bad JSON at character 11: control character in a string (escape it)"),
                Arguments.of("{\"a\": True}", "bad JSON at character 7: expected a string, number, true, false or null"));
    }

    @ParameterizedTest
    @MethodSource("badObjects")
    void saysWhatIsWrongAndWhere(String text, String message) {
        assertThat(Json.parseFlatObject(text)).isEqualTo(new Json.Parsed.Bad(message));
    }

    @Test
    void refusesTooManyKeys() {
        String[] pairs = new String[Json.MAX_KEYS + 1];
        Arrays.setAll(pairs, i -> "\"k" + i + "\":" + i);
        assertThat(Json.parseFlatObject("{" + String.join(",", pairs) + "}")).isInstanceOfSatisfying(Json.Parsed.Bad.class,
                bad -> assertThat(bad.message()).endsWith("more than " + Json.MAX_KEYS + " keys"));
    }
}
