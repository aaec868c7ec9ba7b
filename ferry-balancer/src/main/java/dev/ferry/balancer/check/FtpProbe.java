package dev.ferry.balancer.check;

import dev.ferry.balancer.backend.Features;
import dev.ferry.protocol.Reply;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * {@code check ftp}: the backend greets with 220 (a full, possibly multi-line reply), answers FEAT, then
 * we QUIT. Proves the FTP process is alive, accepting sessions and serving them: a greeting alone comes
 * from whatever accepts connections, while a backend whose sessions hang (a stuck file system, a blocked
 * authentication service) greets and then never answers, so the check waits for a reply to a command too.
 * FEAT is that command: every server answers it before login (RFC 2389 §3.2, 500 or 502 where not
 * implemented), and its features are what the balancer tells clients ({@link Features}). A 421 at either
 * step ("too many users", shutting down) fails the check.
 *
 * <p>Clear text also with FTPS backends (the login check is the one that proves TLS): FEAT is how a client
 * learns that AUTH TLS is there (RFC 4217 §6), so servers that require TLS answer it before AUTH.
 */
final class FtpProbe implements Probe {

    private final CheckHeader header;
    private final InetAddress source;

    FtpProbe(CheckHeader header) {
        this(header, null);
    }

    /**
     * {@code source}: where check connections come from, or null. A check takes the sessions' path (same
     * source address, same PROXY header), so that a backend that would refuse sessions fails its checks.
     */
    FtpProbe(CheckHeader header, InetAddress source) {
        this.header = header;
        this.source = source;
    }

    @Override
    public Outcome run(InetSocketAddress backend, Instant deadline) throws IOException {
        try (ControlConnection control = new ControlConnection(backend, source, deadline, header)) {
            Reply greeting = control.read();
            if (greeting.code() != 220) {
                return Outcome.failed("greeting " + ReplySummary.summary(greeting));
            }
            Reply feat = control.command("FEAT", null);
            if (feat.code() == 421) {
                return Outcome.failed("FEAT " + ReplySummary.summary(feat));
            }
            quietQuit(control);
            return Outcome.passed(ReplySummary.summary(greeting), Features.offered(feat.code(), feat.lines()));
        }
    }

    /** QUIT politely so the backend does not log an aborted session; its answer does not change the result. */
    static void quietQuit(ControlConnection control) {
        try {
            control.command("QUIT", null);
        } catch (IOException ignored) {
            // The check already has its answer.
        }
    }
}
