package dev.ferry.cli;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.runtime.tls.SelfSigned;
import dev.ferry.runtime.tls.TlsIdentity;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.metrics.MetricsListener;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * The lines a command prints once its service runs: where it listens, the certificate's fingerprint, the
 * admin page, a generated account and client commands to try. Scripts and the integration tests read the
 * first line ("... listening on HOST:PORT"), so its form is kept.
 */
final class Banner {

    private final PrintStream out;

    Banner(PrintStream out) {
        this.out = out;
    }

    /** {@code generatedPassword}: the password of the account made for this run, or null. */
    void server(FtpServer server, ServerSettings settings, String generatedPassword) {
        String address = HostPort.text(server.address());
        out.println("ferry server " + Main.version() + " listening on " + address + ", serving "
                + (settings.objectStore() != null ? settings.objectStore().url() : settings.root()));
        if (server.implicitTlsAddress() != null) {
            out.println("  implicit FTPS on " + HostPort.text(server.implicitTlsAddress()));
        }
        if (server.tls() != null) {
            TlsIdentity id = server.tls().identity();
            out.println("  tls: " + certificate(id, settings.tls().certificate()) + id.fingerprint());
            if (id.selfSigned()) {
                out.println("       " + id.origin());
            }
        }
        if (server.metricsAddress() != null) {
            out.println("  metrics: http://" + HostPort.text(server.metricsAddress()) + MetricsListener.PATH);
        }
        if (generatedPassword != null) {
            out.println("  user: ferry   password: " + generatedPassword + "   (generated for this run)");
            if (server.tls() == null) {
                out.println("  try:  curl -u ferry:" + generatedPassword + " ftp://" + address + "/");
                out.println("        lftp -u ferry," + generatedPassword + " -p " + server.port() + " " + hostForUrl(server.address()));
            } else {
                Path pin = pinned(server.tls().identity(), settings.tls().selfSignedDirectory());
                out.println("  try:  curl --ssl-reqd" + curlTrust(pin) + " -u ferry:" + generatedPassword + " ftp://" + address + "/");
                out.println("        lftp -u ferry," + generatedPassword + " -p " + server.port() + lftpTrust(pin) + " " + hostForUrl(server.address()));
            }
        }
        end("  stop with Ctrl-C");
    }

    void balancer(FtpBalancer balancer, BalancerSettings settings, AdminServer adminServer) {
        out.println("ferry balancer " + Main.version() + " listening on " + HostPort.text(balancer.address()) + " in front of "
                + settings.backends().size() + " backends");
        if (balancer.status().tls() != null) {
            TlsIdentity id = balancer.status().tls().server().identity();
            out.println("  tls: terminated here, " + certificate(id, settings.tls().certificate()) + id.fingerprint()
                    + (settings.tls().backends().ftps() ? "; FTPS to the backends" : "; plain FTP to the backends"));
            if (balancer.implicitTlsAddress() != null) {
                out.println("  implicit FTPS on " + HostPort.text(balancer.implicitTlsAddress()));
            }
        }
        if (adminServer != null) {
            out.println("  admin page: " + adminServer.url());
        }
        end("  reload the configuration with SIGHUP" + (adminServer != null ? " or POST /api/reload" : "") + "; stop with Ctrl-C");
    }

    /** {@code adminServer} null: no admin page ({@code --admin off}). */
    /** {@code root}: the shared directory, or the shared store's s3:// address. */
    void cluster(FtpBalancer balancer, int servers, Object root, String password, BalancerSettings.Tls tls,
                 AdminServer adminServer, String adminUser, String adminPassword) {
        String address = HostPort.text(balancer.address());
        out.println("ferry cluster " + Main.version() + ": balancer on " + address + " in front of "
                + servers + " servers sharing " + root);
        out.println("  user: ferry   password: " + password + "   (generated for this run)");
        TlsIdentity id = balancer.status().tls().server().identity();
        out.println("  tls: FTPS terminated at the balancer (plain FTP to the servers), " + certificate(id, tls.certificate()) + id.fingerprint());
        if (id.selfSigned()) {
            out.println("       " + id.origin());
        }
        Path pin = pinned(id, tls.selfSignedDirectory());
        out.println("  try:  curl -u ferry:" + password + " ftp://" + address + "/");
        out.println("        curl --ssl-reqd" + curlTrust(pin) + " -u ferry:" + password + " ftp://" + address + "/");
        out.println("        lftp -u ferry," + password + " -p " + balancer.port() + lftpTrust(pin) + " " + hostForUrl(balancer.address()));
        if (adminServer != null) {
            out.println("  admin: " + adminServer.url() + "   user: " + adminUser + "   password: " + adminPassword
                    + "   (generated for this run)");
        }
        end("  stop with Ctrl-C");
    }

    /**
     * The certificate file a client should trust for this identity: the saved self-signed one, or null (a
     * certificate the operator gave, which clients verify as usual). Printed commands pin it (curl
     * {@code --cacert}, lftp {@code ssl:ca-file}) rather than turn verification off: the client then checks
     * that it talks to this server, and the same line stays safe when copied onto another machine's shell.
     */
    static Path pinned(TlsIdentity id, Path selfSignedDirectory) {
        return id.selfSigned() && selfSignedDirectory != null ? selfSignedDirectory.resolve(SelfSigned.CERTIFICATE_FILE) : null;
    }

    private static String curlTrust(Path pin) {
        return pin == null ? "" : " --cacert " + shellWord(pin.toString());
    }

    /** lftp negotiates TLS whenever the server offers it (ftp:ssl-allow), and verifies the certificate. */
    private static String lftpTrust(Path pin) {
        if (pin == null) {
            return "";
        }
        String file = pin.toString();
        // Inside the shell's single quotes, lftp's own quoting: double quotes for a path with spaces.
        return " -e " + shellWord("set ssl:ca-file " + (PLAIN.matcher(file).matches() ? file : "\"" + file + "\""));
    }

    private static final java.util.regex.Pattern PLAIN = java.util.regex.Pattern.compile("[A-Za-z0-9/._+:@%,=-]+");

    /** A word the shell reads back as it is: bare when plain, else single-quoted. */
    static String shellWord(String s) {
        return PLAIN.matcher(s).matches() ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    private static String certificate(TlsIdentity id, Path file) {
        return id.selfSigned() ? "self-signed certificate " : "certificate " + file + " ";
    }

    /** The last line; flushed, since the process then only waits. */
    private void end(String line) {
        out.println(line);
        out.flush();
    }

    /** The host as lftp and URLs want it: an IPv6 address in brackets. */
    private static String hostForUrl(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return host.contains(":") ? "[" + host + "]" : host;
    }
}
