package dev.ferry.server.data;

import dev.ferry.runtime.net.Watchdog;
import java.io.IOException;

/** The part of a transfer that differs per command: what moves over the open data connection. */
public interface TransferBody {

    /** Moves the bytes; returns how many. */
    long run(DataConnection data, Watchdog.Guard guard, TransferProgress progress) throws IOException;

    /** {@code dataEndedNanos}: when the data connection's end was read ({@link System#nanoTime()}). */
    default void beforeSuccessReply(long dataEndedNanos) throws IOException {}

    /** Always called last, on success or not (files are closed, a failed upload undone). */
    default void finish(boolean success) {}

    /** The bandwidth limit the bytes were held to, bytes per second (the lowest that applied), for the log; 0: none. */
    default long limit() {
        return 0;
    }
}
