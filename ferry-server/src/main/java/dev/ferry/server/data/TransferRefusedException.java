package dev.ferry.server.data;

import dev.ferry.protocol.Reply;
import java.io.IOException;

/**
 * A policy stopped a transfer while it ran (a quota that the upload outgrew): the transfer ends with
 * {@link #reply()} instead of a 426, its log line says {@code reason=} {@link #reason()}, and an upload is not
 * committed.
 */
public final class TransferRefusedException extends IOException {

    private final transient Reply reply;
    private final String reason;

    public TransferRefusedException(Reply reply, String reason) {
        super(reason + ": " + reply.lines().get(0));
        this.reply = reply;
        this.reason = reason;
    }

    public Reply reply() {
        return reply;
    }

    /** One word for the log, such as {@code quota}. */
    public String reason() {
        return reason;
    }
}
