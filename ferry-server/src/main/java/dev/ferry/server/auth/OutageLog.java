package dev.ferry.server.auth;

import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.EventLog;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The WARN line of an account source that cannot be asked (the database, the directory, the auth hook): at most one
 * per {@link #EVERY}, carrying {@code since_last}, the attempts that failed the same way since the line before. During
 * an outage a crowd of logins is one line every ten seconds, not one per attempt: each attempt has its session's
 * {@code login-failed} line already, and a flood would bury what the operator needs to read.
 */
public final class OutageLog {

    public static final Duration EVERY = Duration.ofSeconds(10);

    private final LongSupplier millis;
    private final AtomicLong lastWarning = new AtomicLong(Long.MIN_VALUE / 2);
    private final AtomicLong unwarned = new AtomicLong();

    public OutageLog() {
        this(System::currentTimeMillis);
    }

    OutageLog(LongSupplier millis) {
        this.millis = millis;
    }

    /**
     * The line to fill in and {@link Event#log()} when one is due ({@code since_last} set already), else null: this
     * attempt is counted into the next line.
     */
    public Event warn(EventLog log, String event) {
        long now = millis.getAsLong();
        long last = lastWarning.get();
        if (now - last >= EVERY.toMillis() && lastWarning.compareAndSet(last, now)) {
            return log.warn(event).with("since_last", unwarned.getAndSet(0));
        }
        unwarned.incrementAndGet();
        return null;
    }
}
