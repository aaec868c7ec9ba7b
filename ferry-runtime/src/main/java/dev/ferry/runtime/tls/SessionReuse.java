package dev.ferry.runtime.tls;

/**
 * Whether a protected data connection must resume the control connection's TLS session. Resumption
 * proves the data connection comes from the client that holds the control connection's keys (it
 * guards against data-connection theft); some clients cannot do it (see docs/ftps.md).
 */
public enum SessionReuse {
    /** A data connection that does not resume the control session is refused with 522 (RFC 4217 §10.2). */
    REQUIRED,
    /** Resumption is offered and logged, never demanded. */
    PREFERRED,
    /** Data connections get full handshakes: they do not share the control connection's session cache. */
    OFF
}
