package dev.ferry.runtime.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * PEM certificate chains and private keys, read with Bouncy Castle's PEM parser: keys in PKCS#8
 * ("PRIVATE KEY", also "ENCRYPTED PRIVATE KEY"), PKCS#1 RSA ("RSA PRIVATE KEY") and SEC1 EC ("EC PRIVATE KEY",
 * also OpenSSL's legacy encrypted form). Messages name the file and what was expected, never key material.
 */
final class PemFiles {

    /** Decrypting keys needs PBE algorithms the JDK may lack; the provider is used directly, never registered. */
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private PemFiles() {}

    /** The certificates of a PEM file, in file order (the server's own first, then its issuers). */
    static List<X509Certificate> certificates(Path file) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (PEMParser parser = parser(file, "certificate")) {
            Object item;
            while ((item = read(parser, file)) != null) {
                if (item instanceof X509CertificateHolder holder) {
                    try {
                        chain.add(converter.getCertificate(holder));
                    } catch (CertificateException e) {
                        throw new IOException("tls: " + file + ": unreadable certificate: " + e.getMessage(), e);
                    }
                }
            }
        }
        if (chain.isEmpty()) {
            throw new IOException("tls: " + file + " holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
        }
        return chain;
    }

    /** The first private key of a PEM file. */
    static PrivateKey privateKey(Path file, char[] password) throws IOException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = parser(file, "key")) {
            Object item;
            while ((item = read(parser, file)) != null) {
                try {
                    switch (item) {
                        case PrivateKeyInfo info -> {
                            return converter.getPrivateKey(info);
                        }
                        case PEMKeyPair pair -> {
                            // SEC1 keys may omit their public half: convert the private key alone.
                            return converter.getPrivateKey(pair.getPrivateKeyInfo());
                        }
                        case PKCS8EncryptedPrivateKeyInfo encrypted -> {
                            requirePassword(file, password);
                            return converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(
                                    new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(password)));
                        }
                        case PEMEncryptedKeyPair encrypted -> {
                            requirePassword(file, password);
                            return converter.getPrivateKey(encrypted.decryptKeyPair(
                                    new JcePEMDecryptorProviderBuilder().setProvider(BC).build(password)).getPrivateKeyInfo());
                        }
                        default -> {
                            // a certificate or parameters next to the key: skip
                        }
                    }
                } catch (PKCSException | OperatorCreationException e) {
                    throw new IOException("tls: " + file + ": cannot decrypt the private key (wrong password?)", e);
                } catch (PEMException e) {
                    throw new IOException("tls: " + file + ": unreadable private key"
                            + (item instanceof PEMEncryptedKeyPair ? " (wrong password?)" : ": " + e.getMessage()), e);
                }
            }
        }
        throw new IOException("tls: " + file + " holds no PEM private key (expected -----BEGIN PRIVATE KEY-----, "
                + "RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    /** True when the file starts like a PEM file (text with a -----BEGIN line), as opposed to a binary keystore. */
    static boolean looksLikePem(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(4096);
            return new String(head, StandardCharsets.ISO_8859_1).contains("-----BEGIN ");
        } catch (NoSuchFileException e) {
            throw missing(file, "certificate");
        }
    }

    private static void requirePassword(Path file, char[] password) throws IOException {
        if (password.length == 0) {
            throw new IOException("tls: " + file + " is encrypted: give its password with --tls-password-file "
                    + "(server.tls.password-file) or the " + TlsIdentity.PASSWORD_VARIABLE + " environment variable");
        }
    }

    private static PEMParser parser(Path file, String what) throws IOException {
        try {
            Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
            return new PEMParser(reader);
        } catch (NoSuchFileException e) {
            throw missing(file, what);
        }
    }

    private static Object read(PEMParser parser, Path file) throws IOException {
        try {
            return parser.readObject();
        } catch (IOException | RuntimeException e) {
            throw new IOException("tls: " + file + " is not a readable PEM file: " + e.getMessage(), e);
        }
    }

    static IOException missing(Path file, String what) {
        return new IOException("tls: the " + what + " file " + file + " does not exist");
    }
}
