package dev.ferry.runtime.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The certificate a server uses when none is configured: EC P-256, valid for a year, its subject
 * alternative names the listen host, localhost and 127.0.0.1 (and ::1), built with Bouncy Castle's
 * certificate builder.
 *
 * <p>Kept as two PEM files in a directory ({@value #CERTIFICATE_FILE}, and {@value #KEY_FILE} with mode
 * 0600, written through a temporary file so that a crash leaves no half-written key), so that the next
 * start reuses it and clients that pinned its fingerprint keep working. One that has expired, or whose
 * files do not load, is replaced (and the start-up line says so). With no directory it is made in memory
 * for this run only.
 */
public final class SelfSigned {

    public static final String CERTIFICATE_FILE = "ferry-selfsigned-cert.pem";
    public static final String KEY_FILE = "ferry-selfsigned-key.pem";
    /** Held (fcntl lock) while a certificate is looked for, made and saved: see {@link #obtain}. */
    static final String LOCK_FILE = "ferry-selfsigned.lock";
    static final Duration VALIDITY = Duration.ofDays(365);

    private SelfSigned() {}

    static TlsIdentity obtain(Path directory, InetSocketAddress listen, Clock clock) throws IOException {
        if (directory == null) {
            return make(listen, clock, "self-signed (in memory)");
        }
        // Servers started at once on one state directory (a fleet's hosts on a shared mount, a test bed, several
        // servers in one JVM) take turns: the first makes and saves the certificate, the others then find and reuse
        // it, so all serve one fingerprint. Without the turn they raced to rename the same temp file, and the
        // losers failed to start (seen on the test bed: three servers, one directory).
        synchronized (SelfSigned.class) {
            FileChannel lockFile;
            try {
                Files.createDirectories(directory);
                lockFile = FileChannel.open(directory.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            } catch (IOException e) {
                // A directory this account cannot write: a saved certificate can still be reused (save reports the rest).
                return obtainInTurn(directory, listen, clock);
            }
            FileLock held;
            try {
                held = lockFile.lock();
            } catch (IOException e) {
                // A file system without locks (an NFS mount without lockd answers ENOLCK): no turn to take, so as
                // before there was one, rather than a start that fails on the lock alone.
                lockFile.close();
                return obtainInTurn(directory, listen, clock);
            }
            try (lockFile; held) {
                return obtainInTurn(directory, listen, clock);
            }
        }
    }

    private static TlsIdentity obtainInTurn(Path directory, InetSocketAddress listen, Clock clock) throws IOException {
        Path certificateFile = directory.resolve(CERTIFICATE_FILE);
        Path keyFile = directory.resolve(KEY_FILE);
        String replaced = "";
        if (Files.exists(certificateFile) && Files.exists(keyFile)) {
            try {
                TlsIdentity kept = new TlsIdentity(PemFiles.privateKey(keyFile, new char[0]),
                        PemFiles.certificates(certificateFile), "self-signed (reused " + certificateFile + ")", true);
                if (kept.certificate().getNotAfter().toInstant().isAfter(clock.instant().plus(Duration.ofDays(1)))) {
                    kept.check(clock, certificateFile.toString());
                    return kept;
                }
                replaced = ", replacing one that expires " + kept.certificate().getNotAfter().toInstant();
            } catch (IOException e) {
                replaced = ", replacing one that did not load (" + e.getMessage() + ")";
            }
        }
        TlsIdentity made = make(listen, clock, "self-signed (new, saved to " + certificateFile + replaced + ")");
        save(made, directory, certificateFile, keyFile);
        return made;
    }

    static TlsIdentity make(InetSocketAddress listen, Clock clock, String origin) throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            Instant now = clock.instant();
            X500Name name = new X500Name("CN=" + commonName(listen) + ",O=Ferry self-signed");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, new BigInteger(127, new SecureRandom()),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), name, pair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(alternativeNames(listen)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            return new TlsIdentity(pair.getPrivate(), List.of(certificate), origin, true);
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new IOException("tls: cannot make a self-signed certificate: " + e.getMessage(), e);
        }
    }

    private static String commonName(InetSocketAddress listen) {
        InetAddress a = listen.getAddress();
        return a == null || a.isAnyLocalAddress() ? "localhost" : a.getHostAddress();
    }

    private static GeneralName[] alternativeNames(InetSocketAddress listen) {
        Set<String> addresses = new LinkedHashSet<>();
        InetAddress a = listen.getAddress();
        if (a != null && !a.isAnyLocalAddress()) {
            addresses.add(a.getHostAddress());
        }
        addresses.add("127.0.0.1");
        addresses.add("::1");
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.dNSName, "localhost"));
        if (listen.getHostString() != null && !listen.getHostString().equals("localhost")
                && !listen.getHostString().isEmpty() && !Character.isDigit(listen.getHostString().charAt(0))
                && !listen.getHostString().contains(":")) {
            names.add(new GeneralName(GeneralName.dNSName, listen.getHostString()));
        }
        for (String address : addresses) {
            names.add(new GeneralName(GeneralName.iPAddress, address));
        }
        return names.toArray(GeneralName[]::new);
    }

    private static void save(TlsIdentity identity, Path directory, Path certificateFile, Path keyFile) throws IOException {
        try {
            Files.createDirectories(directory);
            // The key first: a certificate without its key would be replaced on the next start anyway.
            StringWriter key = new StringWriter();
            try (JcaPEMWriter writer = new JcaPEMWriter(key)) {
                writer.writeObject(new JcaPKCS8Generator(identity.key(), null));
            }
            writeAtomically(keyFile, key.toString(), true);
            StringWriter certificate = new StringWriter();
            try (JcaPEMWriter writer = new JcaPEMWriter(certificate)) {
                writer.writeObject(identity.certificate());
            }
            writeAtomically(certificateFile, certificate.toString(), false);
        } catch (IOException e) {
            // AccessDeniedException's message is only the file name: say what went wrong with it.
            String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied at " + e.getMessage() : e.getMessage();
            throw new IOException("tls: cannot save the self-signed certificate in " + directory + ": " + why
                    + " (set state-directory or --state-dir to a directory this account can write, "
                    + "or give a certificate with --tls-cert/--tls-key)", e);
        }
    }

    private static void writeAtomically(Path target, String content, boolean secret) throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        if (posix) {
            // SECURITY: the key file is created 0600, never readable by others even for an instant.
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
        } else {
            Files.createFile(temporary);
        }
        try (Writer writer = Files.newBufferedWriter(temporary, StandardCharsets.US_ASCII)) {
            writer.write(content);
        }
        try {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
