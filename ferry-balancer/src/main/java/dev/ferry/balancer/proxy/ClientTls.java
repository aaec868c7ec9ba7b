package dev.ferry.balancer.proxy;

import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.TlsEndpoint;
import java.io.IOException;
import javax.net.ssl.SSLSession;

/**
 * TLS between the client and the balancer (docs/ftps.md): the control connection's handshake, after 234 or first
 * thing on the implicit listener, and the endpoint the client's data connections use while PROT P holds.
 */
final class ClientTls {

    private final BalancerContext ctx;
    private final SessionFacts facts;
    private final Connection client;
    /** Bounds the handshake: it shuts the connection when the handshake timeout passes. */
    private final Watchdog.Guard guard;
    private final ControlProtection protection;
    private final boolean implicit;
    /** The balancer's certificate as the session found it, once the handshake is done. */
    private volatile TlsEndpoint endpoint;

    ClientTls(BalancerContext ctx, SessionFacts facts, Connection client, Watchdog.Guard guard,
              ControlProtection protection, boolean implicit) {
        this.ctx = ctx;
        this.facts = facts;
        this.client = client;
        this.guard = guard;
        this.protection = protection;
        this.implicit = implicit;
    }

    /** The handshake, bounded by the handshake timeout; false (logged) when it failed: the session ends. */
    boolean start() {
        TlsEndpoint tls = ctx.tls().server();
        guard.arm(ctx.settings().tls().handshakeTimeout());
        try {
            client.startTls(tls.controlEngine());
        } catch (IOException | RuntimeException e) {
            facts.ending("tls-failed");
            facts.log.info("tls-failed").with("error", Printable.of(String.valueOf(e.getMessage()), 160)).log();
            return false;
        } finally {
            guard.disarm();
        }
        endpoint = tls;
        protection.tlsStarted();
        SSLSession session = client.tlsSession();
        Event line = facts.log.info("tls").with("protocol", session.getProtocol()).with("cipher", session.getCipherSuite());
        if (implicit) {
            line.with("implicit", true);
        }
        line.log();
        return true;
    }

    /** The TLS the client's data connections speak now (PROT P), or null (PROT C: clear). */
    TlsEndpoint forData() {
        return protection.protectData() ? endpoint : null;
    }
}
