package dev.ferry.protocol.command;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.reply.Replies;

/**
 * Splits a control line into verb and argument (RFC 959 §5.3.1: the verb, one space, the argument;
 * the argument may contain spaces, which matter in path names, so only the first space splits).
 */
public final class CommandParser {

    private CommandParser() {}

    /** The outcome of parsing one line. */
    public sealed interface Result {
        record Parsed(Command command) implements Result {}
        /** An unknown verb (500). The name is kept for the reply, trimmed to a safe length. */
        record Unknown(String name) implements Result {}
        /** Nothing but whitespace (500). */
        record Empty() implements Result {}
        /** Argument present where none is allowed, or missing where one is needed (501). */
        record BadArguments(Verb verb, String message) implements Result {}
    }

    private static final int MAX_ECHOED_NAME = 16;

    public static Result parse(String line) {
        int start = 0;
        // Lenient about leading spaces: some clients send " NOOP"; strictness buys nothing here.
        while (start < line.length() && line.charAt(start) == ' ') {
            start++;
        }
        if (start == line.length()) {
            return new Result.Empty();
        }
        int space = line.indexOf(' ', start);
        String name = space < 0 ? line.substring(start) : line.substring(start, space);
        String argument = space < 0 ? null : line.substring(space + 1);
        Verb verb = name.length() <= 4 ? Verb.lookup(name) : null;
        if (verb == null) {
            return new Result.Unknown(Printable.ascii(name, MAX_ECHOED_NAME));
        }
        if (argument != null && verb != Verb.PASS) {
            // Trailing spaces are never meaningful at the end of a command and some clients add them.
            // PASS keeps its argument exactly: a password may end in a space.
            argument = stripTrailingSpaces(argument);
        }
        boolean hasArgument = argument != null && !argument.isEmpty();
        return switch (verb.argument()) {
            case NONE -> hasArgument
                    ? new Result.BadArguments(verb, verb.name() + " takes no argument")
                    : new Result.Parsed(new Command(verb, null));
            case REQUIRED -> hasArgument
                    ? new Result.Parsed(new Command(verb, argument))
                    : new Result.BadArguments(verb, verb.name() + " needs an argument: " + verb.help());
            case OPTIONAL -> new Result.Parsed(new Command(verb, hasArgument ? argument : null));
        };
    }

    /**
     * The reply to a line that is no command: 500 for an empty line or an unknown verb, 501 for an argument
     * where none is allowed or none where one is needed (RFC 959 §4.2); null for a parsed command.
     */
    public static Reply refusal(Result result) {
        return switch (result) {
            case Result.Parsed p -> null;
            case Result.Empty e -> Replies.EMPTY_COMMAND;
            case Result.Unknown u -> Replies.unknownCommand(u.name());
            case Result.BadArguments b -> Reply.of(501, b.message());
        };
    }

    private static String stripTrailingSpaces(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == ' ') {
            end--;
        }
        return s.substring(0, end);
    }
}
