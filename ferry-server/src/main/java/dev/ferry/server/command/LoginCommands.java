package dev.ferry.server.command;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.limits.LimitsUnavailableException;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.server.ServerContext;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.StorageEngine;
import dev.ferry.server.log.SessionEvents;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/** USER and PASS (RFC 959 §4.1.1): the login, its failure delay and limits, and the per-user TLS policy. */
public final class LoginCommands {

    /** The reply that ends the session: the attempts of this connection are used up, or its address is banned. */
    public static final Reply TOO_MANY_FAILURES = Reply.of(421, "Too many failed logins; closing the connection.");
    private static final Reply ALREADY_LOGGED_IN =
            Reply.of(530, "Already logged in; use REIN to log in as another user.");
    private static final Reply PASS_ALREADY_LOGGED_IN = Reply.of(503, "Already logged in.");
    private static final Reply LOGIN_INCORRECT = Reply.of(530, "Login incorrect.");
    private static final Reply ANONYMOUS_PASSWORD =
            Reply.of(331, "Anonymous login okay; send your e-mail address as password.");
    private static final Reply HOME_UNAVAILABLE = Reply.of(530, "Login failed: home directory unavailable.");
    /** RFC 959 §4.2: 421, "service not available, closing control connection": the accounts could not be asked. */
    public static final Reply ACCOUNTS_UNAVAILABLE =
            Reply.of(421, "Login service unavailable; try again later. Closing the connection.");

    /**
     * The account already holds its {@code max-sessions} (counted across the cluster when the count is shared).
     * 421 rather than 530: the login was right, and a client should try again later, not ask for a new password.
     */
    public static final Reply TOO_MANY_SESSIONS = Reply.of(421, "Too many sessions for this user; try again later.");

    private final ServerContext ctx;
    private final SessionState state;
    private final SessionEvents log;
    private final InetAddress client;
    /** A trusted proxy's own connection: no bans, no per-address failure count. */
    private final boolean proxyOwn;
    /** Whether this session's failed and good logins feed the address's count (see the constructor). */
    private final boolean countsGuesses;

    public LoginCommands(ServerContext ctx, SessionState state, SessionEvents log, InetAddress client, boolean proxyOwn) {
        this(ctx, state, log, client, proxyOwn, false);
    }

    /**
     * {@code relayed}: the session came through a trusted proxy that named the client (PROXY protocol). With a
     * shared ban list the balancer in front has counted this login's outcome already (it sees every reply): counting
     * it here too would ban after half the failures the rules say.
     */
    public LoginCommands(ServerContext ctx, SessionState state, SessionEvents log, InetAddress client, boolean proxyOwn,
                         boolean relayed) {
        this.ctx = ctx;
        this.state = state;
        this.log = log;
        this.client = client;
        this.proxyOwn = proxyOwn;
        this.countsGuesses = !proxyOwn && !(relayed && ctx.bans().shared());
    }

    public Reply user(String name) {
        if (state.loggedIn()) {
            return ALREADY_LOGGED_IN;
        }
        log.user(name);
        Reply refused = state.protection().user(tlsPolicy(name));
        if (refused != null) {
            state.pendingUser(null);
            // The TLS policy (the user's or the server's) wants AUTH TLS before this login.
            log.refused("USER", null, "protection-required", refused);
            return refused;
        }
        state.pendingUser(name);
        if (ctx.authenticator().isAnonymousName(name)) {
            return ANONYMOUS_PASSWORD;
        }
        // SECURITY: same reply for every name, so USER cannot probe which accounts exist (RFC 2577 §7).
        return Reply.of(331, "Password required for " + Printable.of(name, Replies.ECHO_LIMIT) + ".");
    }

    /** PASS; {@link #TOO_MANY_FAILURES} means the session must end after the reply. */
    public Reply pass(String password) {
        if (state.loggedIn()) {
            return PASS_ALREADY_LOGGED_IN;
        }
        String name = state.pendingUser();
        state.pendingUser(null);
        char[] secret = password.toCharArray();
        LoginResult result;
        try {
            result = ctx.authenticator().login(name, secret, client);
        } finally {
            Arrays.fill(secret, '\0');
        }
        return switch (result) {
            case LoginResult.Success ok -> succeeded(ok, name);
            case LoginResult.Failure failure -> failed(failure, name);
        };
    }

    private Reply succeeded(LoginResult.Success ok, String name) {
        Path home = ok.home() != null ? ok.home() : ctx.settings().root();
        Storage storage;
        try {
            // The account's own storage (another bucket, or local files on an object-store server), else the server's.
            StorageEngine engine = ctx.storage().forAccount(ok.storage());
            // the upload directory's files are private to the server (0600): see UploadDirectory
            storage = ok.uploads() != null ? engine.forPrivateUploads(home) : engine.forHome(home);
        } catch (IOException e) {
            // The cause is the operator's to read (a home outside the root, a store not open), never the client's.
            log.warn("login-failed").with("reason", "home-unavailable").with("error", e.getMessage()).log();
            ctx.metrics().loginFailed(false);
            return HOME_UNAVAILABLE;
        }
        // A trusted proxy's own session (its login check) is counted but never refused: a check account with a
        // limit must not take its backend down.
        int maxSessions = proxyOwn ? 0 : ok.policy().maxSessions();
        SessionLimits.Lease lease;
        try {
            lease = ctx.sessionLimits().acquire(ok.user(), maxSessions, log.id());
        } catch (LimitsUnavailableException e) {
            // The shared count (the database) cannot be asked: letting the login in could break the account's
            // limit, so it is refused like an accounts outage (421, not counted as a guess); sessions in progress go on.
            log.user(ok.user());
            ctx.metrics().loginFailed(false);
            log.warn("login-failed").with("reason", "session-limits-unavailable").with("max_sessions", maxSessions)
                    .with("error", e.getMessage()).log();
            return ACCOUNTS_UNAVAILABLE;
        }
        if (lease == null) {
            log.user(ok.user());
            log.info("refused").with("verb", "PASS").with("reason", "max-sessions").with("max_sessions", maxSessions)
                    .log();
            return TOO_MANY_SESSIONS;
        }
        state.sessionLease(lease);
        state.loggedIn(ok, storage);
        state.bandwidth(ctx.bandwidth().lease(ok.user(), ok.policy().bandwidth()));
        state.protection().loggedIn(tlsPolicy(ok.user()));
        if (!ok.anonymous() && countsGuesses) {
            // SECURITY: anonymous logins always succeed; letting them clear the failure count
            // would let a guesser reset it between attempts and never be banned.
            ctx.bans().recordSuccess(client);
        }
        ctx.metrics().loginSucceeded();
        // The account's name: an anonymous login's USER may have been "ftp" or "anonymous".
        log.user(ok.user());
        log.info("login").with("anonymous", ok.anonymous()).with("writable", ok.writable()).log();
        return Reply.of(230, "User " + Printable.of(ok.user(), Replies.ECHO_LIMIT) + " logged in.");
    }

    private Reply failed(LoginResult.Failure failure, String name) {
        if (failure.reason() == LoginResult.Reason.UNAVAILABLE) {
            // Not a guess: an outage must neither feed the address's failure count nor cost the client an attempt.
            ctx.metrics().loginFailed(false);
            log.warn("login-failed").with("reason", "accounts-unavailable").log();
            return ACCOUNTS_UNAVAILABLE;
        }
        int attempt = state.failedLogin();
        boolean banned = countsGuesses && ctx.bans().recordFailure(client);
        ctx.metrics().loginFailed(banned);
        // The client address is on the line (SessionLog's client=): what fail2ban bans.
        var line = log.info("login-failed").with("reason", failure.reason().name().toLowerCase(Locale.ROOT))
                .with("attempt", attempt);
        if (banned) {
            line.with("banned", true);
        }
        line.log();
        // SECURITY: a delay after every failure slows password guessing (RFC 2577 §5).
        sleep(ctx.settings().loginPolicy().failureDelay());
        if (banned || attempt >= ctx.settings().loginPolicy().maxAttemptsPerSession()) {
            return TOO_MANY_FAILURES;
        }
        return LOGIN_INCORRECT;
    }

    /** The TLS policy of a user: the user's own (users file), else the server's. */
    private TlsPolicy tlsPolicy(String user) {
        TlsPolicy own = ctx.authenticator().tlsPolicy(user);
        return own != null ? own : ctx.settings().tls().policy();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
