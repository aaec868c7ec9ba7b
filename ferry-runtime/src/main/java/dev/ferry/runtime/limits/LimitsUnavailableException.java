package dev.ferry.runtime.limits;

/**
 * The shared store of a {@link BanList} or {@link SessionLimits} (the database) could not be asked, so the answer
 * is unknown: a session limit cannot be checked (the login is refused with 421 rather than let through past the
 * limit), a ban by hand or a lift could not be made for the whole fleet (the operator is told, not misled). The
 * message is for the operator's log.
 */
public final class LimitsUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public LimitsUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
