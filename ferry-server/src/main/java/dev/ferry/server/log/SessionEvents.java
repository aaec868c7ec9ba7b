package dev.ferry.server.log;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.SessionLog;
import org.slf4j.event.Level;

/**
 * What one FTP session logs, on top of its {@link SessionLog} (node, session, event, client, user,
 * proxy_session on every line): the quiet mode of a balancer's health check, and the bounded refusal lines.
 *
 * <p>A trusted proxy's own connection (PROXY LOCAL, or a header naming the socket itself) is a health check,
 * every few seconds per server: at INFO its connect, login, transfer and disconnect would bury the
 * clients' sessions. {@link #quiet} lowers its INFO lines to DEBUG; WARN lines stay (an operator must see a
 * storage error whoever caused it). The balancer logs what its checks decide.
 */
public final class SessionEvents {

    /** SECURITY: refusals are logged for fail2ban and auditors, but a client looping on a refused command must
     * not fill the disk: past this many per session, one {@code refused-suppressed} line, then a count. */
    public static final int REFUSED_LINES = 20;

    private final SessionLog log;
    private final boolean quiet;
    private volatile int refused;
    private volatile String user;

    public SessionEvents(SessionLog log, boolean quiet) {
        this.log = log;
        this.quiet = quiet;
    }

    public String id() {
        return log.id();
    }

    public boolean quiet() {
        return quiet;
    }

    /** The user name from USER on; made printable here, so that no handler logs a raw client string. */
    public void user(String name) {
        user = name == null ? null : Printable.of(name, Replies.ECHO_LIMIT);
        log.user(user);
    }

    /** The user name as logged, or null before USER. */
    public String user() {
        return user;
    }

    public String client() {
        return log.client();
    }

    public void proxySession(String id) {
        log.proxySession(id);
    }

    /** INFO, or DEBUG for a health check's session. */
    public Event info(String event) {
        return log.at(quiet ? Level.DEBUG : Level.INFO, event);
    }

    public Event warn(String event) {
        return log.warn(event);
    }

    public Event debug(String event) {
        return log.debug(event);
    }

    /**
     * A command refused for the session's permissions or state: {@code event=refused cmd path reason reply}, at
     * most {@link #REFUSED_LINES} per session (see there). Called from the control thread only.
     */
    public void refused(String verb, Object path, String reason, Reply reply) {
        refused++;
        if (refused <= REFUSED_LINES) {
            info("refused").with("cmd", verb).with("path", path).with("reason", reason).with("reply", reply.code())
                    .log();
        } else if (refused == REFUSED_LINES + 1) {
            info("refused-suppressed").with("after", REFUSED_LINES).log();
        }
    }

    /** How many commands were refused, logged or not (the disconnect line's {@code refused=}). */
    public int refusedCount() {
        return refused;
    }
}
