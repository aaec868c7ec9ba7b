package dev.ferry.runtime.log;

import org.slf4j.event.Level;

/**
 * The log of one control connection. Every line carries {@code node}, {@code session}, {@code event},
 * {@code client} and {@code user}, in that order, so that one grep for an address or a user name finds a
 * session's whole story (connect, login, refusals, transfers, disconnect) and fail2ban finds the address
 * on the line it matches. A proxied session also carries {@code proxy_session}: the balancer's id of the
 * same session (PROXY v2's unique ID), which matches the balancer's lines to the server's.
 */
public final class SessionLog {

    private final EventLog log;
    private final String id;
    private volatile String client;
    private volatile String user;
    private volatile String proxySession;

    SessionLog(EventLog log, String id, String client) {
        this.log = log;
        this.id = id;
        this.client = client;
    }

    public String id() {
        return id;
    }

    /** The client's address as logged: set again when a PROXY header names the real client. */
    public void client(String client) {
        this.client = client;
    }

    public String client() {
        return client;
    }

    /** The user name as logged from USER on (null: none yet, written as {@value Logfmt#NONE}). */
    public void user(String user) {
        this.user = user;
    }

    /** The balancer's id of this session, from the PROXY v2 unique ID (null: none). */
    public void proxySession(String proxySession) {
        this.proxySession = proxySession;
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

    public Event at(Level level, String event) {
        Event e = Event.start(log.logger(), level).with("node", log.node()).with("session", id).with("event", event)
                .with("client", client).with("user", user);
        String upstream = proxySession;
        return upstream == null ? e : e.with("proxy_session", upstream);
    }
}
