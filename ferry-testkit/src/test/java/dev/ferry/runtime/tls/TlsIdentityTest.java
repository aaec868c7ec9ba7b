package dev.ferry.runtime.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.testkit.TestCertificates;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TlsIdentityTest {

    private static final InetSocketAddress LISTEN = new InetSocketAddress("127.0.0.1", 2121);
    private static final Clock NOW = Clock.systemUTC();

    @TempDir
    Path dir;

    private TlsIdentity load(IdentityFiles tls) throws IOException {
        return TlsIdentity.load(tls, LISTEN, NOW);
    }

    private static IdentityFiles files(Path cert, Path key) {
        return new IdentityFiles(cert, key, null, null);
    }

    private static final IdentityFiles SELF_SIGNED_IN_MEMORY = new IdentityFiles(null, null, null, null);

    @ParameterizedTest(name = "{0} key as {1}")
    @CsvSource({"EC, pkcs8", "EC, traditional", "RSA, pkcs8", "RSA, traditional"})
    void readsPemChainAndKeyInEachForm(String algorithm, String form) throws Exception {
        TlsIdentity made = identity(TestCertificates.fresh(algorithm));
        Path cert = TestCertificates.writeCertificate(dir.resolve("cert.pem"), made.certificate());
        Path key = form.equals("pkcs8") ? TestCertificates.writePkcs8(dir.resolve("key.pem"), made.key())
                : TestCertificates.writeTraditional(dir.resolve("key.pem"), made.key());
        if (form.equals("traditional")) {
            assertThat(Files.readString(key)).contains("BEGIN " + algorithm + " PRIVATE KEY");
        }

        TlsIdentity loaded = load(files(cert, key));

        assertThat(loaded.certificate()).isEqualTo(made.certificate());
        assertThat(KeyPairs.matches(loaded.key(), made.certificate().getPublicKey())).isTrue();
        assertThat(loaded.selfSigned()).isFalse();
        assertThat(loaded.fingerprint()).isEqualTo(made.fingerprint()).matches("SHA256(:[0-9A-F]{2}){32}");
    }

    @Test
    void readsTheWholeChainInFileOrder() throws Exception {
        TlsIdentity leaf = identity(TestCertificates.fresh("EC"));
        TlsIdentity issuer = identity(TestCertificates.fresh("EC"));
        Path cert = TestCertificates.writeCertificate(dir.resolve("chain.pem"), leaf.certificate(), issuer.certificate());
        Path key = TestCertificates.writePkcs8(dir.resolve("key.pem"), leaf.key());

        assertThat(load(files(cert, key)).chain()).containsExactly(leaf.certificate(), issuer.certificate());
    }

    @Test
    void readsAnEncryptedKeyWithThePasswordFile() throws Exception {
        TlsIdentity made = identity(TestCertificates.fresh("EC"));
        Path cert = TestCertificates.writeCertificate(dir.resolve("cert.pem"), made.certificate());
        Path key = TestCertificates.writeEncryptedPkcs8(dir.resolve("key.pem"), made.key(), "s3cret");
        Path password = Files.writeString(dir.resolve("password"), "s3cret\n");

        assertThat(load(new IdentityFiles(cert, key, password, null)).key().getEncoded()).isEqualTo(made.key().getEncoded());
        Files.writeString(password, "n0t-1t\n");
        assertThatThrownBy(() -> load(new IdentityFiles(cert, key, password, null)))
                .hasMessageContaining("cannot decrypt the private key").hasMessageNotContaining("n0t-1t");
    }

    @Test
    void readsAPkcs12Keystore() throws Exception {
        TlsIdentity made = identity(TestCertificates.fresh("RSA"));
        Path store = TestCertificates.writePkcs12(dir.resolve("server.p12"), new TestCertificates.Identity(made.key(), made.chain()), "changeit");
        Path password = Files.writeString(dir.resolve("password"), "changeit\n");

        TlsIdentity loaded = load(new IdentityFiles(store, null, password, null));

        assertThat(loaded.certificate()).isEqualTo(made.certificate());
        Files.writeString(password, "nope\n");
        assertThatThrownBy(() -> load(new IdentityFiles(store, null, password, null)))
                .hasMessageContaining(store.toString()).hasMessageContaining("PKCS#12");
    }

    @Test
    void aMissingFileIsNamed() throws Exception {
        TlsIdentity made = identity(TestCertificates.fresh("EC"));
        Path key = TestCertificates.writePkcs8(dir.resolve("key.pem"), made.key());
        Path cert = TestCertificates.writeCertificate(dir.resolve("cert.pem"), made.certificate());

        assertThatThrownBy(() -> load(files(dir.resolve("nope.pem"), key)))
                .hasMessage("tls: the certificate file " + dir.resolve("nope.pem") + " does not exist");
        assertThatThrownBy(() -> load(files(cert, dir.resolve("nokey.pem"))))
                .hasMessage("tls: the key file " + dir.resolve("nokey.pem") + " does not exist");
    }

    @Test
    void anExpiredCertificateIsRefused() throws Exception {
        TlsIdentity old = identity(TestCertificates.ec(Instant.now().minus(Duration.ofDays(400)), Duration.ofDays(365)));
        Path cert = TestCertificates.writeCertificate(dir.resolve("cert.pem"), old.certificate());
        Path key = TestCertificates.writePkcs8(dir.resolve("key.pem"), old.key());

        assertThatThrownBy(() -> load(files(cert, key)))
                .hasMessageStartingWith("tls: the certificate in " + cert + " expired on ")
                .hasMessageContaining("renew it");
    }

    @Test
    void aCertificateNotYetValidIsRefused() throws Exception {
        TlsIdentity future = identity(TestCertificates.ec(Instant.now().plus(Duration.ofDays(2)), Duration.ofDays(365)));
        Path cert = TestCertificates.writeCertificate(dir.resolve("cert.pem"), future.certificate());
        Path key = TestCertificates.writePkcs8(dir.resolve("key.pem"), future.key());

        assertThatThrownBy(() -> load(files(cert, key))).hasMessageContaining("is not valid before");
    }

    @ParameterizedTest
    @CsvSource({"EC, EC", "RSA, RSA", "EC, RSA"})
    void aKeyOfAnotherCertificateIsRefused(String certAlgorithm, String keyAlgorithm) throws Exception {
        Path cert = TestCertificates.writeCertificate(dir.resolve("cert.pem"), TestCertificates.fresh(certAlgorithm).certificate());
        Path key = TestCertificates.writePkcs8(dir.resolve("key.pem"), TestCertificates.fresh(keyAlgorithm).key());

        assertThatThrownBy(() -> load(files(cert, key)))
                .hasMessageStartingWith("tls: the private key does not belong to the certificate in " + cert);
    }

    @Test
    void aPemCertificateWithoutKeyAsksForTheKey() throws Exception {
        Path cert = TestCertificates.writeCertificate(dir.resolve("cert.pem"), TestCertificates.fresh("EC").certificate());

        assertThatThrownBy(() -> load(files(cert, null))).hasMessageContaining("give its private key with --tls-key");
    }

    @Test
    void aFileWithoutCertificateIsRefused() throws Exception {
        TlsIdentity made = identity(TestCertificates.fresh("EC"));
        Path key = TestCertificates.writePkcs8(dir.resolve("key.pem"), made.key());

        assertThatThrownBy(() -> load(files(key, key))).hasMessageContaining("holds no PEM certificate");
    }

    /** Servers started at once on one state directory: one makes the certificate, all serve it, none fails. */
    @Test
    void selfSignedStartsAtOnceShareOneCertificate() throws Exception {
        IdentityFiles tls = new IdentityFiles(null, null, null, dir);
        try (var starts = java.util.concurrent.Executors.newFixedThreadPool(6)) {
            List<java.util.concurrent.Future<TlsIdentity>> made = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                made.add(starts.submit(() -> load(tls)));
            }
            java.util.Set<String> fingerprints = new java.util.HashSet<>();
            int newOnes = 0;
            for (var f : made) {
                TlsIdentity id = f.get();
                fingerprints.add(id.fingerprint());
                newOnes += id.origin().startsWith("self-signed (new") ? 1 : 0;
            }
            assertThat(fingerprints).hasSize(1);
            assertThat(newOnes).isEqualTo(1);
        }
    }

    @Test
    void selfSignedIsMadeSavedAndReused() throws Exception {
        IdentityFiles tls = new IdentityFiles(null, null, null, dir);

        TlsIdentity first = load(tls);
        TlsIdentity second = load(tls);

        assertThat(first.selfSigned()).isTrue();
        assertThat(first.origin()).startsWith("self-signed (new, saved to " + dir.resolve(SelfSigned.CERTIFICATE_FILE));
        assertThat(second.origin()).startsWith("self-signed (reused");
        assertThat(second.fingerprint()).isEqualTo(first.fingerprint());
        assertThat(Files.getPosixFilePermissions(dir.resolve(SelfSigned.KEY_FILE)))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readString(dir.resolve(SelfSigned.KEY_FILE))).startsWith("-----BEGIN PRIVATE KEY-----");
        X509Certificate c = first.certificate();
        assertThat(c.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(Duration.between(c.getNotBefore().toInstant(), c.getNotAfter().toInstant()))
                .isBetween(Duration.ofDays(365), Duration.ofDays(366));
        assertThat(alternativeNames(c)).contains("localhost", "127.0.0.1");
    }

    @Test
    void anExpiredSelfSignedIsReplaced() throws Exception {
        IdentityFiles tls = new IdentityFiles(null, null, null, dir);
        TlsIdentity first = TlsIdentity.load(tls, LISTEN, Clock.fixed(Instant.now().minus(Duration.ofDays(400)), ZoneOffset.UTC));

        TlsIdentity second = load(tls);

        assertThat(second.fingerprint()).isNotEqualTo(first.fingerprint());
        assertThat(second.origin()).contains("replacing one that expires");
        assertThat(load(tls).fingerprint()).isEqualTo(second.fingerprint());
    }

    @Test
    void withoutADirectoryTheSelfSignedLivesInMemory() throws Exception {
        TlsIdentity identity = load(SELF_SIGNED_IN_MEMORY);

        assertThat(identity.origin()).isEqualTo("self-signed (in memory)");
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).isEmpty();
        }
    }

    @Test
    void theListenHostIsASubjectAlternativeName() throws Exception {
        TlsIdentity identity = TlsIdentity.load(SELF_SIGNED_IN_MEMORY, new InetSocketAddress("127.0.0.2", 21), NOW);

        assertThat(alternativeNames(identity.certificate())).contains("127.0.0.2", "localhost", "127.0.0.1");
    }

    private static List<String> alternativeNames(X509Certificate c) throws Exception {
        return c.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
    }

    static TlsIdentity identity(TestCertificates.Identity made) {
        return new TlsIdentity(made.key(), made.chain(), "test", false);
    }
}
