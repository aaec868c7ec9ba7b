package dev.ferry.protocol.ftps;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import java.util.Locale;

/**
 * The security state of one client's control connection (RFC 2228, RFC 4217) and the answers to AUTH, PBSZ,
 * PROT and CCC, for every daemon that speaks FTPS to clients: the server, and a balancer that terminates TLS
 * (its backends never see these commands).
 *
 * <p>Design: pure, no sockets. The session asks, sends the reply it gets, and does the I/O a {@link Decision}
 * names (the handshake after 234, the TLS shutdown after CCC's 200), then reports the outcome
 * ({@link #tlsStarted}, {@link #controlCleared}). The state follows RFC 4217's order: TLS on the control
 * connection, then PBSZ, then PROT; CCC ends TLS for good. A login fixes the {@link TlsPolicy} that PROT C
 * and transfers are checked against ({@link #loggedIn}); before it, the name's policy guards USER.
 *
 * <p>The daemons differ only in what they can do, chosen at construction ({@link #forServer},
 * {@link #forBalancer}): the server may allow CCC and takes AUTH after login (the user logs in again, RFC 4217
 * §4). A balancer relays the login: once USER went to a backend, the backend holds the session (REIN
 * included), so AUTH can no longer come and the policy stays in force.
 *
 * <p>Confined to the session's control thread, except {@link #protectData()}, which data threads read.
 */
public final class ControlProtection {

    /** What the session does after sending a {@link Decision}'s reply. */
    public enum Action {
        /** Nothing: the reply was the whole answer. */
        NONE,
        /** The TLS handshake on the control connection (after 234), then {@link #tlsStarted()}. */
        START_TLS,
        /** TLS ends, the connection goes on in clear text (after CCC's 200), then {@link #controlCleared()}. */
        END_TLS
    }

    /** A reply to send, then an action. */
    public record Decision(Reply reply, Action then) {
        static Decision refuse(Reply reply) {
            return new Decision(reply, Action.NONE);
        }
    }

    private final boolean offered;
    private final boolean implicit;
    private final boolean allowCcc;
    /** A balancer: the login and everything after it belong to the backend. */
    private final boolean loginRelayed;
    private boolean tls;
    private boolean cleared;
    private boolean bufferSizeSet;
    private volatile boolean protectData;
    /** The logged-in user's policy; null before login. */
    private TlsPolicy policy;

    private ControlProtection(boolean offered, boolean implicit, boolean allowCcc, boolean loginRelayed) {
        if (implicit && !offered) {
            throw new IllegalArgumentException("an implicit-FTPS connection needs TLS offered");
        }
        this.offered = offered;
        this.implicit = implicit;
        this.allowCcc = allowCcc;
        this.loginRelayed = loginRelayed;
        this.tls = implicit;
        this.bufferSizeSet = implicit;
        this.protectData = implicit;
    }

    /**
     * A server's client connection.
     *
     * @param offered  TLS is configured (AUTH TLS is answered 234, FEAT lists it)
     * @param implicit the connection came through the implicit-FTPS listener: TLS from the first byte, PBSZ 0
     *                 and PROT P in force from the start
     * @param allowCcc CCC is accepted after login (the operator's tls.allow-ccc)
     */
    public static ControlProtection forServer(boolean offered, boolean implicit, boolean allowCcc) {
        return new ControlProtection(offered, implicit, allowCcc, false);
    }

    /**
     * A TLS-terminating balancer's client connection: CCC is always refused (the balancer's data relays
     * rely on the control connection's TLS session), and AUTH only comes before USER.
     */
    public static ControlProtection forBalancer(boolean offered, boolean implicit) {
        return new ControlProtection(offered, implicit, false, true);
    }

    /** TLS is offered: AUTH TLS can succeed, FEAT lists AUTH TLS, PBSZ and PROT (RFC 4217 §6). */
    public boolean offered() { return offered; }
    /** The control connection is protected now. */
    public boolean tls() { return tls; }
    /** CCC ended TLS on the control connection: PBSZ and PROT are fixed, AUTH cannot come back. */
    public boolean cleared() { return cleared; }
    /** PROT P in force: the data connections that follow use TLS (RFC 4217 §9). */
    public boolean protectData() { return protectData; }
    /** The policy fixed at login, or null before login. */
    public TlsPolicy policy() { return policy; }

    /**
     * AUTH (RFC 2228 §3, RFC 4217 §4). 234 and {@link Action#START_TLS}, or a refusal.
     *
     * @param pipelined bytes arrived after the AUTH line, before the handshake
     */
    public Decision auth(String argument, boolean pipelined) {
        if (!offered) {
            return Decision.refuse(Replies.TLS_NOT_AVAILABLE);
        }
        String mechanism = argument.trim().toUpperCase(Locale.ROOT);
        // RFC 4217 §17: TLS, and TLS-C its older synonym. SSL is what curl sends first (then TLS if refused),
        // and vsftpd and ProFTPD take it: the same mechanism here, without the "data protected too" meaning an
        // old draft gave it; data protection is PROT's business (§9), and clients send PROT.
        if (!mechanism.equals("TLS") && !mechanism.equals("TLS-C") && !mechanism.equals("SSL")) {
            return Decision.refuse(Replies.authNotSupported(argument));
        }
        if (tls) {
            return Decision.refuse(Replies.TLS_ALREADY_ACTIVE);
        }
        if (cleared) {
            return Decision.refuse(Replies.TLS_ENDED_BY_CCC);
        }
        if (policy != null && loginRelayed) {
            // A balancer chose the backend and sent the user name in clear text: TLS now would protect nothing
            // that mattered, and RFC 4217 §4 would have the login start again, which the backend cannot.
            return Decision.refuse(Replies.AUTH_AFTER_USER);
        }
        // SECURITY: bytes sent after AUTH and before the handshake travelled in clear text; taking them as
        // commands of the protected session would let a man in the middle inject commands into it (the
        // STARTTLS injection of CVE-2011-0411). AUTH must be the last thing sent before the handshake.
        if (pipelined) {
            return Decision.refuse(Replies.NOTHING_MAY_FOLLOW_AUTH);
        }
        return new Decision(Replies.authAccepted(mechanism), Action.START_TLS);
    }

    /**
     * AUTH's handshake succeeded. RFC 2228 §3 and RFC 4217 §4: the user logs in again and the transfer
     * parameters start afresh, "almost as if a REIN command was issued" (the session resets its own). No-op on
     * an implicit connection, which started protected.
     */
    public void tlsStarted() {
        if (implicit) {
            return;
        }
        tls = true;
        bufferSizeSet = false;
        protectData = false;
        policy = null;
    }

    /**
     * USER: a refusal when {@code policy} (the name's own, else the daemon's) wants the login protected and
     * the control connection is not. SECURITY: refused at USER, before the client sends its password in clear
     * text (RFC 4217 §10.1: deny USER and PASS before TLS); PASS needs an accepted USER, so it is covered too.
     * A user whose own policy differs from the daemon's is told so here, which reveals that the name exists:
     * the price of keeping that user's password off the wire.
     */
    public Reply user(TlsPolicy policy) {
        return !tls && policy.loginNeedsTls() ? Replies.TLS_REQUIRED_FOR_LOGIN : null;
    }

    /**
     * The login succeeded under {@code policy}: PROT C and transfers are checked against it from now on. A
     * balancer calls this when USER goes to a backend: from then on the backend has the login, and the policy
     * stays in force for the rest of the connection.
     */
    public void loggedIn(TlsPolicy policy) {
        this.policy = policy;
    }

    /** PBSZ (RFC 2228 §3, RFC 4217 §9): TLS is a stream, so the only size is 0, whatever the client asks. */
    public Reply protectionBufferSize(String argument) {
        if (cleared) {
            return Replies.PBSZ_AFTER_CCC;
        }
        if (!tls) {
            return Replies.SECURITY_EXCHANGE_NOT_COMPLETED;
        }
        if (!argument.trim().matches("[0-9]{1,10}")) {
            return Replies.PBSZ_SYNTAX;
        }
        bufferSizeSet = true;
        return Replies.PBSZ_ZERO;
    }

    /** PROT (RFC 2228 §3, RFC 4217 §9): P (TLS) or C (clear) for the data connections that follow. */
    public Reply protection(String argument) {
        if (cleared) {
            return Replies.PROT_AFTER_CCC;
        }
        if (!tls) {
            return Replies.SECURITY_EXCHANGE_NOT_COMPLETED;
        }
        if (!bufferSizeSet) {
            return Replies.PBSZ_BEFORE_PROT;
        }
        String level = argument.trim().toUpperCase(Locale.ROOT);
        return switch (level) {
            case "P" -> {
                protectData = true;
                yield Replies.PROTECTION_PRIVATE;
            }
            case "C" -> {
                // SECURITY: a policy that requires protected data is not undone by one command. Before login
                // the policy is not known yet; the transfer check (dataTransfer) still applies after it.
                if (policy != null && policy.dataNeedsTls()) {
                    yield Replies.PROT_C_REFUSED;
                }
                protectData = false;
                yield Replies.PROTECTION_CLEAR;
            }
            // RFC 4217 §9: TLS offers Private or Clear only; RFC 2228 §3: 536 for a level the mechanism lacks.
            case "S", "E" -> Replies.protectionLevelNotWithTls(level);
            default -> Replies.unknownProtectionLevel(argument);
        };
    }

    /**
     * CCC (RFC 4217 §5): 200 and {@link Action#END_TLS}, or a refusal: 533 when the control connection is not
     * protected, 534 unless the daemon allows it, and before login, so that USER and PASS stay protected and
     * an anonymous peer cannot make the daemon run TLS set-ups and shutdowns at will (RFC 4217 §15.3).
     *
     * @param pipelined bytes arrived after the CCC line, before the TLS shutdown
     */
    public Decision clearCommandChannel(boolean pipelined) {
        if (!tls) {
            return Decision.refuse(Replies.CONTROL_NOT_PROTECTED);
        }
        if (!allowCcc) {
            return Decision.refuse(Replies.CCC_REFUSED);
        }
        if (policy == null) {
            return Decision.refuse(Replies.CCC_BEFORE_LOGIN);
        }
        // SECURITY: as for AUTH, nothing sent under TLS behind CCC may be taken as a clear-text command.
        if (pipelined) {
            return Decision.refuse(Replies.NOTHING_MAY_FOLLOW_CCC);
        }
        return new Decision(Replies.CCC_ACCEPTED, Action.END_TLS);
    }

    /**
     * CCC's TLS shutdown completed: the control connection is clear from now on and PBSZ and PROT stay as they
     * are (RFC 4217 §5: "all subsequent data transfers must be protected with the current PROT settings").
     */
    public void controlCleared() {
        tls = false;
        cleared = true;
    }

    /**
     * A command that opens a data connection ({@link Verb.Data#TRANSFER}): 521 when the policy wants data
     * protected and PROT is C, else null. SECURITY: the data connection would carry the file in clear text.
     * RFC 4217 §10.2: checked on the command that initiates the transfer, before any 1xx, "and not on the PORT
     * or PASV" (PROT may still change between the two, §8).
     */
    public Reply dataTransfer(Verb verb) {
        if (verb.data() == Verb.Data.TRANSFER && !protectData && policy != null && policy.dataNeedsTls()) {
            return Replies.DATA_PROTECTION_REQUIRED;
        }
        return null;
    }

    /**
     * REIN (RFC 959 §4.1.1): logged out, and data protection starts afresh (RFC 4217 §9: PROT lasts until
     * REIN). TLS on the control connection stays on: RFC 4217 §13 would clear it, but a protected session
     * that one command turns back into clear text would defeat a policy that requires TLS. A CCC stays done.
     * At a balancer the policy stays: the backend keeps the session, and the next USER goes straight to it.
     */
    public void reinitialize() {
        bufferSizeSet = implicit;
        protectData = implicit;
        if (!loginRelayed) {
            policy = null;
        }
    }
}
