package dev.ferry.balancer.proxy;

import java.io.IOException;

/** The backend's control connection as a session's parts use it: a command, with what its final reply will answer. */
@FunctionalInterface
interface BackendCommands {

    /** Sends {@code line} after noting {@code what} in the session's {@link ReplyOrder}. */
    void send(String line, Awaited what) throws IOException;
}
