package dev.ferry.balancer.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The balancer as a TLS client of its backends (FTPS to the servers behind a terminating balancer).
 *
 * <p>Session reuse: the JDK's client keeps sessions (and TLS 1.3 tickets) per peer host and port as given
 * to {@link SSLContext#createSSLEngine(String, int)}. Control and data engines of one backend are made
 * with the backend's <em>control</em> address, so a data connection offers the session of its control
 * connection, which is what servers that require reuse (vsftpd's require_ssl_reuse, ferry server's
 * session-reuse required) check.
 *
 * <p>Trust: with a PEM file of trusted certificates, a backend's chain must lead to one of them (no host
 * name check: backends are usually named by address, and the file names exactly the certificates the
 * operator trusts). Without one, backends are not verified at all: the link to them is encrypted but
 * not authenticated, which the balancer logs once at start-up.
 */
public final class BackendTlsClient {

    private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private final SSLContext context;
    private final boolean verifies;

    private BackendTlsClient(SSLContext context, boolean verifies) {
        this.context = context;
        this.verifies = verifies;
    }

    /** {@code trusted}: PEM certificates a backend's chain must lead to; null: no verification. */
    public static BackendTlsClient create(Path trusted) throws IOException {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trusted == null ? new TrustingEveryone() : trustManager(trusted)}, null);
            return new BackendTlsClient(context, trusted != null);
        } catch (GeneralSecurityException e) {
            throw new IOException("tls: cannot set up TLS to the backends: " + e.getMessage(), e);
        }
    }

    /** Whether backends' certificates are checked (false: encrypted, not authenticated). */
    public boolean verifies() {
        return verifies;
    }

    /** A client engine for a connection to the backend whose control connection goes to {@code control}. */
    public SSLEngine engine(InetSocketAddress control) {
        SSLEngine engine = context.createSSLEngine(control.getAddress().getHostAddress(), control.getPort());
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(PROTOCOLS.stream().filter(List.of(context.getSupportedSSLParameters().getProtocols())::contains)
                .toArray(String[]::new));
        engine.setSSLParameters(p);
        return engine;
    }

    /**
     * Puts a client TLS layer on a connected socket to a backend (a health check's control or data connection)
     * and runs the handshake. {@code control}: the backend's control address, under which the JDK caches the
     * session, so that a data connection resumes the control connection's session as backends may require.
     */
    public javax.net.ssl.SSLSocket socket(java.net.Socket plain, InetSocketAddress control) throws IOException {
        javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                .createSocket(plain, control.getAddress().getHostAddress(), control.getPort(), true);
        tls.setUseClientMode(true);
        tls.setEnabledProtocols(PROTOCOLS.stream().filter(List.of(context.getSupportedSSLParameters().getProtocols())::contains)
                .toArray(String[]::new));
        tls.startHandshake();
        return tls;
    }

    private static TrustManager trustManager(Path file) throws IOException, GeneralSecurityException {
        if (!Files.isReadable(file)) {
            throw new IOException("tls: cannot read the backends' trusted certificates " + file);
        }
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(file)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (java.security.cert.CertificateException e) {
            throw new IOException("tls: " + file + " holds no readable PEM certificate: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new IOException("tls: " + file + " holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)");
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        int i = 0;
        for (Certificate c : certificates) {
            store.setCertificateEntry("backend-ca-" + i++, c);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        return factory.getTrustManagers()[0];
    }

    /** No verification: chosen by leaving backend-ca out, and logged at start-up. */
    private static final class TrustingEveryone extends X509ExtendedTrustManager {
        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) { }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) { }
        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) { }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) { }
        @Override public void checkClientTrusted(X509Certificate[] chain, String authType) { }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType) { }
        @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
    }
}
