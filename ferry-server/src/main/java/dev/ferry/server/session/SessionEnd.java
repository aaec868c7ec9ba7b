package dev.ferry.server.session;

/** How a command ends its session: the loop stops after the reply that is being sent. */
@FunctionalInterface
interface SessionEnd {

    /** {@code reason}: how the session ended, for the log and the metrics; null for the client's own end (QUIT). */
    void afterReply(String reason);
}
