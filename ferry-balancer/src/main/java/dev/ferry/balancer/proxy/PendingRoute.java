package dev.ferry.balancer.proxy;

import dev.ferry.balancer.data.DataPorts;
import dev.ferry.protocol.command.Verb;
import java.net.InetSocketAddress;

/**
 * The data route set up by a session's last PASV/EPSV/PORT/EPRT and not used by a transfer yet. A session holds
 * at most one: a new data command replaces it and its balancer port is freed at once, so that one session cannot
 * hold more than one of the range's ports for its address. Changed by the client pump; read by the backend pump
 * and at the session's end.
 */
final class PendingRoute {

    private final DataPorts ports;
    private volatile DataRoute current;

    PendingRoute(DataPorts ports) {
        this.ports = ports;
    }

    /** A new route for a PASV/EPSV/PORT/EPRT, replacing the one not used yet. */
    DataRoute open(DataRoute.Mode mode, Verb verb, InetSocketAddress clientTarget) {
        DataRoute previous = current;
        if (previous != null) {
            previous.replace();
            previous.cancel(ports);
        }
        DataRoute route = new DataRoute(mode, verb, clientTarget);
        current = route;
        return route;
    }

    /** True while a data command's route waits for its transfer command. */
    boolean waiting() {
        return current != null;
    }

    /** The route for the transfer command now sent (null: none); the next transfer needs a new one, as backends do. */
    DataRoute take() {
        DataRoute route = current;
        current = null;
        return route;
    }

    /** The pending route must not be used: its port is freed, and an active route never connects. */
    void drop() {
        DataRoute route = take();
        if (route != null) {
            route.replace();
            route.cancel(ports);
        }
    }

    /** The session ended: a port waiting for its client is free again. */
    void cancel() {
        DataRoute route = current;
        if (route != null) {
            route.cancel(ports);
        }
    }

    /** The verb that set the pending route up, for a reply that names it. */
    String verb() {
        DataRoute r = current;
        return r == null ? "data command" : r.verb.toString();
    }
}
