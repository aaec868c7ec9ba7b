package dev.ferry.balancer.check;

import dev.ferry.protocol.Reply;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * {@code check ftp}: the backend greets with 220 (a full, possibly multi-line reply), then we QUIT.
 * Proves the FTP process is alive and accepting sessions; a 421 ("too many users") fails it.
 */
final class FtpProbe implements Probe {

    private final CheckHeader header;

    FtpProbe(CheckHeader header) {
        this.header = header;
    }

    @Override
    public Outcome run(InetSocketAddress backend, Instant deadline) throws IOException {
        try (ControlConnection control = new ControlConnection(backend, deadline, header)) {
            Reply greeting = control.read();
            if (greeting.code() != 220) {
                return Outcome.failed("greeting " + Replies.summary(greeting));
            }
            quietQuit(control);
            return Outcome.passed(Replies.summary(greeting));
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
