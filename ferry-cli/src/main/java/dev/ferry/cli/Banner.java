package dev.ferry.cli;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.protocol.address.HostPort;
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
        out.println("ferry server " + Main.version() + " listening on " + address + ", serving " + settings.root());
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
            out.println("  try:  curl -u ferry:" + generatedPassword + " ftp://" + address + "/");
            out.println("        lftp -u ferry," + generatedPassword + " -p " + server.port() + " " + hostForUrl(server.address()));
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
    void cluster(FtpBalancer balancer, int servers, Path root, String password, Path tlsCert,
                 AdminServer adminServer, String adminUser, String adminPassword) {
        String address = HostPort.text(balancer.address());
        out.println("ferry cluster " + Main.version() + ": balancer on " + address + " in front of "
                + servers + " servers sharing " + root);
        out.println("  user: ferry   password: " + password + "   (generated for this run)");
        TlsIdentity id = balancer.status().tls().server().identity();
        out.println("  tls: FTPS terminated at the balancer (plain FTP to the servers), " + certificate(id, tlsCert) + id.fingerprint());
        if (id.selfSigned()) {
            out.println("       " + id.origin());
        }
        out.println("  try:  curl -u ferry:" + password + " ftp://" + address + "/");
        out.println("        curl --ssl-reqd -k -u ferry:" + password + " ftp://" + address + "/");
        out.println("        lftp -u ferry," + password + " -p " + balancer.port() + " " + hostForUrl(balancer.address()));
        if (adminServer != null) {
            out.println("  admin: " + adminServer.url() + "   user: " + adminUser + "   password: " + adminPassword
                    + "   (generated for this run)");
        }
        end("  stop with Ctrl-C");
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
