package dev.ferry.protocol;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One FTP reply: a three-digit code and one or more text lines.
 *
 * <p>Wire form (RFC 959 §4.2): a single line is {@code "123 text\r\n"}; a multi-line reply is
 * {@code "123-first\r\n"}, middle lines, then {@code "123 last\r\n"}. Middle lines are indented by one
 * space so that none of them can be mistaken for the closing line (a middle line starting with
 * "123 " would end the reply early in the client's parser).
 */
public record Reply(int code, List<String> lines) {

    public Reply {
        if (code < 100 || code > 659) {
            throw new IllegalArgumentException("reply code out of range: " + code);
        }
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("a reply needs at least one line");
        }
        lines = List.copyOf(lines);
    }

    public static Reply of(int code, String text) {
        return new Reply(code, List.of(text));
    }

    /** A multi-line reply: first line, middle lines (each sent with a leading space), last line. */
    public static Reply multiLine(int code, String first, List<String> middle, String last) {
        List<String> all = new ArrayList<>(middle.size() + 2);
        all.add(first);
        all.addAll(middle);
        all.add(last);
        return new Reply(code, all);
    }

    public boolean isMultiLine() {
        return lines.size() > 1;
    }

    /** Positive preliminary (1xx), completion (2xx), intermediate (3xx), transient (4xx), permanent (5xx). */
    public int category() {
        return code / 100;
    }

    /** The reply as CRLF-terminated UTF-8 bytes (RFC 2640 §3.1: UTF-8 on the control connection). */
    public byte[] toBytes() {
        return toWire().getBytes(StandardCharsets.UTF_8);
    }

    public String toWire() {
        StringBuilder out = new StringBuilder(16 + lines.get(0).length());
        if (lines.size() == 1) {
            out.append(code).append(' ').append(clean(lines.get(0))).append("\r\n");
            return out.toString();
        }
        out.append(code).append('-').append(clean(lines.get(0))).append("\r\n");
        for (int i = 1; i < lines.size() - 1; i++) {
            String line = clean(lines.get(i));
            if (!line.startsWith(" ")) {
                out.append(' ');
            }
            out.append(line).append("\r\n");
        }
        out.append(code).append(' ').append(clean(lines.get(lines.size() - 1))).append("\r\n");
        return out.toString();
    }

    /**
     * Quotes a path for a 257 reply: RFC 959 Appendix II, a double quote inside the name is doubled,
     * and the name is enclosed in double quotes.
     */
    public static String quotePath(String path) {
        return '"' + path.replace("\"", "\"\"") + '"';
    }

    // SECURITY: a CR or LF in reply text (e.g. from a file name) would let the text forge extra replies.
    private static String clean(String text) {
        if (text.indexOf('\r') < 0 && text.indexOf('\n') < 0) {
            return text;
        }
        return text.replace('\r', ' ').replace('\n', ' ');
    }

    @Override
    public String toString() {
        return toWire().stripTrailing();
    }
}
