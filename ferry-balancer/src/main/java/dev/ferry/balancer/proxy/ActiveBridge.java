package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.BackendConnect;
import dev.ferry.balancer.backend.BackendReply;
import dev.ferry.balancer.data.Flow;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.ActiveTarget;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.log.SessionLog;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;

/**
 * A client's PORT/EPRT through the balancer. Backends never open a connection outward: the target is checked
 * ({@link ActiveTarget}, the server's rules), the backend is put in passive mode (PASV, or EPSV to an IPv6
 * backend), the client is told 200 once the backend has a port open, and when the transfer command has gone
 * out the balancer connects to the client's port and to the backend's and relays ({@link DataRoute}).
 *
 * <p>Threads: the client pump {@link #request requests} and reports {@link #commandSent}; the backend pump
 * reports the backend's port ({@link #ready}); whichever comes last starts the connector, on a thread of its own.
 */
final class ActiveBridge {

    private final SessionLog log;
    private final BalancerContext ctx;
    private final InetAddress client;
    /** The balancer's address the client reached: the data connection to the client leaves from it. */
    private final InetAddress local;
    private final InetSocketAddress backendAddress;
    private final PendingRoute pending;
    private final BackendCommands backend;
    private final SessionTransfers transfers;
    /** EPSV ALL went to the backend (RFC 2428 §4): PORT and EPRT are refused until REIN. Client pump only. */
    private boolean epsvAll;

    ActiveBridge(SessionLog log, BalancerContext ctx, InetAddress client, InetAddress local, InetSocketAddress backendAddress,
                 PendingRoute pending, BackendCommands backend, SessionTransfers transfers) {
        this.log = log;
        this.ctx = ctx;
        this.client = client;
        this.local = local;
        this.backendAddress = backendAddress;
        this.pending = pending;
        this.backend = backend;
        this.transfers = transfers;
    }

    /** The client sent EPSV ALL (RFC 2428 §4). */
    void epsvAll() {
        epsvAll = true;
    }

    /** REIN: EPSV ALL no longer holds. */
    void reinitialize() {
        epsvAll = false;
    }

    /**
     * PORT/EPRT from the client: checked, then passed to the backend as PASV/EPSV. Returns a reply to send
     * instead, or null when the backend was asked (its answer comes to {@link #ready}).
     */
    Reply request(Command c) throws IOException {
        if (epsvAll) {
            return Replies.epsvAllInEffect(c.verb().name());
        }
        ActiveTarget.Result checked = c.verb() == Verb.PORT
                ? ActiveTarget.port(c.argument(), client)
                : ActiveTarget.eprt(c.argument(), client);
        if (checked instanceof ActiveTarget.Result.Refused r) {
            if (r.reason() != ActiveTarget.Reason.SYNTAX) {
                ctx.refusals().log(level -> log.at(level, "active-refused").with("verb", c.verb())
                        .with("reason", r.reason().label()));
            }
            return r.reply();
        }
        HostPort target = ((ActiveTarget.Result.Accepted) checked).target();
        DataRoute route = pending.open(DataRoute.Mode.ACTIVE, c.verb(), target.toSocketAddress());
        boolean ipv6 = backendAddress.getAddress() instanceof Inet6Address;
        backend.send(ipv6 ? "EPSV" : "PASV", new Awaited(Awaited.Kind.ACTIVE, c.verb(), route));
        return null;
    }

    /**
     * The backend's answer to the balancer's PASV/EPSV for a client's PORT/EPRT: with a port, the client is
     * told 200 (RFC 959 §4.2: PORT's only success reply); an error is passed on as the PORT/EPRT's answer.
     */
    byte[] ready(BackendReply reply, Awaited a) throws BackendReply.Hostile {
        InetSocketAddress target = PassiveRewrite.backendPort(reply.code, reply.lines, backendAddress.getAddress());
        if (target == null) {
            log.info("active-failed").with("verb", a.verb).with("backend_reply", reply.code).log();
            return reply.code >= 400 ? reply.toBytes()
                    : Reply.of(425, a.verb + " failed: the server answered " + reply.code + ".").toBytes();
        }
        if (a.route.backendPort(target)) {
            start(a.route);
        }
        return Replies.endpointSet(a.verb.name()).toBytes();
    }

    /** The transfer command using {@code route} went to the backend (client pump). */
    void commandSent(DataRoute route) {
        if (route != null && route.commandSent()) {
            start(route);
        }
    }

    private void start(DataRoute route) {
        Thread.ofVirtual().start(() -> transfers.carry(route, flow -> connectClient(route, flow)));
    }

    /**
     * The client's side, once the transfer command went out: from the address the client reached, which a
     * multi-homed balancer's routing might not pick. A client that cannot be reached gets 425 and the backend's
     * side is reset at once, so the backend ends its transfer (426) without ever seeing a clean end.
     */
    private SocketChannel connectClient(DataRoute route, Flow flow) {
        try {
            return BackendConnect.data(ctx, route.clientTarget, local);
        } catch (IOException e) {
            log.info("data-connect-failed").with("side", "client").with("target", HostPort.text(route.clientTarget))
                    .with("error", e.getMessage()).log();
            route.fail(Replies.cannotOpenDataConnection(route.clientTarget));
            resetBackendData(route);
            flow.abandon("client unreachable");
            return null;
        }
    }

    /** Connects to the backend's data port and resets it: the backend's transfer ends now, as a failure. */
    private void resetBackendData(DataRoute route) {
        try {
            Flow.reset(BackendConnect.data(ctx, route.backendTarget(), ctx.source()));
        } catch (IOException e) {
            // Not reachable either: the backend gives up at its own accept timeout, and nothing was sent.
        }
    }
}
