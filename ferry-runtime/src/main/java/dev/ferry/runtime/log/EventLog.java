package dev.ferry.runtime.log;

import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * A daemon's log: every line it writes starts with {@code node=NAME}, so that the lines of several
 * servers and balancers (one {@code ferry cluster} process, or a fleet's logs gathered in one place) can
 * be told apart, then {@code event=NAME} and the event's fields.
 */
public final class EventLog {

    private final Logger logger;
    private final String node;

    public EventLog(Logger logger, String node) {
        this.logger = logger;
        this.node = node;
    }

    public String node() {
        return node;
    }

    public Logger logger() {
        return logger;
    }

    public Event info(String event) {
        return at(Level.INFO, event);
    }

    public Event warn(String event) {
        return at(Level.WARN, event);
    }

    public Event debug(String event) {
        return at(Level.DEBUG, event);
    }

    public Event error(String event) {
        return at(Level.ERROR, event);
    }

    public Event at(Level level, String event) {
        return Event.start(logger, level).with("node", node).with("event", event);
    }

    /** The log of one session: its lines carry the session id, client and user as well. */
    public SessionLog session(String id, String client) {
        return new SessionLog(this, id, client);
    }
}
