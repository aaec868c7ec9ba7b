package dev.ferry.protocol.command;

/**
 * A parsed command line: the verb and its raw argument (null when absent). Structured arguments
 * (host-ports, types, offsets) are decoded by the handlers through the codecs in this module, so a
 * malformed argument becomes a 501 reply value there rather than an exception here.
 *
 * <p>{@link #toString()} never shows a PASS argument, so a command can be logged safely.
 */
public record Command(Verb verb, String argument) {

    public boolean hasArgument() {
        return argument != null && !argument.isEmpty();
    }

    @Override
    public String toString() {
        if (argument == null) {
            return verb.name();
        }
        return verb.name() + " " + (verb == Verb.PASS ? "****" : argument);
    }
}
