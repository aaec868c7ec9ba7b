package dev.ferry.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates and keys for tests, made with Bouncy Castle (the same library the server reads them with). */
public final class TestCertificates {

    private TestCertificates() {}

    /** A key and its certificate chain, leaf first (what ferry-runtime's TlsIdentity is made from). */
    public record Identity(PrivateKey key, java.util.List<X509Certificate> chain) {
        public X509Certificate certificate() {
            return chain.get(0);
        }
    }

    /** A self-signed EC identity valid from {@code from} for {@code validity}. */
    public static Identity ec(Instant from, Duration validity) throws IOException {
        return identity("EC", from, validity);
    }

    /** A self-signed identity valid now for a year, of the given key algorithm ("EC" or "RSA"). */
    public static Identity fresh(String algorithm) throws IOException {
        return identity(algorithm, Instant.now().minusSeconds(60), Duration.ofDays(365));
    }

    static Identity identity(String algorithm, Instant from, Duration validity) throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            generator.initialize(algorithm.equals("RSA") ? 2048 : 256);
            KeyPair pair = generator.generateKeyPair();
            return new Identity(pair.getPrivate(), java.util.List.of(certificate(pair, from, validity)));
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    static X509Certificate certificate(KeyPair pair, Instant from, Duration validity) throws IOException {
        try {
            X500Name name = new X500Name("CN=localhost");
            String signature = pair.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
                    java.math.BigInteger.valueOf(from.toEpochMilli()), Date.from(from), Date.from(from.plus(validity)), name,
                    pair.getPublic()).build(new JcaContentSignerBuilder(signature).build(pair.getPrivate())));
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    /** Writes the certificate chain as PEM. */
    public static Path writeCertificate(Path file, X509Certificate... chain) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (X509Certificate c : chain) {
                writer.writeObject(c);
            }
        }
        return Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
    }

    /** Writes the key as PKCS#8 ("PRIVATE KEY"). */
    public static Path writePkcs8(Path file, PrivateKey key) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaPKCS8Generator(key, null));
        }
        return Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
    }

    /** Writes the key in OpenSSL's traditional form: PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY". */
    public static Path writeTraditional(Path file, PrivateKey key) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            if (key instanceof java.security.interfaces.ECPrivateKey ec) {
                // As OpenSSL writes it: with the curve named inside (the JDK's encoding keeps it outside).
                org.bouncycastle.asn1.pkcs.PrivateKeyInfo info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(key.getEncoded());
                writer.writeObject(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY",
                        new org.bouncycastle.asn1.sec.ECPrivateKey(256, ec.getS(),
                                info.getPrivateKeyAlgorithm().getParameters()).getEncoded()));
            } else {
                writer.writeObject(key);
            }
        }
        return Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
    }

    /** Writes the key as encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY", AES-256-CBC). */
    public static Path writeEncryptedPkcs8(Path file, PrivateKey key, String password) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaPKCS8Generator(key, new JceOpenSSLPKCS8EncryptorBuilder(
                    org.bouncycastle.openssl.PKCS8Generator.AES_256_CBC).setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                    .setPassword(password.toCharArray()).build()));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new IOException(e);
        }
        return Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
    }

    /** Writes a PKCS#12 keystore holding the identity under {@code password}. */
    public static Path writePkcs12(Path file, Identity identity, String password) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", identity.key(), password.toCharArray(),
                    identity.chain().toArray(X509Certificate[]::new));
            store.store(out, password.toCharArray());
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
        return file;
    }

    /** A client TLS context that accepts any server certificate (tests only: servers here are self-signed). */
    public static javax.net.ssl.SSLContext trustAll() {
        try {
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, new javax.net.ssl.TrustManager[] {trustAllManager()}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A trust manager that accepts any certificate, for contexts made with a chosen provider (tests only). */
    public static javax.net.ssl.X509TrustManager trustAllManager() {
        return new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
    }
}
