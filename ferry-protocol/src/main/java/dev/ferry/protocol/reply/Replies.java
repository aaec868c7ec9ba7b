package dev.ferry.protocol.reply;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import java.net.InetSocketAddress;

/**
 * The reply texts that server and balancer both send, written once so that a client hears the same words
 * from either (a balancer answers some commands itself and forwards the rest to a Ferry server). Replies
 * are immutable values, so the fixed ones are shared constants; a reply that echoes client text is a
 * factory that makes the text safe ({@link Printable}) and bounded.
 *
 * <p>Grouped as a session meets them: the command line, login, session ends (421), the data connection,
 * and the FTPS control state of RFC 2228 and RFC 4217 (used by {@code ftps.ControlProtection}).
 */
public final class Replies {

    private Replies() {}

    /** How much client text a reply echoes (a verb, a mechanism, a protection level). */
    public static final int ECHO_LIMIT = 64;

    // The command line (RFC 959 §4.2: 500 for a line that is no command, 501 for bad arguments)

    public static final Reply EMPTY_COMMAND = Reply.of(500, "Empty command.");
    // RFC 2640 §3.1: the control connection is UTF-8.
    public static final Reply BAD_UTF8 = Reply.of(501, "Command is not valid UTF-8 (RFC 2640).");

    /** An unknown verb; {@code name} is already safe (the parser trims and filters it). */
    public static Reply unknownCommand(String name) {
        return Reply.of(500, "'" + name + "': command not understood.");
    }

    /** A line longer than the daemon's limit (a named setting), refused without being read further. */
    public static Reply lineTooLong(int limitBytes) {
        return Reply.of(500, "Command line too long (limit " + limitBytes + " bytes).");
    }

    // Login and the commands every daemon answers the same way (RFC 959 §4.1)

    public static final Reply PLEASE_LOG_IN = Reply.of(530, "Please log in with USER and PASS first.");
    public static final Reply LOGIN_WITH_USER_FIRST = Reply.of(503, "Login with USER first.");
    // RFC 959 §4.1.1: 202, "command not implemented, superfluous at this site".
    public static final Reply ACCT_NOT_NEEDED = Reply.of(202, "ACCT not needed at this site.");
    // RFC 959 §4.1.1 REIN: "220 Service ready for new user".
    public static final Reply READY_FOR_NEW_USER = Reply.of(220, "Service ready for new user.");
    public static final Reply GOODBYE = Reply.of(221, "Goodbye.");
    // RFC 959 §4.1.3 SYST with the system name of the Assigned Numbers list; clients read "UNIX" and "L8".
    public static final Reply SYSTEM_TYPE = Reply.of(215, "UNIX Type: L8");
    public static final Reply NOOP_OK = Reply.of(200, "NOOP ok.");
    // RFC 7151 §3.
    public static final Reply HOST_ACCEPTED = Reply.of(220, "Host accepted.");
    public static final Reply HOST_AFTER_USER = Reply.of(503, "HOST must come before USER.");
    public static final Reply HOST_SYNTAX = Reply.of(501, "HOST needs a domain name or an address literal.");
    // RFC 2640 §3.1: path names are always UTF-8 at Ferry.
    public static final Reply UTF8_ALWAYS_ON = Reply.of(200, "UTF8 mode is always on.");
    public static final Reply UTF8_CANNOT_BE_OFF = Reply.of(504, "UTF8 mode cannot be turned off.");
    public static final Reply UTF8_SYNTAX = Reply.of(501, "Syntax: OPTS UTF8 ON.");

    // The session ends: 421, "closing control connection" (RFC 959 §4.2)

    public static final Reply IDLE_TIMEOUT = Reply.of(421, "Idle timeout; closing the connection.");
    public static final Reply LOGIN_TIMEOUT = Reply.of(421, "Login timeout; closing the connection.");
    public static final Reply TOO_MANY_USERS = Reply.of(421, "Too many users connected; try again later.");
    public static final Reply TOO_MANY_FROM_ADDRESS =
            Reply.of(421, "Too many connections from your address; try again later.");
    public static final Reply SHUTTING_DOWN = Reply.of(421, "Server is shutting down; closing the connection.");

    // The data connection

    public static final Reply NO_PASSIVE_PORT = Reply.of(425, "No passive port available; try again later.");
    // RFC 959's 227 carries an IPv4 address only; RFC 2428 §3 EPSV carries none.
    public static final Reply PASV_NEEDS_IPV4 = Reply.of(425, "PASV needs IPv4; use EPSV on this connection.");
    public static final Reply DATA_CONNECTION_LOST = Reply.of(426, "Data connection lost; transfer aborted.");
    public static final Reply DATA_CONNECTION_TIMED_OUT = Reply.of(426, "Data connection timed out; transfer aborted.");
    // RFC 4217 §10.2: 522 when the TLS negotiation on the data connection failed or was unacceptable.
    public static final Reply DATA_TLS_FAILED = Reply.of(522, "TLS negotiation on the data connection failed.");
    public static final Reply DATA_TLS_NOT_RESUMED = Reply.of(522, "The data connection must resume the control "
            + "connection's TLS session (TLS session reuse is required).");

    /** PORT, EPRT or PASV after EPSV ALL (RFC 2428 §4: the client promised to use EPSV only). */
    public static Reply epsvAllInEffect(String verb) {
        return Reply.of(501, verb + " refused: EPSV ALL is in effect (RFC 2428 §4).");
    }

    /** PORT or EPRT accepted (RFC 959 §4.2: 200). */
    public static Reply endpointSet(String verb) {
        return Reply.of(200, verb + " command successful.");
    }

    /** An active-mode connection to the client's port that could not be made, the target as operators write it. */
    public static Reply cannotOpenDataConnection(InetSocketAddress target) {
        return Reply.of(425, "Cannot open data connection to " + HostPort.text(target) + ".");
    }

    // FTPS: AUTH, PBSZ, PROT, CCC (RFC 2228 §3, RFC 4217)

    // RFC 2228 §3: 502 when the command is known and the security extensions are not offered.
    public static final Reply TLS_NOT_AVAILABLE = Reply.of(502, "TLS is not available on this server.");
    public static final Reply TLS_ALREADY_ACTIVE = Reply.of(503, "TLS is already active on this connection.");
    public static final Reply TLS_ENDED_BY_CCC =
            Reply.of(503, "TLS was ended by CCC on this connection; connect again to protect it.");
    public static final Reply AUTH_AFTER_USER =
            Reply.of(503, "AUTH TLS must come before USER; reconnect and send AUTH TLS first.");
    public static final Reply NOTHING_MAY_FOLLOW_AUTH =
            Reply.of(503, "Nothing may follow AUTH before the TLS handshake; send AUTH on its own.");
    // RFC 2228 §3 and RFC 4217 §9: PBSZ needs a completed security data exchange, PROT a PBSZ.
    public static final Reply SECURITY_EXCHANGE_NOT_COMPLETED =
            Reply.of(503, "Security data exchange not completed (send AUTH first).");
    public static final Reply PBSZ_SYNTAX = Reply.of(501, "PBSZ needs a decimal number (PBSZ 0).");
    // RFC 2228 §3: a server that wants a smaller buffer answers "PBSZ=" its size; for TLS that is 0 (RFC 4217 §9).
    public static final Reply PBSZ_ZERO = Reply.of(200, "PBSZ=0");
    public static final Reply PBSZ_BEFORE_PROT = Reply.of(503, "PBSZ must come before PROT (send PBSZ 0).");
    // RFC 4217 §5: no PBSZ or PROT after CCC. The texts say §6, a slip (§6 is FEAT) that ferry-it's
    // FtpsCccTest pins word for word: corrected together with that test, not here alone.
    public static final Reply PBSZ_AFTER_CCC = Reply.of(503, "PBSZ cannot change after CCC (RFC 4217 §6).");
    public static final Reply PROT_AFTER_CCC = Reply.of(503,
            "PROT cannot change after CCC (RFC 4217 §6): data connections keep the current level.");
    public static final Reply PROTECTION_PRIVATE = Reply.of(200, "Protection level set to P (data connections use TLS).");
    public static final Reply PROTECTION_CLEAR =
            Reply.of(200, "Protection level set to C (data connections in clear text).");
    public static final Reply PROT_C_REFUSED = Reply.of(534, "PROT C refused: data connections must be protected here.");
    // RFC 4217 §5: 533 when the control connection is not protected, 534 when it must stay so.
    public static final Reply CONTROL_NOT_PROTECTED = Reply.of(533, "The control connection is not protected.");
    public static final Reply CCC_REFUSED = Reply.of(534, "CCC refused: the control connection stays protected.");
    public static final Reply CCC_BEFORE_LOGIN = Reply.of(534, "CCC refused before login: log in first.");
    public static final Reply NOTHING_MAY_FOLLOW_CCC =
            Reply.of(503, "Nothing may follow CCC before the TLS shutdown; send CCC on its own.");
    public static final Reply CCC_ACCEPTED = Reply.of(200, "CCC accepted; the control connection continues in clear text.");
    // RFC 4217 §10.1: a policy may deny USER and PASS before TLS.
    public static final Reply TLS_REQUIRED_FOR_LOGIN = Reply.of(530, "TLS required: send AUTH TLS before logging in.");
    // RFC 4217 §10.2: "521 data connection cannot be opened with this PROT setting".
    public static final Reply DATA_PROTECTION_REQUIRED =
            Reply.of(521, "Data connection cannot be opened with this PROT setting: send PBSZ 0 and PROT P.");

    /** AUTH accepted (RFC 2228 §3: 234, the security data exchange follows at once). */
    public static Reply authAccepted(String mechanism) {
        return Reply.of(234, "AUTH " + mechanism + " accepted; expecting the TLS handshake.");
    }

    /** A mechanism other than TLS (RFC 2228 §3: 504, "command not implemented for that parameter"). */
    public static Reply authNotSupported(String argument) {
        return Reply.of(504, "AUTH " + Printable.of(argument, ECHO_LIMIT) + " is not supported; use AUTH TLS.");
    }

    /** PROT S or E (RFC 4217 §9: TLS offers P and C only; RFC 2228 §3: 536 for a level the mechanism lacks). */
    public static Reply protectionLevelNotWithTls(String level) {
        return Reply.of(536, "PROT " + Printable.of(level, ECHO_LIMIT) + " is not supported with TLS; use P or C.");
    }

    /** A PROT argument that is no level of RFC 2228 §3 (504). */
    public static Reply unknownProtectionLevel(String argument) {
        return Reply.of(504, "Unknown protection level '" + Printable.of(argument, ECHO_LIMIT) + "'; use P or C.");
    }
}
