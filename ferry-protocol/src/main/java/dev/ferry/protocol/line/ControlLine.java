package dev.ferry.protocol.line;

/**
 * One line read from a control connection, or the reason it could not be read as one.
 * A line is never returned with its CRLF.
 */
public sealed interface ControlLine {

    /** A complete line of valid UTF-8 (RFC 2640 §2.2). */
    record Text(String text) implements ControlLine {}

    /** The line exceeded the limit; its bytes up to the next LF were discarded. */
    record TooLong(int limit) implements ControlLine {}

    /** The line was not valid UTF-8; it was discarded. */
    record BadEncoding() implements ControlLine {}
}
