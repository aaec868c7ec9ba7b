package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.BackendConnect;
import dev.ferry.balancer.backend.BackendLogin;
import dev.ferry.balancer.backend.Features;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.CommandParser;
import dev.ferry.protocol.command.FeatureList;
import dev.ferry.protocol.command.PreLogin;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.protocol.line.ControlLine;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.Watchdog;
import java.io.IOException;
import java.time.Duration;

/**
 * A proxied session before USER: the balancer answers the client itself, so that the backend can be chosen from
 * the user name and a backend that fails to connect or greet is replaced before the client notices.
 *
 * <p>The grammar is the server's ({@link PreLogin}), so a client hears before USER what a Ferry server would say;
 * FEAT lists what every backend in service offers ({@link Features}); AUTH, PBSZ, PROT and CCC are the balancer's
 * ({@link ControlProtection}). HOST (RFC 7151) and OPTS UTF8 ON (RFC 2640 §3.1) are remembered and replayed to
 * the backend chosen at USER ({@link BackendLogin}), which then gets the USER itself.
 */
final class BeforeLogin {

    /** The backend that took the session, with its control connection, its replies' reader and the USER line to pass on. */
    record LoggedIn(Backend backend, Connection connection, ControlLineReader replies, long connectMillis, String userLine) {}

    private final BalancerContext ctx;
    private final SessionFacts facts;
    private final Connection client;
    private final ClientReplies replies;
    /** Armed while the client is awaited: its action ends an idle session. */
    private final Watchdog.Guard clientIdle;
    private final ControlProtection protection;
    private final ClientTls tls;
    private final BackendDialer dialer;
    private String host;
    private boolean utf8;
    /** The text of a backend's 421 greeting to this session, passed on when no backend takes it. */
    private String refusedWith;
    /** The replies of the backend being set up (the last one tried). */
    private ControlLineReader backendReader;

    BeforeLogin(BalancerContext ctx, SessionFacts facts, Connection client, ClientReplies replies, Watchdog.Guard clientIdle,
                ControlProtection protection, ClientTls tls, BackendDialer dialer) {
        this.ctx = ctx;
        this.facts = facts;
        this.client = client;
        this.replies = replies;
        this.clientIdle = clientIdle;
        this.protection = protection;
        this.tls = tls;
        this.dialer = dialer;
    }

    /** Reads and answers the client until a backend took its USER; null when the session ended here. */
    LoggedIn run(ControlLineReader in) throws IOException {
        while (true) {
            String line = readLine(in);
            if (line == null) {
                return null;
            }
            CommandParser.Result parsed = CommandParser.parse(line);
            if (!(parsed instanceof CommandParser.Result.Parsed p)) {
                replies.send(CommandParser.refusal(parsed));
                continue;
            }
            Command c = p.command();
            facts.lastVerb(c.verb());
            // USER never waits here for a PASS, since it goes to the backend chosen for it.
            switch (PreLogin.step(c, false)) {
                case PreLogin.Step.Answer a -> {
                    if (c.verb() == Verb.OPTS && a.reply().code() == 200) {
                        utf8 = true;
                    }
                    replies.send(a.reply());
                }
                case PreLogin.Step.Quit q -> {
                    facts.ending("quit");
                    replies.send(q.reply());
                    return null;
                }
                case PreLogin.Step.Reinitialize r -> {
                    // SECURITY: the login timeout keeps running (PreLogin.Step.Reinitialize).
                    host = null;
                    protection.reinitialize();
                    replies.send(r.reply());
                }
                case PreLogin.Step.Host h -> {
                    host = h.name();
                    replies.send(h.reply());
                }
                case PreLogin.Step.Handle h -> {
                    if (c.verb() == Verb.USER) {
                        if (refusedForTls()) {
                            continue;
                        }
                        return login(c.argument(), line);
                    }
                    if (!handle(h.command(), in)) {
                        return null;
                    }
                }
            }
        }
    }

    /** The pre-login commands that need the session's state other than USER; false when the session ends. */
    private boolean handle(Command c, ControlLineReader in) throws IOException {
        switch (c.verb()) {
            case FEAT -> replies.send(FeatureList.reply(Features.beforeLogin(ctx.backends(), protection.offered())));
            // OPTS other than UTF8 concerns commands the backend serves, after login (RFC 2389 §4).
            case OPTS -> replies.send(Reply.of(501, "OPTS before login: only UTF8 ON."));
            case AUTH -> {
                ControlProtection.Decision d = protection.auth(c.argument(), in.hasBufferedInput());
                replies.send(d.reply());
                if (d.then() == ControlProtection.Action.START_TLS && !tls.start()) {
                    // RFC 4217 §10.1: a handshake that failed midway leaves the connection in an unknown state.
                    return false;
                }
            }
            case PBSZ -> replies.send(protection.protectionBufferSize(c.argument()));
            case PROT -> replies.send(protection.protection(c.argument()));
            case CCC -> replies.send(protection.clearCommandChannel(in.hasBufferedInput()).reply());
            // PreLogin hands PASS over only after a USER, which never stays here.
            default -> replies.send(Replies.LOGIN_WITH_USER_FIRST);
        }
        return true;
    }

    /** USER before the TLS the policy requires: refused (true), and the client may go on. */
    private boolean refusedForTls() throws IOException {
        Reply refusal = protection.user(ctx.settings().tls().require());
        if (refusal == null) {
            return false;
        }
        ctx.refusals().log(level -> facts.log.at(level, "login-refused").with("reason", "tls-required"));
        replies.send(refusal);
        return true;
    }

    /** USER: the first backend that connects and greets takes the session; null (the client told 421) when none does. */
    private LoggedIn login(String user, String userLine) throws IOException {
        facts.user(user);
        // The backend holds the login from here (REIN included): the policy is in force for good.
        protection.loggedIn(ctx.settings().tls().require());
        BackendConnect.Opened<Connection> opened = BackendConnect.firstThatOpens(ctx, facts.log, facts.client, user,
                this::connectBackend);
        if (opened == null) {
            facts.ending("no-backend");
            replies.send(Reply.of(421, refusedWith != null ? refusedWith : "No server available; try again later."));
            return null;
        }
        return new LoggedIn(opened.backend(), opened.connection(), backendReader, opened.connectMillis(), userLine);
    }

    /** Connects and sets the backend up ({@link BackendLogin}); any failure here means "try another backend". */
    private Connection connectBackend(Backend b, Duration timeout) throws IOException {
        boolean backendFtps = ctx.tls() != null && ctx.tls().backends() != null;
        // proxy-protocol.txt §2.2.5: the unique ID names the session as the balancer's log does (node/session), so the
        // server's lines of it (proxy_session=) lead to the balancer's. Only v2 carries it; v1 sends the addresses alone.
        ProxyHeader header = new ProxyHeader(facts.client, client.localAddress()).withUniqueId(ctx.log().node() + "/" + facts.id);
        return dialer.dial(b, timeout, header, conn -> {
            try {
                backendReader = BackendLogin.run(conn, b, backendFtps ? ctx.tls().backends() : null, host, utf8);
            } catch (BackendLogin.Refused e) {
                refusedWith = e.text();
                throw e;
            }
        });
    }

    /**
     * The next client line, or null when the client is gone; bad lines are answered here (nothing is awaited from
     * a backend yet, so nothing comes before them).
     */
    private String readLine(ControlLineReader in) throws IOException {
        while (true) {
            clientIdle.arm(ctx.settings().timeouts().clientIdle());
            ControlLine line;
            try {
                line = in.readLine();
            } catch (IOException e) {
                return null;
            } finally {
                clientIdle.disarm();
            }
            switch (line) {
                case ControlLine.Text t -> {
                    return t.text();
                }
                case ControlLine.TooLong tl -> replies.send(Replies.lineTooLong(tl.limit()));
                case ControlLine.BadEncoding b -> replies.send(Replies.BAD_UTF8);
            }
        }
    }
}
