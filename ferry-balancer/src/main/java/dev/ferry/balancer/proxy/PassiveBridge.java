package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.BackendReply;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.log.SessionLog;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A client's PASV/EPSV through the balancer: the backend's 227/229 names a port on the backend's own host
 * (backends need no public address); the client is told a port of the balancer's own range instead
 * ({@link PassiveRewrite}), registered with {@link DataPorts} so that the client's data connection there is
 * {@link SessionTransfers#carry carried} to the backend's port.
 */
final class PassiveBridge {

    private final SessionLog log;
    private final BalancerContext ctx;
    private final InetAddress client;
    /** The balancer's address the client reached: a 227 advertises the public address chosen for it. */
    private final InetAddress local;
    private final InetAddress backendHost;
    private final PendingRoute pending;
    private final SessionTransfers transfers;

    PassiveBridge(SessionLog log, BalancerContext ctx, InetAddress client, InetAddress local, InetAddress backendHost,
                  PendingRoute pending, SessionTransfers transfers) {
        this.log = log;
        this.ctx = ctx;
        this.client = client;
        this.local = local;
        this.backendHost = backendHost;
        this.pending = pending;
        this.transfers = transfers;
    }

    /**
     * The backend's final reply to a client's PASV/EPSV ({@code a}), as the client gets it: a 227/229 rewritten
     * to the balancer's address and port; any other reply passed on.
     *
     * @throws BackendReply.Hostile a 227/229 that cannot be read (the session ends)
     */
    byte[] answer(BackendReply reply, Awaited a) throws IOException {
        DataRoute route = a.route;
        InetSocketAddress target = PassiveRewrite.backendPort(reply.code, reply.lines, backendHost);
        if (target == null) {
            return reply.toBytes();
        }
        if (route.replaced()) {
            // A later PASV/EPSV/PORT/EPRT came before this answer: nothing may connect through this one any more.
            return Reply.of(425, "Superseded by a later " + pending.verb() + "; use the port it gave.").toBytes();
        }
        boolean extended = a.verb == Verb.EPSV;
        Inet4Address advertised = extended ? null : ctx.addressing().advertise(client, local);
        if (!extended && advertised == null) {
            return Replies.PASV_NEEDS_IPV4.toBytes();
        }
        route.backendPort(target);
        long deadline = System.nanoTime() + ctx.settings().timeouts().data().toNanos();
        DataPorts.Route registration = new DataPorts.Route(client,
                dataConnection -> Thread.ofVirtual().start(() -> transfers.carry(route, flow -> dataConnection)),
                () -> log.info("data-expired").log(), deadline);
        int port = ctx.dataPorts().register(registration);
        if (port < 0) {
            log.info("passive-exhausted").log();
            return Replies.NO_PASSIVE_PORT.toBytes();
        }
        route.registered(port, registration);
        if (route.replaced()) {
            // Replaced while registering (the client pump runs on): the port must not stay taken.
            route.cancel(ctx.dataPorts());
        }
        return PassiveRewrite.toClient(extended, advertised, port).toBytes();
    }
}
