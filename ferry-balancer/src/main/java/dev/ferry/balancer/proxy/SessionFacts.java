package dev.ferry.balancer.proxy;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.command.Verb;
import dev.ferry.runtime.log.SessionLog;
import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * What a proxied session shows of itself: to the admin page (any thread, hence volatile) and in its end line.
 * The session's parts write it as they go: the user at USER, the verb of each command (never its argument: PASS
 * carries a password), and why the session ends. Its {@link #log} writes every line of the session with the
 * same {@code session=}, {@code client=} and (from USER on) {@code user=}.
 */
final class SessionFacts {

    final String id;
    final InetSocketAddress client;
    final SessionLog log;
    final Instant startedAt = Instant.now();
    final long startNanos = System.nanoTime();
    private volatile String user;
    private volatile Verb lastVerb;
    /** The end line's {@code end=}: "client-closed" unless something else ended the session. */
    private volatile String ending = "client-closed";
    private volatile long connectMillis = -1;

    SessionFacts(String id, InetSocketAddress client, SessionLog log) {
        this.id = id;
        this.client = client;
        this.log = log;
    }

    /** The name given with USER, or null before it. */
    String user() { return user; }

    /** USER (again, after a refused login): the name the admin page shows and the session's lines carry from now on. */
    void user(String name) {
        this.user = name;
        log.user(name == null ? null : Printable.of(name, 64));
    }

    /** The verb of the client's last command, or null before the first. */
    Verb lastVerb() { return lastVerb; }
    void lastVerb(Verb verb) { this.lastVerb = verb; }

    String ending() { return ending; }
    void ending(String why) { this.ending = why; }

    /** True while nothing but the client's own close would end the session. */
    boolean endingUnknown() {
        return ending.equals("client-closed");
    }

    /** How long the chosen backend took to connect and greet, or -1 before one did. */
    long connectMillis() { return connectMillis; }
    void connectMillis(long millis) { this.connectMillis = millis; }

    long elapsedMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000L;
    }
}
