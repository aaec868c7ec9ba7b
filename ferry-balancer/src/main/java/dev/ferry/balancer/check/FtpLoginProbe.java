package dev.ferry.balancer.check;

import dev.ferry.balancer.backend.Features;
import dev.ferry.balancer.tls.BackendTlsClient;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.runtime.tls.TlsChannel;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Instant;
import java.util.List;

/**
 * {@code check ftp-login}: greeting, USER/PASS with the check account, FEAT, PASV, LIST over the data
 * connection read to its end, 226, QUIT. The only check that proves transfers work (passive ports
 * open, file system readable), at the price of a login per interval. With backends that speak FTPS
 * (they may refuse a clear-text login) the check does too: AUTH TLS, PBSZ 0, PROT P, and the listing
 * over TLS, resuming the control connection's session as such backends may require.
 */
final class FtpLoginProbe implements Probe {

    private final CheckHeader header;
    private final InetAddress source;
    private final String user;
    private final String password;
    /** FTPS to the backends, or null for clear text. */
    private final BackendTlsClient tls;

    FtpLoginProbe(CheckHeader header, String user, String password, BackendTlsClient tls) {
        this(header, null, user, password, tls);
    }

    /** {@code source}: where the check's control and data connections come from, or null. */
    FtpLoginProbe(CheckHeader header, InetAddress source, String user, String password, BackendTlsClient tls) {
        this.header = header;
        this.source = source;
        this.user = user == null ? "anonymous" : user;
        this.password = password == null ? "" : password;
        this.tls = tls;
    }

    @Override
    public Outcome run(InetSocketAddress backend, Instant deadline) throws IOException {
        try (ControlConnection control = new ControlConnection(backend, source, deadline, header)) {
            Reply greeting = control.read();
            if (greeting.code() != 220) {
                return Outcome.failed("greeting " + ReplySummary.summary(greeting));
            }
            Reply reply;
            if (tls != null) {
                reply = control.command("AUTH", "TLS");
                if (reply.code() != 234) {
                    FtpProbe.quietQuit(control);
                    return Outcome.failed("AUTH TLS " + ReplySummary.summary(reply));
                }
                control.startTls(tls, backend);
                for (String protection : new String[] {"PBSZ 0", "PROT P"}) {
                    reply = control.command(protection, null);
                    if (reply.code() != 200) {
                        FtpProbe.quietQuit(control);
                        return Outcome.failed(protection + " " + ReplySummary.summary(reply));
                    }
                }
            }
            reply = control.command("USER", user);
            if (reply.code() == 331) {
                reply = control.command("PASS", password);
            }
            if (reply.code() != 230 && reply.code() != 202) {
                FtpProbe.quietQuit(control);
                return Outcome.failed("login " + ReplySummary.summary(reply));
            }
            // Asked after login: the features a logged-in session has, which is what clients use them for.
            reply = control.command("FEAT", null);
            if (reply.code() == 421) {
                return Outcome.failed("FEAT " + ReplySummary.summary(reply));
            }
            List<String> features = Features.offered(reply.code(), reply.lines());
            reply = control.command("PASV", null);
            HostPort passive = reply.code() == 227 ? HostPort.parse227(reply.lines().get(0)) : null;
            if (passive == null) {
                FtpProbe.quietQuit(control);
                return Outcome.failed("PASV " + ReplySummary.summary(reply));
            }
            // The data connection goes to the backend's own host with the 227 port: backends behind a
            // balancer need no public address, and often advertise one we cannot (or must not) reach.
            // It carries no PROXY header: backends read one on control connections only.
            InetSocketAddress data = new InetSocketAddress(backend.getAddress(), passive.port());
            long bytes;
            try (Socket socket = Deadlines.connect(data, source, deadline)) {
                reply = control.command("LIST", null);
                if (reply.code() != 150 && reply.code() != 125) {
                    FtpProbe.quietQuit(control);
                    return Outcome.failed("LIST " + ReplySummary.summary(reply));
                }
                socket.setSoTimeout(Deadlines.remainingMillis(deadline, "TLS handshake on the data connection"));
                bytes = drain(socket, tls == null ? socket.getInputStream() : protectedData(socket, backend), deadline);
            }
            reply = control.read();
            if (reply.code() != 226 && reply.code() != 250) {
                FtpProbe.quietQuit(control);
                return Outcome.failed("LIST " + ReplySummary.summary(reply));
            }
            FtpProbe.quietQuit(control);
            return Outcome.passed("230 login, LIST " + bytes + " bytes, " + ReplySummary.summary(reply), features);
        }
    }

    /**
     * RFC 4217 §10.2: the data connection's handshake follows the 150, the client's side first. Through an
     * SSLEngine made for the backend's control address, not a layered SSLSocket: the JDK caches a layered
     * socket's session under the socket's own port, the data port, so it would never resume the control
     * session, which backends may require (session-reuse: required answers 522).
     */
    private InputStream protectedData(Socket socket, InetSocketAddress backend) throws IOException {
        ReadableByteChannel in = Channels.newChannel(socket.getInputStream());
        WritableByteChannel out = Channels.newChannel(socket.getOutputStream());
        TlsChannel channel = new TlsChannel(new ByteChannel() {
            @Override public int read(ByteBuffer dst) throws IOException { return in.read(dst); }
            @Override public int write(ByteBuffer src) throws IOException { return out.write(src); }
            @Override public boolean isOpen() { return !socket.isClosed(); }
            @Override public void close() throws IOException { socket.close(); }
        }, tls.engine(backend), true);
        channel.handshake();
        return Channels.newInputStream(channel);
    }

    private static long drain(Socket socket, InputStream in, Instant deadline) throws IOException {
        byte[] buffer = new byte[8192];
        long total = 0;
        while (true) {
            socket.setSoTimeout(Deadlines.remainingMillis(deadline, "listing data"));
            int n;
            try {
                n = in.read(buffer);
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("timeout awaiting listing data");
            }
            if (n < 0) {
                return total;
            }
            total += n;
        }
    }
}
