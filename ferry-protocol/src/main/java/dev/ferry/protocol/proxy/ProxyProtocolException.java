package dev.ferry.protocol.proxy;

/**
 * A connection that should start with a PROXY header does not: the receiver must drop it (spec
 * §2.1: "Any sequence which does not exactly match the protocol must be discarded"). The message
 * says what was wrong; it quotes at most a short, printable piece of the offending input.
 */
public final class ProxyProtocolException extends Exception {

    public ProxyProtocolException(String message) {
        super(message);
    }
}
