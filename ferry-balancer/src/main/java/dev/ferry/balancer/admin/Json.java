package dev.ferry.balancer.admin;

import dev.ferry.runtime.json.JsonString;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON the admin API speaks (RFC 8259), written and read by hand.
 *
 * <p>Why no library: the API writes a few of our own objects (maps, lists, strings, numbers,
 * booleans) and reads only flat request objects such as {@code {"weight": 3}}. Writing them is a
 * string escaper; reading them is a strict parser of one object whose values are scalars. Both
 * fit on a page and are tested value by value, where a general-purpose library would add a
 * dependency of a megabyte or more, and its object mapping, to the balancer.
 *
 * <p>Writing: {@link Map} (keys are strings; iteration order is kept), {@link List}, {@link String},
 * {@link Number} (integers; finite doubles), {@link Boolean} and null.
 */
public final class Json {

    /** Most keys in one request object (the body size limit bounds it too). */
    static final int MAX_KEYS = 32;

    private Json() {}

    public static String write(Object value) {
        StringBuilder out = new StringBuilder(256);
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        switch (value) {
            case null -> out.append("null");
            case String s -> quote(s, out);
            case Boolean b -> out.append(b);
            case Integer i -> out.append(i);
            case Long l -> out.append(l);
            case Double d -> {
                if (d.isNaN() || d.isInfinite()) {
                    out.append("null");   // RFC 8259 §6: no NaN or infinity
                } else {
                    out.append(d);
                }
            }
            case Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    quote((String) e.getKey(), out);
                    out.append(':');
                    write(e.getValue(), out);
                }
                out.append('}');
            }
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(list.get(i), out);
                }
                out.append(']');
            }
            default -> throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    /** A JSON string, HTML-safe ({@link JsonString.Escaping#HTML_SAFE}): the text stays inert if a browser sniffs it. */
    static void quote(String s, StringBuilder out) {
        JsonString.quote(out, s, JsonString.Escaping.HTML_SAFE);
    }

    // ---- reading ---------------------------------------------------------------------------------

    /** A request body read as a flat object, or what is wrong with it. */
    public sealed interface Parsed {
        /** Values are String, Long, Double, Boolean or null (JSON null); keys keep their order. */
        record Flat(Map<String, Object> values) implements Parsed {}

        /** A message fit for the client: what was expected and where. */
        record Bad(String message) implements Parsed {}
    }

    /**
     * Reads {@code text} as one object whose values are strings, numbers, true, false or null.
     * Nested objects or arrays, duplicate keys, and anything after the object are refused.
     */
    public static Parsed parseFlatObject(String text) {
        try {
            FlatReader r = new FlatReader(text);
            Map<String, Object> values = r.object();
            r.skipSpace();
            if (!r.atEnd()) {
                return r.bad("expected the end of the body after the object");
            }
            return new Parsed.Flat(Collections.unmodifiableMap(values));
        } catch (FlatReader.Stop stop) {
            return new Parsed.Bad(stop.getMessage());
        }
    }

    /** A recursive-descent reader of RFC 8259's grammar, restricted to one flat object. */
    private static final class FlatReader {

        /** Ends the reading at the first problem; never leaves {@link #parseFlatObject}. */
        private static final class Stop extends RuntimeException {
            Stop(String message) {
                super(message, null, false, false);
            }
        }

        private final String s;
        private int pos;

        FlatReader(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return pos >= s.length();
        }

        Parsed.Bad bad(String message) {
            return new Parsed.Bad("bad JSON at character " + (pos + 1) + ": " + message);
        }

        private Stop stop(String message) {
            return new Stop("bad JSON at character " + (pos + 1) + ": " + message);
        }

        void skipSpace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        private void expect(char c, String what) {
            skipSpace();
            if (atEnd() || s.charAt(pos) != c) {
                throw stop("expected " + what);
            }
            pos++;
        }

        Map<String, Object> object() {
            expect('{', "an object such as {\"key\": \"value\"}");
            Map<String, Object> values = new LinkedHashMap<>();
            skipSpace();
            if (!atEnd() && s.charAt(pos) == '}') {
                pos++;
                return values;
            }
            while (true) {
                skipSpace();
                if (atEnd() || s.charAt(pos) != '"') {
                    throw stop("expected a key in double quotes");
                }
                int keyAt = pos;
                String key = string();
                if (values.containsKey(key)) {
                    pos = keyAt;
                    throw stop("duplicate key \"" + key + "\"");
                }
                if (values.size() == MAX_KEYS) {
                    throw stop("more than " + MAX_KEYS + " keys");
                }
                expect(':', "':' after the key");
                values.put(key, scalar());
                skipSpace();
                if (atEnd()) {
                    throw stop("expected ',' or '}'");
                }
                char c = s.charAt(pos++);
                if (c == '}') {
                    return values;
                }
                if (c != ',') {
                    pos--;
                    throw stop("expected ',' or '}'");
                }
            }
        }

        private Object scalar() {
            skipSpace();
            if (atEnd()) {
                throw stop("expected a value");
            }
            char c = s.charAt(pos);
            if (c == '"') {
                return string();
            }
            if (c == '-' || (c >= '0' && c <= '9')) {
                return number();
            }
            if (s.startsWith("true", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            if (s.startsWith("null", pos)) {
                pos += 4;
                return null;
            }
            if (c == '{' || c == '[') {
                throw stop("expected a string, number, true, false or null (nested values are not used here)");
            }
            throw stop("expected a string, number, true, false or null");
        }

        // RFC 8259 §7
        private String string() {
            pos++;   // the opening quote
            StringBuilder out = new StringBuilder();
            while (true) {
                if (atEnd()) {
                    throw stop("unterminated string");
                }
                char c = s.charAt(pos++);
                if (c == '"') {
                    return out.toString();
                }
                if (c < 0x20) {
                    pos--;
                    throw stop("control character in a string (escape it)");
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (atEnd()) {
                    throw stop("unterminated escape");
                }
                char e = s.charAt(pos++);
                switch (e) {
                    case '"' -> out.append('"');
                    case '\\' -> out.append('\\');
                    case '/' -> out.append('/');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw stop("expected four hex digits after \\u");
                        }
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(s.charAt(pos + i), 16);
                            if (d < 0) {
                                throw stop("expected four hex digits after \\u");
                            }
                            code = code * 16 + d;
                        }
                        pos += 4;
                        out.append((char) code);
                    }
                    default -> {
                        pos--;
                        throw stop("unknown escape \\" + e);
                    }
                }
            }
        }

        // RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        private Object number() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            int intStart = pos;
            digits();
            if (pos == intStart || (s.charAt(intStart) == '0' && pos - intStart > 1)) {
                pos = start;
                throw stop("malformed number");
            }
            boolean integer = true;
            if (pos < s.length() && s.charAt(pos) == '.') {
                pos++;
                int fracStart = pos;
                digits();
                if (pos == fracStart) {
                    throw stop("expected digits after the decimal point");
                }
                integer = false;
            }
            if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                pos++;
                if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                    pos++;
                }
                int expStart = pos;
                digits();
                if (pos == expStart) {
                    throw stop("expected digits in the exponent");
                }
                integer = false;
            }
            String text = s.substring(start, pos);
            if (integer && pos - intStart <= 18) {
                return Long.parseLong(text);
            }
            return Double.parseDouble(text);
        }

        private void digits() {
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
        }
    }
}
