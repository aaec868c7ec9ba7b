package dev.ferry.balancer.tls;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.runtime.tls.TlsEndpoint;
import dev.ferry.runtime.tls.TlsIdentity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;

/**
 * TLS termination at the balancer: the server side that clients reach (the balancer's certificate, loaded
 * like ferry server's with {@link TlsIdentity#load}) and, with FTPS backends, the client side towards
 * the backends.
 *
 * <p>Reload: {@link #reload} loads the certificate files again and swaps the server side in one volatile
 * write. A session takes {@link #server()} once, when its control connection's handshake starts, and keeps
 * that object: its data connections come from the same context, so they can resume the control
 * connection's session, and they present the certificate the session started with.
 */
public final class BalancerTls {

    private final BalancerSettings.Tls settings;
    private final InetSocketAddress listen;
    private volatile TlsEndpoint server;
    private final BackendTlsClient backends;

    private BalancerTls(BalancerSettings.Tls settings, InetSocketAddress listen, TlsEndpoint server, BackendTlsClient backends) {
        this.settings = settings;
        this.listen = listen;
        this.server = server;
        this.backends = backends;
    }

    /** Null when the mode is not TERMINATE: the balancer holds no key then. */
    public static BalancerTls start(BalancerSettings.Tls settings, InetSocketAddress listen) throws IOException {
        if (settings.mode() != BalancerSettings.TlsMode.TERMINATE) {
            return null;
        }
        BackendTlsClient backends = settings.backends().ftps()
                ? BackendTlsClient.create(settings.backends().trustedCertificates()) : null;
        return new BalancerTls(settings, listen, serverSide(settings, listen), backends);
    }

    /** The certificate files read again; what was loaded before stays when they fail (the exception says why). */
    public void reload(BalancerSettings.Tls next) throws IOException {
        server = serverSide(next, listen);
    }

    private static TlsEndpoint serverSide(BalancerSettings.Tls tls, InetSocketAddress listen) throws IOException {
        return TlsEndpoint.create(TlsIdentity.load(tls.identityFiles(), listen, Clock.systemUTC()), tls.reuse());
    }

    /** The clients' side in force now (a reload replaces it for new sessions). */
    public TlsEndpoint server() {
        return server;
    }

    /** The backends' side, or null when the balancer speaks plain FTP to them. */
    public BackendTlsClient backends() {
        return backends;
    }

    /** As started (mode, listener, backend protocol need a restart; certificates follow {@link #reload}). */
    public BalancerSettings.Tls settings() {
        return settings;
    }
}
