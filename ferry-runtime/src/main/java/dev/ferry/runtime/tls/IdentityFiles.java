package dev.ferry.runtime.tls;

import java.nio.file.Path;

/**
 * Where a TLS endpoint's certificate and key come from, as both daemons configure it.
 *
 * @param certificate         PEM certificate chain (leaf first) or a PKCS#12 keystore; null: a self-signed one
 * @param key                 PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC); null for a PKCS#12 keystore
 * @param passwordFile        file whose first line is the password of the keystore or of an encrypted key
 *                            (else the FERRY_TLS_PASSWORD environment variable, else none)
 * @param selfSignedDirectory where a self-signed certificate is kept and reused; null: made in memory for this run
 */
public record IdentityFiles(Path certificate, Path key, Path passwordFile, Path selfSignedDirectory) {
}
