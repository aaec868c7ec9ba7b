package dev.ferry.server.fs;

/**
 * A path argument that cannot name anything: a control character, a name or path over the limits,
 * or text that is not valid Unicode. The message never repeats the argument, so it is safe to send
 * to the client as is (the argument may hold CR or LF).
 */
public final class InvalidVirtualPathException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidVirtualPathException(String message) {
        super(message);
    }
}
