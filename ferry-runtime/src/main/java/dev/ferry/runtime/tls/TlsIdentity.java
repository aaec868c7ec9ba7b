package dev.ferry.runtime.tls;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;

/**
 * What the server proves itself with: a private key and its certificate chain (leaf first), checked once
 * at start-up.
 *
 * <p>Where it comes from, in order: a PEM chain and PEM key, a PKCS#12 keystore (a certificate file that is
 * not PEM, with no key file), or a self-signed certificate kept in {@code selfSignedDirectory} (made on the
 * first start, reused afterwards) or, with no directory, made in memory for this run. A missing file, an
 * expired or not yet valid certificate and a key that does not belong to the certificate stop the start
 * with a message naming the file.
 *
 * @param origin   how it was obtained, for the start-up line: "file", "self-signed (new)", "self-signed (reused)",
 *                 "self-signed (in memory)"
 */
public record TlsIdentity(PrivateKey key, List<X509Certificate> chain, String origin, boolean selfSigned) {

    /** Environment variable holding the keystore's (or encrypted key's) password when no password file is set. */
    public static final String PASSWORD_VARIABLE = "FERRY_TLS_PASSWORD";

    public TlsIdentity {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("empty certificate chain");
        }
    }

    public X509Certificate certificate() {
        return chain.getFirst();
    }

    /** SHA-256 of the leaf certificate, as curl's --pinnedpubkey does not use but browsers and openssl show: SHA256:AB:CD:... */
    public String fingerprint() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate().getEncoded());
            return "SHA256:" + HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** Loads (or makes) the identity the settings describe. */
    public static TlsIdentity load(IdentityFiles tls, InetSocketAddress listen, Clock clock) throws IOException {
        char[] password = password(tls.passwordFile());
        if (tls.certificate() == null) {
            if (tls.key() != null) {
                throw new IOException("tls: a key file (" + tls.key() + ") needs its certificate file too");
            }
            return SelfSigned.obtain(tls.selfSignedDirectory(), listen, clock);
        }
        TlsIdentity identity;
        if (tls.key() != null) {
            identity = new TlsIdentity(PemFiles.privateKey(tls.key(), password), PemFiles.certificates(tls.certificate()),
                    "file", false);
        } else if (PemFiles.looksLikePem(tls.certificate())) {
            throw new IOException("tls: " + tls.certificate() + " is a PEM file: give its private key with --tls-key "
                    + "(server.tls.key), or give a PKCS#12 keystore instead");
        } else {
            identity = Keystores.load(tls.certificate(), password);
        }
        identity.check(clock, tls.certificate().toString());
        return identity;
    }

    /**
     * The start-up checks: the leaf certificate is valid now, and the key is the certificate's
     * (a signature made with the key verifies with the certificate's public key).
     */
    void check(Clock clock, String where) throws IOException {
        X509Certificate leaf = certificate();
        java.util.Date now = java.util.Date.from(clock.instant());
        if (now.after(leaf.getNotAfter())) {
            throw new IOException("tls: the certificate in " + where + " expired on " + leaf.getNotAfter().toInstant()
                    + " (subject " + leaf.getSubjectX500Principal().getName() + "); renew it");
        }
        if (now.before(leaf.getNotBefore())) {
            throw new IOException("tls: the certificate in " + where + " is not valid before "
                    + leaf.getNotBefore().toInstant() + " (check the clock)");
        }
        if (!KeyPairs.matches(key, leaf.getPublicKey())) {
            throw new IOException("tls: the private key does not belong to the certificate in " + where
                    + " (subject " + leaf.getSubjectX500Principal().getName() + ")");
        }
    }

    /** The password from the file's first line, else the environment, else none (an empty one). */
    private static char[] password(Path file) throws IOException {
        if (file != null) {
            if (!Files.isReadable(file)) {
                throw new IOException("tls: cannot read the password file " + file);
            }
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return lines.isEmpty() ? new char[0] : lines.getFirst().toCharArray();
        }
        String fromEnvironment = System.getenv(PASSWORD_VARIABLE);
        return fromEnvironment == null ? new char[0] : fromEnvironment.toCharArray();
    }
}
