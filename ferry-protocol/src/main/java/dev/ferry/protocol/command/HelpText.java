package dev.ferry.protocol.command;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.reply.Replies;
import java.util.ArrayList;
import java.util.List;

/**
 * The answer to HELP (RFC 959 §4.1.3), built from the verb table: without an argument the verbs this
 * module knows, ten to a row; with one, that verb's help text. One definition, so that a balancer that
 * answers HELP before login says what the server behind it says afterwards.
 */
public final class HelpText {

    private HelpText() {}

    /** Verb names per row: ten 5-column names stay within a classic 80-column terminal. */
    private static final int ROW_WIDTH = 8 * 6;

    /** The 214 reply to HELP with {@code argument} (null: none), or 501 for a verb nobody knows. */
    public static Reply reply(String argument) {
        if (argument != null) {
            Verb v = Verb.lookup(argument.trim());
            return v == null ? Reply.of(501, "Unknown command '" + Printable.of(argument, Replies.ECHO_LIMIT) + "'.")
                    : Reply.of(214, v.help());
        }
        List<String> rows = new ArrayList<>();
        StringBuilder row = new StringBuilder();
        for (Verb v : Verb.values()) {
            row.append(String.format("%-5s", v.name()));
            if (row.length() >= ROW_WIDTH) {
                rows.add(row.toString().stripTrailing());
                row.setLength(0);
            }
        }
        if (!row.isEmpty()) {
            rows.add(row.toString().stripTrailing());
        }
        return Reply.multiLine(214, "The following commands are recognized:", rows, "HELP <command> tells more.");
    }
}
