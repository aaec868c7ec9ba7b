package dev.ferry.balancer.frontend;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.ftps.TlsPolicy;
import java.util.List;
import java.util.Locale;

/**
 * The security state of one client's control connection at a TLS-terminating balancer (RFC 2228, RFC 4217),
 * and the answers to AUTH, PBSZ, PROT and CCC, which the balancer gives itself before and after login: the
 * backend never sees them (a plain backend would not understand them; an FTPS backend has its own TLS
 * with the balancer, set up when the balancer connected).
 *
 * <p>Pure: no sockets. The session asks for a decision and does the I/O; a null answer means "go on".
 * Used by the client pump only; {@link #protectData()} is also read by relay threads, hence volatile.
 */
final class ClientProtection {

    /** The FEAT lines of RFC 4217 §6, when TLS is offered. */
    static final List<String> FEATURES = List.of("AUTH TLS", "PBSZ", "PROT");

    private final boolean available;
    private final boolean implicit;
    private boolean tls;
    private boolean bufferSizeSet;
    private volatile boolean protectData;

    /**
     * @param available TLS is offered (the balancer terminates TLS)
     * @param implicit  the connection came through the implicit-FTPS listener: TLS from the first byte,
     *                  data protected from the start
     */
    ClientProtection(boolean available, boolean implicit) {
        this.available = available;
        this.implicit = implicit;
        this.tls = implicit;
        this.bufferSizeSet = implicit;
        this.protectData = implicit;
    }

    boolean available() { return available; }
    /** Whether the control connection is protected. */
    boolean tls() { return tls; }
    /** PROT P in force: the data connections that follow are TLS on the client's side. */
    boolean protectData() { return protectData; }

    /** The mechanism of an AUTH argument as the 234 reply names it. */
    static String mechanism(String arg) {
        return arg.trim().toUpperCase(Locale.ROOT);
    }

    /**
     * AUTH (RFC 2228 §3): a refusal, or null when the balancer answers 234 and the handshake follows.
     *
     * @param loggedIn   USER already went to a backend
     * @param pipelined  bytes arrived after the AUTH line, before the handshake
     */
    Reply auth(String arg, boolean loggedIn, boolean pipelined) {
        if (!available) {
            // RFC 2228: the command is known, the security extensions are not offered.
            return Reply.of(502, "TLS is not available on this balancer.");
        }
        String mechanism = mechanism(arg);
        // RFC 4217 §17: TLS, and TLS-C its older synonym; SSL as curl sends it first (as ferry server takes it).
        if (!mechanism.equals("TLS") && !mechanism.equals("TLS-C") && !mechanism.equals("SSL")) {
            return Reply.of(504, "AUTH " + Printable.of(arg, 40) + " is not supported; use AUTH TLS.");
        }
        if (tls) {
            return Reply.of(503, "TLS is already active on this connection.");
        }
        if (loggedIn) {
            // The backend was chosen and the user name sent in clear text: TLS now would protect nothing
            // that mattered, and RFC 4217 §4 would have the login start again, which the backend cannot.
            return Reply.of(503, "AUTH TLS must come before USER; reconnect and send AUTH TLS first.");
        }
        // SECURITY: bytes sent after AUTH and before the handshake travelled in clear text; taking them as
        // commands of the protected session would let a man in the middle inject commands into it (the
        // STARTTLS injection of CVE-2011-0411). AUTH must be the last thing sent before the handshake.
        if (pipelined) {
            return Reply.of(503, "Nothing may follow AUTH before the TLS handshake; send AUTH on its own.");
        }
        return null;
    }

    /** The control connection's handshake succeeded: RFC 4217 §4, transfer parameters start afresh. */
    void tlsStarted() {
        tls = true;
        bufferSizeSet = false;
        protectData = false;
    }

    /** PBSZ (RFC 2228 §3, RFC 4217 §9): TLS is a stream, so the only size is 0. */
    Reply protectionBufferSize(String arg) {
        if (!tls) {
            return Reply.of(503, "Security data exchange not completed (send AUTH first).");
        }
        if (!arg.trim().matches("[0-9]{1,10}")) {
            return Reply.of(501, "PBSZ needs a decimal number (PBSZ 0).");
        }
        bufferSizeSet = true;
        return Reply.of(200, "PBSZ=0");
    }

    /** PROT (RFC 2228 §3, RFC 4217 §9): P or C for the client's side of the data connections that follow. */
    Reply protection(String arg, TlsPolicy policy, boolean loggedIn) {
        if (!tls) {
            return Reply.of(503, "Security data exchange not completed (send AUTH first).");
        }
        if (!bufferSizeSet) {
            return Reply.of(503, "PBSZ must come before PROT (send PBSZ 0).");
        }
        String level = arg.trim().toUpperCase(Locale.ROOT);
        return switch (level) {
            case "P" -> {
                protectData = true;
                yield Reply.of(200, "Protection level set to P (data connections use TLS).");
            }
            case "C" -> {
                if (loggedIn && policy.dataNeedsTls()) {
                    yield Reply.of(534, "PROT C refused: data connections must be protected here.");
                }
                protectData = false;
                yield Reply.of(200, "Protection level set to C (data connections in clear text).");
            }
            // RFC 4217 §9: TLS offers Private or Clear only; RFC 2228: 536 for a level the mechanism lacks.
            case "S", "E" -> Reply.of(536, "PROT " + level + " is not supported with TLS; use P or C.");
            default -> Reply.of(504, "Unknown protection level '" + Printable.of(arg, 20) + "'; use P or C.");
        };
    }

    /** CCC (RFC 4217 §5): 533 when the control connection is not protected, 534: it stays protected. */
    Reply clearCommandChannel() {
        return tls ? Reply.of(534, "CCC refused: the control connection stays protected.")
                : Reply.of(533, "The control connection is not protected.");
    }

    /**
     * USER: a refusal when the policy wants the login protected and it is not. SECURITY: refused at USER,
     * before the password is sent in clear text (RFC 4217 §10.1), and before any backend is chosen.
     */
    Reply user(TlsPolicy policy) {
        if (!tls && policy.loginNeedsTls()) {
            return Reply.of(530, "TLS required: send AUTH TLS before logging in.");
        }
        return null;
    }

    /**
     * PASV, EPSV, PORT, EPRT: a refusal when the policy wants data protected and PROT is C. SECURITY: the data
     * connection would carry the file in clear text; refusing to set it up keeps the policy without waiting
     * for the transfer command (RFC 4217 §10.2 and §11: 521 for a data channel the PROT level does not allow).
     */
    Reply dataChannel(TlsPolicy policy) {
        if (!protectData && policy.dataNeedsTls()) {
            return Reply.of(521, "Data connection cannot be opened with this PROT setting: send PBSZ 0 and PROT P.");
        }
        return null;
    }

    /**
     * REIN (RFC 959 §4.1.1, RFC 4217 §9: PROT lasts until REIN): data protection starts afresh; TLS on the
     * control connection stays on (as at ferry server: a policy that requires TLS must not be undone by one
     * command, although RFC 4217 §13 would clear it).
     */
    void reinitialize() {
        bufferSizeSet = implicit;
        protectData = implicit;
    }
}
