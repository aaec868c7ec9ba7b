package dev.ferry.balancer.proxy;

import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.data.Flow;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import java.net.InetSocketAddress;

/**
 * One PASV, EPSV, PORT or EPRT of a session through the balancer, from the command to the end of the data
 * connection it set up; a session has at most one route waiting for its transfer command, and a new data
 * command replaces it (its port goes back to the range at once).
 *
 * <p>Both modes put the <em>backend</em> in passive mode, so backends never open a connection outward
 * (docs/balancer.md, "Active mode"): for PASV/EPSV the client connects to a balancer port and the balancer
 * to the backend's; for PORT/EPRT the balancer sends the backend PASV (EPSV to an IPv6 backend) and, once the
 * transfer command went out, connects to the client's port and to the backend's, as ProFTPD's mod_proxy
 * does with its PASV data policy. Which address a backend connects out from then never matters.
 *
 * <p>Threads: the client pump makes the route and sends the transfer command, the backend pump learns the
 * backend's port, and the data connection's own thread runs the relay; the fields they share are volatile,
 * and the active connector starts exactly once, when both the port and the command are there.
 */
final class DataRoute {

    enum Mode { PASSIVE, ACTIVE }

    final Mode mode;
    /** PASV, EPSV, PORT or EPRT: for the log and the replies. */
    final Verb verb;
    /** Active mode: where the client listens (checked: its own address, not a privileged port). */
    final InetSocketAddress clientTarget;

    /** The backend's passive host and port, from its 227/229; null until then. */
    private volatile InetSocketAddress backendTarget;
    /** Passive mode: the balancer's port and the registration the client's connection is handed to. */
    private volatile int port;
    private volatile DataPorts.Route registration;
    /** The data connection's relay, from the moment the balancer starts making it; null before. */
    private volatile Flow flow;
    /** Set when the data connection could not be made: the reply the transfer gets instead of the backend's. */
    private volatile Reply failure;
    /** The transfer command that uses the route (RETR, STOR, LIST...), once sent; null before. For the transfer line. */
    private volatile Verb command;

    private boolean commandSent;
    private boolean connectorStarted;
    private boolean replaced;

    DataRoute(Mode mode, Verb verb, InetSocketAddress clientTarget) {
        this.mode = mode;
        this.verb = verb;
        this.clientTarget = clientTarget;
    }

    InetSocketAddress backendTarget() {
        return backendTarget;
    }

    Verb command() {
        return command;
    }

    void command(Verb transferCommand) {
        this.command = transferCommand;
    }

    Flow flow() {
        return flow;
    }

    void flow(Flow f) {
        this.flow = f;
    }

    Reply failure() {
        return failure;
    }

    /** The data connection could not be made; {@code reply} replaces the transfer's final reply. */
    void fail(Reply reply) {
        this.failure = reply;
    }

    /** Passive mode: the port the client was told and the registration waiting for its connection. */
    void registered(int balancerPort, DataPorts.Route route) {
        this.port = balancerPort;
        this.registration = route;
    }

    /** Drops the registration if the client has not connected yet (the port is free again for its address). */
    void cancel(DataPorts ports) {
        DataPorts.Route r = registration;
        if (r != null) {
            ports.cancel(port, r);
        }
    }

    /** A later data command replaced this route before its transfer command: it must not connect any more. */
    synchronized void replace() {
        replaced = true;
    }

    synchronized boolean replaced() {
        return replaced;
    }

    /**
     * The backend answered with its passive port (backend pump). Active mode: true when the connector
     * should start now (the transfer command went out already).
     */
    synchronized boolean backendPort(InetSocketAddress target) {
        this.backendTarget = target;
        return readyToConnect();
    }

    /** The transfer command went to the backend (client pump). Active mode: true when the connector should start now. */
    synchronized boolean commandSent() {
        commandSent = true;
        return readyToConnect();
    }

    private boolean readyToConnect() {
        if (mode != Mode.ACTIVE || connectorStarted || replaced || !commandSent || backendTarget == null) {
            return false;
        }
        connectorStarted = true;
        return true;
    }
}
