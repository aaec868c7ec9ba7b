package dev.ferry.server.data;

import java.io.IOException;

/** A failure of local storage, as opposed to the data connection: 451, not 426 (RFC 959 §4.2). */
public final class LocalIOException extends IOException {

    public LocalIOException(IOException cause) {
        super(cause.getMessage(), cause);
    }
}
