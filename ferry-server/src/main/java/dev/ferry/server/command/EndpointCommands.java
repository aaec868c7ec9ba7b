package dev.ferry.server.command;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.ActiveTarget;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.server.ServerContext;
import dev.ferry.server.data.DataEndpoint;
import dev.ferry.server.data.PassiveListener;
import dev.ferry.server.log.SessionEvents;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * PORT, EPRT, PASV and EPSV: where the next data connection comes from. Each replaces the endpoint set
 * before; the transfer that follows uses it once. ABOR without a transfer lands here too (it drops the
 * endpoint).
 */
public final class EndpointCommands {


    private static final Reply ACTIVE_DISABLED = Reply.of(502, "Active mode is disabled on this server; use PASV or EPSV.");
    private static final Reply PASV_AFTER_EPSV_ALL = Reply.of(501, "PASV refused: EPSV ALL is in effect (RFC 2428 §4).");
    private static final Reply EPSV_ALL_ACCEPTED = Reply.of(200, "EPSV ALL accepted.");
    private static final Reply EPSV_SYNTAX = Reply.of(501, "Syntax: EPSV [1|2|ALL].");
    private static final Reply NOTHING_TO_ABORT = Reply.of(225, "No transfer to abort.");

    private final ServerContext ctx;
    private final SessionState state;
    private final SessionEvents log;
    /** The client, for the PASV address choice. */
    private final InetAddress client;
    /** Where data connections go to and come from: the client, or the trusted proxy that relays them. */
    private final InetAddress dataPeer;
    /** The server address the client reached: passive listeners bind there. */
    private final InetAddress local;

    public EndpointCommands(ServerContext ctx, SessionState state, SessionEvents log, InetAddress client,
                            InetAddress dataPeer, InetAddress local) {
        this.ctx = ctx;
        this.state = state;
        this.log = log;
        this.client = client;
        this.dataPeer = dataPeer;
        this.local = local;
    }

    public Reply port(String arg) {
        Reply refused = refuseActive("PORT");
        return refused != null ? refused : setActive("PORT", arg, ActiveTarget.port(arg, dataPeer));
    }

    public Reply eprt(String arg) {
        Reply refused = refuseActive("EPRT");
        return refused != null ? refused : setActive("EPRT", arg, ActiveTarget.eprt(arg, dataPeer));
    }

    private Reply refuseActive(String verb) {
        if (state.epsvAll()) {
            return Reply.of(501, verb + " refused: EPSV ALL is in effect (RFC 2428 §4).");
        }
        if (!ctx.settings().allowActiveMode()) {
            return ACTIVE_DISABLED;
        }
        return null;
    }

    /** The bounce and privileged-port rules are ActiveTarget's (RFC 2577 §3); through a trusted proxy the
     * peer is the proxy, which rewrote PORT/EPRT to a listener of its own. */
    private Reply setActive(String verb, String arg, ActiveTarget.Result result) {
        return switch (result) {
            case ActiveTarget.Result.Accepted a -> {
                state.endpoint(new DataEndpoint.Active(a.target()));
                yield Replies.endpointSet(verb);
            }
            case ActiveTarget.Result.Refused r -> {
                if (r.reason() != ActiveTarget.Reason.SYNTAX && r.reason() != ActiveTarget.Reason.NETWORK_PROTOCOL) {
                    log.info("active-refused").with("verb", verb).with("arg", Printable.of(arg, Replies.ECHO_LIMIT))
                            .with("reason", r.reason().label()).log();
                }
                yield r.reply();
            }
        };
    }

    public Reply pasv() throws IOException {
        if (state.epsvAll()) {
            return PASV_AFTER_EPSV_ALL;
        }
        Inet4Address advertised = ctx.passiveAddressing().advertise(client, local);
        if (advertised == null) {
            return Replies.PASV_NEEDS_IPV4;
        }
        PassiveListener listener = openListener();
        if (listener == null) {
            return Replies.NO_PASSIVE_PORT;
        }
        return Reply.of(227, HostPort.format227(advertised, listener.port()));
    }

    /** EPSV [1|2|ALL] (RFC 2428 §3, §4). */
    public Reply epsv(String arg) throws IOException {
        int family = HostPort.protocolNumber(local);
        if (arg != null) {
            String a = arg.trim();
            if (a.equalsIgnoreCase("ALL")) {
                state.epsvAll(true);
                return EPSV_ALL_ACCEPTED;
            }
            if (!a.equals("1") && !a.equals("2")) {
                return a.matches("\\d{1,5}")
                        ? Reply.of(522, "Network protocol not supported, use (" + family + ")")
                        : EPSV_SYNTAX;
            }
            if (Integer.parseInt(a) != family) {
                return Reply.of(522, "Network protocol not supported, use (" + family + ")");
            }
        }
        PassiveListener listener = openListener();
        if (listener == null) {
            return Replies.NO_PASSIVE_PORT;
        }
        return Reply.of(229, HostPort.format229(listener.port()));
    }

    private PassiveListener openListener() throws IOException {
        // The last transfer's listener, on the same port, when it can serve again (PassiveListener.reuse): no
        // new socket, bind, listen and close per file for a client fetching many.
        PassiveListener listener = state.reusablePassive();
        state.discardEndpoint();
        if (listener == null) {
            listener = ctx.passivePorts().open(local);
        }
        if (listener == null) {
            log.info("passive-exhausted").with("range", ctx.passivePorts().size()).log();
            return null;
        }
        Duration timeout = ctx.settings().passive().acceptTimeout();
        state.endpoint(new DataEndpoint.Passive(listener, System.nanoTime() + timeout.toNanos()));
        return listener;
    }

    /** ABOR with no transfer running (RFC 959 §4.1.3: 225): the endpoint set up is dropped. */
    public Reply abortIdle() {
        state.discardEndpoint();
        return NOTHING_TO_ABORT;
    }

    /** For STAT: the endpoint the next transfer would use. */
    public List<String> describe() {
        return switch (state.endpoint()) {
            case null -> List.of("No data connection set up.");
            case DataEndpoint.Passive p -> List.of("Passive mode: listening on port " + p.listener().port() + ".");
            case DataEndpoint.Active a -> List.of("Active mode: will connect to " + a.target().toSocketAddress() + ".");
        };
    }
}
