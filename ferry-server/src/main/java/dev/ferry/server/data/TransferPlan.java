package dev.ferry.server.data;

import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.metrics.ServerMetrics.Direction;

/**
 * A transfer as a command built it, everything decided before the data connection exists.
 *
 * @param verb      the command, for the log line and the progress text
 * @param path      the file or directory, for the log line
 * @param opening   the 150 text
 * @param endpoint  where the data connection comes from (null: the client set none, answered 425)
 * @param tls       the protection of a PROT P data connection, null under PROT C
 * @param direction what the metrics count it as
 * @param inline    run on the control thread (a small download whose data connection is already waiting)
 * @param body      what moves the bytes
 * @param ascii     TYPE A, for the xferlog line
 * @param anonymous the session's login is anonymous, for the xferlog line
 */
public record TransferPlan(String verb, VirtualPath path, String opening, DataEndpoint endpoint, DataTls tls,
                           Direction direction, boolean inline, TransferBody body, boolean ascii, boolean anonymous) {}
