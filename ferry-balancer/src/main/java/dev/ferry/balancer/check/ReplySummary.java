package dev.ferry.balancer.check;

import dev.ferry.protocol.Reply;

/** Short, single-line descriptions of backend replies for check details. */
final class ReplySummary {

    static final int MAX_DETAIL = 120;

    private ReplySummary() {}

    /** "220 Ferry FTP server ready." — the code and the first line, cut to a readable length. */
    static String summary(Reply reply) {
        String text = reply.code() + " " + reply.lines().get(0);
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_DETAIL));
        for (int i = 0; i < text.length() && out.length() < MAX_DETAIL; i++) {
            char c = text.charAt(i);
            // Control characters from a backend would garble the one-line log format.
            out.append(Character.isISOControl(c) ? ' ' : c);
        }
        return out.toString().strip();
    }
}
