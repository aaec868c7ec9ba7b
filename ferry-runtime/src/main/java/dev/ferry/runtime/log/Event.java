package dev.ferry.runtime.log;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One log line being built: its fields in the order they are added, written by {@link #log()}. The
 * line's message is the fields as logfmt (what the console shows), and each field also travels as an
 * SLF4J key-value pair, so that the JSON output writes them as JSON members without parsing text.
 * An event whose level is off costs one level check and keeps nothing.
 */
public final class Event {

    private static final Event OFF = new Event(null, null);

    private final Logger logger;
    private final Level level;
    private final List<String> keys = new ArrayList<>(8);
    private final List<Object> values = new ArrayList<>(8);

    private Event(Logger logger, Level level) {
        this.logger = logger;
        this.level = level;
    }

    static Event start(Logger logger, Level level) {
        return logger.isEnabledForLevel(level) ? new Event(logger, level) : OFF;
    }

    /** Adds {@code key=value}; a null value is written as {@value Logfmt#NONE}. */
    public Event with(String key, Object value) {
        if (this != OFF) {
            keys.add(key);
            values.add(value);
        }
        return this;
    }

    /** Writes the line. */
    public void log() {
        log(null);
    }

    /** Writes the line with a stack trace (for what an operator must report: an internal error). */
    public void log(Throwable error) {
        if (this == OFF) {
            return;
        }
        StringBuilder message = new StringBuilder(96);
        LoggingEventBuilder builder = logger.atLevel(level);
        for (int i = 0; i < keys.size(); i++) {
            Object value = values.get(i);
            Logfmt.append(message, keys.get(i), value);
            builder = builder.addKeyValue(keys.get(i), value == null ? Logfmt.NONE : value.toString());
        }
        if (error != null) {
            builder = builder.setCause(error);
        }
        builder.log(message.toString());
    }
}
