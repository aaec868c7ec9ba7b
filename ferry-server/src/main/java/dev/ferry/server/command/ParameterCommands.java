package dev.ferry.server.command;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.reply.Replies;
import java.util.Locale;

/** TYPE, STRU, MODE and REST (RFC 959 §4.1.2, RFC 3659 §5): how the next transfers move their bytes. */
public final class ParameterCommands {

    private static final Reply TYPE_I = Reply.of(200, "Type set to I.");
    private static final Reply TYPE_A = Reply.of(200, "Type set to A.");
    private static final Reply TYPE_UNSUPPORTED = Reply.of(504, "Only TYPE A (non-print) and TYPE I are supported.");
    private static final Reply STRU_F = Reply.of(200, "Structure set to F.");
    private static final Reply STRU_UNSUPPORTED = Reply.of(504, "Only file structure (STRU F) is supported.");
    private static final Reply MODE_S = Reply.of(200, "Mode set to S.");
    private static final Reply MODE_UNSUPPORTED = Reply.of(504, "Only stream mode (MODE S) is supported.");
    private static final Reply REST_SYNTAX = Reply.of(501, "REST needs a non-negative byte offset.");

    private final SessionState state;

    public ParameterCommands(SessionState state) {
        this.state = state;
    }

    public Reply type(String arg) {
        return switch (arg.toUpperCase(Locale.ROOT).replaceAll(" +", " ")) {
            case "I", "L 8" -> {
                state.ascii(false);
                yield TYPE_I;
            }
            case "A", "A N" -> {
                state.ascii(true);
                yield TYPE_A;
            }
            case "A T", "A C", "E", "E N", "E T", "E C" -> TYPE_UNSUPPORTED;
            default -> Reply.of(501, "Unknown type '" + Printable.of(arg, Replies.ECHO_LIMIT) + "'.");
        };
    }

    public static Reply structure(String arg) {
        return "F".equalsIgnoreCase(arg) ? STRU_F
                : "R".equalsIgnoreCase(arg) || "P".equalsIgnoreCase(arg) ? STRU_UNSUPPORTED
                : Reply.of(501, "Unknown structure '" + Printable.of(arg, Replies.ECHO_LIMIT) + "'.");
    }

    public static Reply mode(String arg) {
        return "S".equalsIgnoreCase(arg) ? MODE_S
                : "B".equalsIgnoreCase(arg) || "C".equalsIgnoreCase(arg) ? MODE_UNSUPPORTED
                : Reply.of(501, "Unknown mode '" + Printable.of(arg, Replies.ECHO_LIMIT) + "'.");
    }

    /** REST (RFC 3659 §5): the offset the next RETR or STOR starts at. */
    public Reply restart(String arg) {
        long offset;
        try {
            offset = Long.parseLong(arg.trim());
        } catch (NumberFormatException e) {
            offset = -1;
        }
        if (offset < 0) {
            return REST_SYNTAX;
        }
        state.restOffset(offset);
        return Reply.of(350, "Restarting at " + offset + ". Send STOR or RETR to start the transfer.");
    }
}
