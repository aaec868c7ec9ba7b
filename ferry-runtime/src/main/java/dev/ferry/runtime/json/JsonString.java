package dev.ferry.runtime.json;

/**
 * A JSON string (RFC 8259 §7), the one escaper of the admin API's documents and of the JSON log lines:
 * quotation mark, reverse solidus and the control characters U+0000 to U+001F escaped, everything else,
 * non-ASCII included, as itself (the text is UTF-8, §8.1). A lone surrogate, which UTF-8 cannot carry, is
 * escaped as {@code \}{@code uXXXX} rather than turned into '?' by the encoder.
 */
public final class JsonString {

    /** How much is escaped beyond what RFC 8259 requires. */
    public enum Escaping {
        /** What RFC 8259 §7 requires, and no more: a log line stays readable ({@code a&b.txt}). */
        MINIMAL,
        /**
         * Also {@code < > &}, DEL and U+2028/U+2029, so that a document served over HTTP stays inert even
         * where a browser sniffs it as HTML or a script embeds it.
         */
        HTML_SAFE
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private JsonString() {
    }

    /** Appends {@code s} as a quoted JSON string. */
    public static void quote(StringBuilder out, String s, Escaping escaping) {
        boolean htmlSafe = escaping == Escaping.HTML_SAFE;
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    boolean html = htmlSafe && (c == '<' || c == '>' || c == '&' || c == 0x7f
                            || c == '\u2028' || c == '\u2029');
                    if (c < 0x20 || html || loneSurrogate(s, i)) {
                        out.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf])
                                .append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean loneSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        }
        return false;
    }
}
