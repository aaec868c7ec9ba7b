package dev.ferry.server.auth.ldap;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test CA and one server certificate it signs for an IP address (subjectAltName iPAddress, RFC 5280 §4.2.1.6),
 * as a directory's operator would have: the CA as a PEM file for ldap.ca-file, the server's key and chain as an
 * SSLContext for the directory, or as PEM files for slapd.
 */
final class TestCa {

    final KeyPair caKeys;
    final X509Certificate ca;

    TestCa(String name) throws Exception {
        this.caKeys = keys("EC");
        X500Name subject = new X500Name("CN=" + name);
        Instant now = Instant.now().minusSeconds(60);
        this.ca = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(subject,
                BigInteger.valueOf(now.toEpochMilli()), Date.from(now), Date.from(now.plus(Duration.ofDays(2))), subject,
                caKeys.getPublic()).addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
    }

    /** A server identity for {@code address}, signed by this CA. */
    Server server(InetAddress address) throws Exception {
        return server(address, "EC");
    }

    /** {@code algorithm} "RSA" for slapd: its GnuTLS did not read the EC keys written here. */
    Server server(InetAddress address, String algorithm) throws Exception {
        KeyPair keys = keys(algorithm);
        Instant now = Instant.now().minusSeconds(60);
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                new X500Name(ca.getSubjectX500Principal().getName()), BigInteger.valueOf(now.toEpochMilli() + 1),
                Date.from(now), Date.from(now.plus(Duration.ofDays(1))), new X500Name("CN=" + address.getHostAddress()),
                keys.getPublic())
                .addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.iPAddress, address.getHostAddress())))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
        return new Server(keys, cert, ca);
    }

    Path writeCa(Path file) throws Exception {
        Files.writeString(file, pem("CERTIFICATE", ca.getEncoded()));
        return file;
    }

    record Server(KeyPair keys, X509Certificate certificate, X509Certificate ca) {
        SSLContext context() throws Exception {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", keys.getPrivate(), "x".toCharArray(), new X509Certificate[] {certificate, ca});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, "x".toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        }

        void writePem(Path certFile, Path keyFile) throws IOException {
            try {
                Files.writeString(certFile, pem("CERTIFICATE", certificate.getEncoded()) + pem("CERTIFICATE", ca.getEncoded()));
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IOException(e);
            }
            dev.ferry.testkit.TestCertificates.writeTraditional(keyFile, keys.getPrivate());
        }
    }

    private static KeyPair keys(String algorithm) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
        g.initialize(algorithm.equals("RSA") ? 2048 : 256);
        return g.generateKeyPair();
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
