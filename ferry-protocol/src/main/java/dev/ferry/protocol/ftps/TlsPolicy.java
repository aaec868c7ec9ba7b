package dev.ferry.protocol.ftps;

/**
 * How much of a session must run over TLS (per server, per balancer, and per user in the users file).
 * {@code OPTIONAL}: nothing; {@code LOGIN}: USER and PASS only after AUTH TLS (530 before);
 * {@code REQUIRED}: that, and every data connection protected (PROT P; 521 to a transfer under PROT C).
 */
public enum TlsPolicy {
    OPTIONAL, LOGIN, REQUIRED;

    public boolean loginNeedsTls() {
        return this != OPTIONAL;
    }

    public boolean dataNeedsTls() {
        return this == REQUIRED;
    }
}
