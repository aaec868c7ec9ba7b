package dev.ferry.runtime.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A PKCS#12 keystore (.p12, .pfx) with one private-key entry, read with the JDK's KeyStore. */
final class Keystores {

    private Keystores() {}

    static TlsIdentity load(Path file, char[] password) throws IOException {
        KeyStore store;
        try (InputStream in = Files.newInputStream(file)) {
            store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
        } catch (NoSuchFileException e) {
            throw PemFiles.missing(file, "certificate");
        } catch (IOException | GeneralSecurityException e) {
            throw new IOException("tls: " + file + " is neither a PEM file nor a PKCS#12 keystore that opens with the "
                    + "password given (" + e.getMessage() + ")", e);
        }
        try {
            for (String alias : Collections.list(store.aliases())) {
                if (!store.isKeyEntry(alias)) {
                    continue;
                }
                Key key = store.getKey(alias, password);
                Certificate[] certificates = store.getCertificateChain(alias);
                if (!(key instanceof PrivateKey privateKey) || certificates == null || certificates.length == 0) {
                    continue;
                }
                List<X509Certificate> chain = new ArrayList<>();
                for (Certificate c : certificates) {
                    chain.add((X509Certificate) c);
                }
                return new TlsIdentity(privateKey, chain, "file", false);
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("tls: " + file + ": cannot read the private key (" + e.getMessage() + ")", e);
        }
        throw new IOException("tls: the keystore " + file + " holds no private key with its certificate");
    }
}
