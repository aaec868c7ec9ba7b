package dev.ferry.balancer.backend;

import dev.ferry.protocol.line.ControlLine;
import dev.ferry.protocol.line.ControlLineReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads whole replies from a backend (RFC 959 §4.2: "ddd text", or "ddd-" ... "ddd text"), keeping
 * the lines as sent so they pass through intact. A backend that breaks the grammar (no code, an
 * overlong line, a reply that never ends) is hostile or broken: {@link Hostile} ends the session.
 */
public final class BackendReply {

    /** A reply that a client must not see: the session is closed with 421. */
    public static final class Hostile extends IOException {
        public Hostile(String message) {
            super(message);
        }
    }

    public static final int MAX_LINES = 10_000;

    public final int code;
    public final List<String> lines;

    private BackendReply(int code, List<String> lines) {
        this.code = code;
        this.lines = lines;
    }

    public boolean isFinal() {
        return code >= 200;
    }

    /** The text of a single-line reply after the code. */
    public String text() {
        String first = lines.get(0);
        return first.length() > 4 ? first.substring(4) : "";
    }

    public static BackendReply read(ControlLineReader in) throws IOException {
        String first = text(in.readLine());
        int code = code(first);
        List<String> lines = new ArrayList<>(1);
        lines.add(first);
        if (first.length() > 3 && first.charAt(3) == '-') {
            String end = first.substring(0, 3) + " ";
            while (true) {
                String line = text(in.readLine());
                lines.add(line);
                if (line.startsWith(end) || line.equals(end.trim())) {
                    break;
                }
                if (lines.size() > MAX_LINES) {
                    throw new Hostile("multi-line reply longer than " + MAX_LINES + " lines");
                }
            }
        } else if (first.length() > 3 && first.charAt(3) != ' ') {
            throw new Hostile("malformed reply line");
        }
        return new BackendReply(code, lines);
    }

    private static String text(ControlLine line) throws Hostile {
        return switch (line) {
            case ControlLine.Text t -> t.text();
            case ControlLine.TooLong tl -> throw new Hostile("reply line longer than " + tl.limit() + " bytes");
            case ControlLine.BadEncoding b -> throw new Hostile("reply not valid UTF-8");
        };
    }

    private static int code(String line) throws Hostile {
        if (line.length() < 3) {
            throw new Hostile("reply without a code");
        }
        int code = 0;
        for (int i = 0; i < 3; i++) {
            char c = line.charAt(i);
            if (c < '0' || c > '9') {
                throw new Hostile("reply without a code");
            }
            code = code * 10 + (c - '0');
        }
        if (code < 100 || code > 659) {
            throw new Hostile("reply code out of range: " + code);
        }
        return code;
    }

    /** The reply as CRLF-terminated bytes, exactly as the backend sent it. */
    public byte[] toBytes() {
        StringBuilder b = new StringBuilder();
        for (String l : lines) {
            b.append(l).append("\r\n");
        }
        return b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
