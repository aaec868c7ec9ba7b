package dev.ferry.cli;

import dev.ferry.config.Values;
import dev.ferry.runtime.tls.SessionReuse;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The FTPS options that {@code ferry server} and {@code ferry balancer} share, with one meaning: where the
 * certificate comes from, the TLS policy, session reuse and the implicit-FTPS listener. Each command
 * applies them to its own settings record.
 */
final class TlsOptions {

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "FTPS certificate: a PEM chain (this host's certificate first) with --tls-key, or a PKCS#12 keystore. "
                    + "ferry server makes a self-signed one on the first start and reuses it when none is given; "
                    + "ferry balancer terminates TLS when one is given (see docs/ftps.md).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "PEM private key of --tls-cert (PKCS#8, PKCS#1 RSA or SEC1 EC).")
    Path tlsKey;

    @Option(names = "--tls-password-file", paramLabel = "FILE",
            description = "File whose first line is the password of the PKCS#12 keystore or encrypted key "
                    + "(default: the FERRY_TLS_PASSWORD environment variable).")
    Path tlsPasswordFile;

    @Option(names = "--require-tls",
            description = "Make TLS mandatory: USER/PASS only after AUTH TLS (else 530), data connections only under PROT P.")
    boolean requireTls;

    @Option(names = "--tls-session-reuse", paramLabel = "MODE",
            description = "Must a protected data connection resume the control connection's TLS session: "
                    + "required, preferred (default) or off.")
    String tlsSessionReuse;

    @Option(names = "--implicit-tls", paramLabel = "HOST:PORT",
            description = "Also listen for implicit FTPS (TLS from the first byte, e.g. :990). Default: off.")
    String implicitTls;

    /** The certificate as an absolute path, or null; a key without a certificate is refused. */
    Path certificate() {
        if (tlsKey != null && tlsCert == null) {
            throw new IllegalArgumentException("--tls-key needs --tls-cert (the certificate that goes with the key)");
        }
        return tlsCert == null ? null : tlsCert.toAbsolutePath();
    }

    Path key() {
        return tlsKey == null ? null : tlsKey.toAbsolutePath();
    }

    Path passwordFile() {
        return tlsPasswordFile == null ? null : tlsPasswordFile.toAbsolutePath();
    }

    boolean required() {
        return requireTls;
    }

    /** --tls-session-reuse, or null when not given. */
    SessionReuse reuse() {
        return Flags.parse("--tls-session-reuse", tlsSessionReuse, Values::sessionReuse);
    }

    /** --implicit-tls, or null when not given. */
    InetSocketAddress implicitListen() {
        return Flags.parse("--implicit-tls", implicitTls, Values::hostPort);
    }
}
