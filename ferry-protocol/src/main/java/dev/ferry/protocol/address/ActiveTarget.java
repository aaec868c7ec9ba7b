package dev.ferry.protocol.address;

import dev.ferry.protocol.Reply;
import java.net.InetAddress;

/**
 * The PORT and EPRT rules (RFC 959 §4.1.2, RFC 2428 §2), once for every daemon that connects to a client's
 * data port: the argument's syntax, then the two trust checks of RFC 2577 §3 (no bounce, no privileged
 * port). Pure: the caller gives the argument and the address data connections must go to, and gets the
 * target or the refusal to send (with a reason for its log line).
 */
public final class ActiveTarget {

    private ActiveTarget() {}

    /** Why a target was refused, as a log line's {@code reason=} value. */
    public enum Reason {
        SYNTAX("syntax"), NETWORK_PROTOCOL("network-protocol"), FOREIGN_ADDRESS("foreign-address"),
        PRIVILEGED_PORT("privileged-port");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** The outcome: a target data connections may go to, or the reply that refuses it. */
    public sealed interface Result {
        record Accepted(HostPort target) implements Result {}
        record Refused(Reply reply, Reason reason) implements Result {}
    }

    /** Ports below this are the privileged ones of RFC 2577 §3 (well-known services). */
    public static final int FIRST_UNPRIVILEGED_PORT = 1024;

    /**
     * PORT h1,h2,h3,h4,p1,p2 from a client whose data connections go to {@code peer}: the client's own
     * address, or a trusted proxy's that relays them (it rewrites PORT/EPRT to an address of its own).
     */
    public static Result port(String argument, InetAddress peer) {
        HostPort target = HostPort.parsePort(argument);
        if (target == null) {
            return new Result.Refused(Reply.of(501, "Syntax: PORT h1,h2,h3,h4,p1,p2 (each 0-255)."), Reason.SYNTAX);
        }
        return check("PORT", target, peer);
    }

    /** EPRT |af|address|port| from a client whose data connections go to {@code peer} (see {@link #port}). */
    public static Result eprt(String argument, InetAddress peer) {
        String trimmed = argument.trim();
        // RFC 2428 §2: a well-formed EPRT with a network protocol the server does not support gets 522
        // naming the ones it does, so the client can retry with one of them.
        if (trimmed.length() > 3 && trimmed.charAt(1) != '1' && trimmed.charAt(1) != '2'
                && trimmed.charAt(2) == trimmed.charAt(0)) {
            return new Result.Refused(Reply.of(522, "Network protocol not supported, use (1,2)"),
                    Reason.NETWORK_PROTOCOL);
        }
        HostPort target = HostPort.parseEprt(argument);
        if (target == null) {
            return new Result.Refused(Reply.of(501, "Syntax: EPRT |1|a.b.c.d|port| or EPRT |2|ipv6|port|."),
                    Reason.SYNTAX);
        }
        return check("EPRT", target, peer);
    }

    /** The trust checks alone, for a target already parsed; {@code verb} names the command in the reply. */
    public static Result check(String verb, HostPort target, InetAddress peer) {
        // SECURITY: data connections only to the client's own address (RFC 2577 §3, the FTP bounce attack):
        // otherwise the daemon could be made to connect to, and send data to, any third party. An IPv4 client
        // on a dual-stack socket is ::ffff:a.b.c.d and sends PORT with a.b.c.d: the same host (HostPort.sameHost).
        if (!HostPort.sameHost(target.address(), peer)) {
            return new Result.Refused(Reply.of(501, verb + " refused: data connections go only to your own address."),
                    Reason.FOREIGN_ADDRESS);
        }
        // SECURITY: privileged ports are refused (RFC 2577 §3) so that a PORT cannot make the daemon talk to
        // a service on the client's host (SMTP, a login shell) with bytes the client chose.
        if (target.port() < FIRST_UNPRIVILEGED_PORT) {
            return new Result.Refused(Reply.of(501, verb + " refused: port " + target.port() + " is below 1024."),
                    Reason.PRIVILEGED_PORT);
        }
        return new Result.Accepted(target);
    }
}
