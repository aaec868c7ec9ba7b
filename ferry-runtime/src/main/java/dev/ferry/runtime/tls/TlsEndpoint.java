package dev.ferry.runtime.tls;

import dev.ferry.runtime.tls.SessionReuse;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.spec.PBEParameterSpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * The server side of FTPS on the JDK's TLS stack: one {@link SSLContext} holding the server's identity,
 * and the engines made from it for control and data connections.
 *
 * <p>Only TLS 1.3 and 1.2 are enabled, and of 1.2 only forward-secret AEAD suites (ECDHE with AES-GCM or
 * ChaCha20-Poly1305); the server's order of preference wins. Clients are not asked for certificates.
 *
 * <p>Session reuse: control and data engines come from the same context, so a data connection can resume
 * the control connection's session (the JDK issues stateless tickets for TLS 1.2 and 1.3). With
 * {@link SessionReuse#OFF} data engines come from a second context that shares nothing with the first, so
 * every data connection makes a full handshake.
 */
public final class TlsEndpoint {

    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /** The JDK's switch for refusing a TLS 1.2 client's request to renegotiate (TLS 1.3 has no renegotiation). */
    static final String REJECT_RENEGOTIATION = "jdk.tls.rejectClientInitiatedRenegotiation";

    static {
        // SECURITY: a client may ask for a new TLS 1.2 handshake at any time on a connection it holds, before
        // login too, and each one costs the server a key exchange (30 on one connection cost 1.1 s of CPU): a
        // cheap way to load the server (CVE-2011-1473). No FTP client renegotiates; such a request ends its
        // connection. The JDK reads the switch once, when its first server handshake runs, so it is set before
        // any engine of this class exists; an operator's own -D setting is kept. The launcher sets it too.
        if (System.getProperty(REJECT_RENEGOTIATION) == null) {
            System.setProperty(REJECT_RENEGOTIATION, "true");
        }
    }

    private final TlsIdentity identity;
    private final SessionReuse reuse;
    private final SSLContext control;
    private final SSLContext data;
    private final String[] protocols;
    private final String[] cipherSuites;

    private TlsEndpoint(TlsIdentity identity, SessionReuse reuse) throws IOException {
        this.identity = identity;
        this.reuse = reuse;
        this.control = context(identity);
        this.data = reuse == SessionReuse.OFF ? context(identity) : control;
        SSLParameters supported = control.getSupportedSSLParameters();
        this.protocols = intersect(PROTOCOLS, supported.getProtocols());
        this.cipherSuites = intersect(CIPHER_SUITES, supported.getCipherSuites());
    }

    /** Whether this JVM refuses client-initiated renegotiation (an operator's -D...=false turns it back on). */
    public static boolean refusesRenegotiation() {
        return Boolean.parseBoolean(System.getProperty(REJECT_RENEGOTIATION));
    }

    public static TlsEndpoint create(TlsIdentity identity, SessionReuse reuse) throws IOException {
        return new TlsEndpoint(identity, reuse);
    }

    public TlsIdentity identity() {
        return identity;
    }

    public SessionReuse reuse() {
        return reuse;
    }

    /** A server-mode engine for a control connection (explicit AUTH TLS or the implicit listener). */
    public SSLEngine controlEngine() {
        return configure(control.createSSLEngine());
    }

    /** A server-mode engine for a protected (PROT P) data connection. */
    public SSLEngine dataEngine() {
        return configure(data.createSSLEngine());
    }

    private SSLEngine configure(SSLEngine engine) {
        engine.setUseClientMode(false);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(protocols);
        parameters.setCipherSuites(cipherSuites);
        parameters.setUseCipherSuitesOrder(true);
        parameters.setNeedClientAuth(false);
        engine.setSSLParameters(parameters);
        return engine;
    }

    /**
     * Whether the data connection's session resumed the control connection's. The JDK's API has no
     * "resumed" flag; a resumed session keeps the creation time of the session it resumes, while a full
     * handshake creates its session while it runs, never before {@code dataHandshakeStartMillis}. Equal
     * creation times from before the data handshake therefore mean resumption (possibly through a ticket
     * issued on an earlier data connection, which carries the same creation time).
     */
    public static boolean resumes(SSLSession dataSession, SSLSession controlSession, long dataHandshakeStartMillis) {
        return controlSession != null
                && dataSession.getCreationTime() == controlSession.getCreationTime()
                && dataSession.getCreationTime() < dataHandshakeStartMillis
                && dataSession.getProtocol().equals(controlSession.getProtocol());
    }

    /** PKCS12's default key protection algorithm (JDK 12+), at one iteration for the in-memory store below. */
    private static final String IN_MEMORY_KEY_PROTECTION = "PBEWithHmacSHA256AndAES_256";

    private static SSLContext context(TlsIdentity identity) throws IOException {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = new char[0];
            // The store lives in memory only and is never written, so the key's password protection inside it guards
            // nothing. PKCS12's default (PBKDF2, 10,000 iterations) ran twice per context at start, in cold code: a
            // fifth of a server start's CPU (JFR). One iteration keeps the same store.
            byte[] salt = new byte[16];
            new SecureRandom().nextBytes(salt);
            store.setEntry("ferry", new KeyStore.PrivateKeyEntry(identity.key(), identity.chain().toArray(X509Certificate[]::new)),
                    new KeyStore.PasswordProtection(password, IN_MEMORY_KEY_PROTECTION, new PBEParameterSpec(salt, 1)));
            // SunX509 takes the key out of the store once, here. PKIX's key manager reads it from the store on every
            // handshake (decrypting the entry each time: 4-5 ms of CPU per handshake at the default protection, most
            // of an FTPS small file; docs/performance.md, FTPS). With one identity PKIX's choice among several
            // certificates has nothing to choose from.
            KeyManagerFactory keys = KeyManagerFactory.getInstance("SunX509");
            keys.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IOException("tls: cannot set up TLS with this certificate and key: " + e.getMessage(), e);
        }
    }

    private static String[] intersect(List<String> wanted, String[] supported) {
        List<String> available = Arrays.asList(supported);
        List<String> result = new ArrayList<>();
        for (String w : wanted) {
            if (available.contains(w)) {
                result.add(w);
            }
        }
        return result.toArray(String[]::new);
    }
}
