package dev.ferry.balancer.check;

import dev.ferry.balancer.BalancerSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;

/**
 * One kind of health check, run once against one backend. A probe answers with an {@link Outcome}
 * for what the backend said (a wrong reply is a value, not an exception) and throws only for I/O:
 * refused, reset, closed early, or a deadline passed. One class per check type.
 */
interface Probe {

    /**
     * What the backend did: passed or not, a short description of why (never a password), and the features
     * its FEAT listed ({@link dev.ferry.balancer.backend.Features#offered}), null when the check did not learn them.
     */
    record Outcome(boolean ok, String detail, List<String> features) {
        static Outcome passed(String detail) { return new Outcome(true, detail, null); }
        static Outcome passed(String detail, List<String> features) { return new Outcome(true, detail, features); }
        static Outcome failed(String detail) { return new Outcome(false, detail, null); }
    }

    /** Runs the check; every connect, read and wait ends by {@code deadline}. */
    Outcome run(InetSocketAddress backend, Instant deadline) throws IOException;

    /** A probe of {@code check}'s type that starts each connection with the header {@code proxyProtocol} asks for. */
    /** {@code tls}: FTPS to the backends (for the login check), or null. */
    static Probe of(BalancerSettings.Check check, BalancerSettings.ProxyProtocol proxyProtocol,
                    dev.ferry.balancer.tls.BackendTlsClient tls) {
        return of(check, proxyProtocol, null, tls);
    }

    /** As above, connecting from {@code source} (the balancer's {@code source} setting), or from where routing picks when null. */
    static Probe of(BalancerSettings.Check check, BalancerSettings.ProxyProtocol proxyProtocol, InetAddress source,
                    dev.ferry.balancer.tls.BackendTlsClient tls) {
        CheckHeader header = CheckHeader.of(proxyProtocol);
        return switch (check.type()) {
            case TCP -> new TcpProbe(header, source);
            case FTP -> new FtpProbe(header, source);
            case FTP_LOGIN -> new FtpLoginProbe(header, source, check.user(), check.password(), tls);
        };
    }
}
