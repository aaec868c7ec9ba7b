package dev.ferry.runtime.log;

/**
 * Renders key=value pairs as logfmt, the shape of every Ferry log line: a value is written bare when it
 * is a plain token and in double quotes otherwise (empty, or holding a space, {@code "}, {@code =}, a
 * backslash or a control character), so that a path or a user name with a space cannot shift the fields
 * after it and a line can be split back into its pairs by a tool (fail2ban, Loki, {@code hl}).
 */
public final class Logfmt {

    /** What an absent value (a user before USER, a client not known yet) is written as. */
    public static final String NONE = "-";

    private Logfmt() {
    }

    /** Appends {@code key=value}, with a space before it unless {@code out} is empty. */
    public static void append(StringBuilder out, String key, Object value) {
        if (!out.isEmpty()) {
            out.append(' ');
        }
        out.append(key).append('=');
        appendValue(out, value == null ? NONE : value.toString());
    }

    /** One value as it appears after {@code key=}. */
    public static String value(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2);
        appendValue(out, value);
        return out.toString();
    }

    private static void appendValue(StringBuilder out, String value) {
        if (!value.isEmpty() && isBare(value)) {
            out.append(value);
            return;
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean isBare(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= ' ' || c == '"' || c == '=' || c == '\\' || Character.isISOControl(c)) {
                return false;
            }
        }
        return true;
    }
}
