package dev.ferry.database;

import java.io.IOException;

/**
 * The database could not be used: not reachable, refused the login, or holds a schema this Ferry cannot use.
 * The message is meant for the operator and never carries a password.
 */
public final class DatabaseException extends IOException {

    private static final long serialVersionUID = 1L;

    public DatabaseException(String message) {
        super(message);
    }

    public DatabaseException(String message, Throwable cause) {
        super(message, cause);
    }
}
