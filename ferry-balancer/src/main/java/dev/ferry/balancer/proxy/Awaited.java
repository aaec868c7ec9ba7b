package dev.ferry.balancer.proxy;

import dev.ferry.protocol.command.Verb;

/**
 * A command sent to the backend whose final reply has not come yet. The backend answers commands in the
 * order it got them, one final reply each (RFC 959 §4.2; 1xx replies come before a command's final one),
 * so a queue of these tells the backend pump what each final reply answers: a command of the client's
 * to pass on, the backend's passive port for a client's PASV/EPSV or PORT/EPRT, or the end of a transfer.
 */
final class Awaited {

    enum Kind {
        /** The client's command, its replies passed on as they are. */
        FORWARDED,
        /** The client's PASV/EPSV: a 227/229 is rewritten to a port of the balancer's. */
        PASSIVE,
        /** The balancer's own PASV/EPSV for the client's PORT/EPRT: a 227/229 becomes the PORT/EPRT's 200. */
        ACTIVE,
        /** A command that moves data (RETR, STOR, APPE, STOU, LIST, NLST, MLSD): its final reply ends a transfer. */
        TRANSFER
    }

    final Kind kind;
    final Verb verb;
    /** The data route of PASSIVE, ACTIVE and TRANSFER entries (null for a transfer with none). */
    final DataRoute route;
    final long sentNanos = System.nanoTime();
    /** The balancer already gave the client this transfer's final reply (the relay timed out): the backend's is dropped. */
    private volatile boolean answered;
    /** The client sent ABOR while this transfer ran: its final reply does not wait for the data's end. */
    private volatile boolean abortedByClient;
    /** The backend answered this transfer with a preliminary reply (150, 125): data may move. */
    private volatile boolean begun;

    Awaited(Kind kind, Verb verb, DataRoute route) {
        this.kind = kind;
        this.verb = verb;
        this.route = route;
    }

    static Awaited forwarded(Verb verb) {
        return new Awaited(Kind.FORWARDED, verb, null);
    }

    boolean answered() {
        return answered;
    }

    void answer() {
        answered = true;
    }

    boolean isAbortedByClient() {
        return abortedByClient;
    }

    void abortedByClient() {
        abortedByClient = true;
    }

    boolean begun() {
        return begun;
    }

    void begin() {
        begun = true;
    }

    /** An upload: its data flows client to backend, so that direction's end is the file's end. */
    boolean upload() {
        return verb == Verb.STOR || verb == Verb.APPE || verb == Verb.STOU;
    }
}
