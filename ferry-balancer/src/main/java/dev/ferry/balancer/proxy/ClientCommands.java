package dev.ferry.balancer.proxy;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.CommandParser;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.ftps.ControlProtection;
import java.io.IOException;

/**
 * The client's commands after login (client pump): forwarded to the backend as sent, each noted with what its
 * final reply answers, except what the balancer must act on: the FTPS commands it answers itself, PASV/EPSV
 * (a new {@link PendingRoute}), PORT/EPRT ({@link ActiveBridge}), ABOR and the transfer commands
 * ({@link SessionTransfers}). Replies of the balancer's own wait their turn ({@code inOrder}).
 */
final class ClientCommands {

    private final SessionFacts facts;
    private final ControlProtection protection;
    /** The balancer speaks FTPS to its backends. */
    private final boolean backendFtps;
    private final PendingRoute pending;
    private final ActiveBridge active;
    private final SessionTransfers transfers;
    private final BackendCommands backend;
    private final ClientReplies inOrder;

    ClientCommands(SessionFacts facts, ControlProtection protection, boolean backendFtps, PendingRoute pending,
                   ActiveBridge active, SessionTransfers transfers, BackendCommands backend, ClientReplies inOrder) {
        this.facts = facts;
        this.protection = protection;
        this.backendFtps = backendFtps;
        this.pending = pending;
        this.active = active;
        this.transfers = transfers;
        this.backend = backend;
        this.inOrder = inOrder;
    }

    /** One command line from the client. */
    void handle(String line) throws IOException {
        CommandParser.Result parsed = CommandParser.parse(line);
        if (!(parsed instanceof CommandParser.Result.Parsed p)) {
            // The backend words the error; its reply is passed on like any other.
            backend.send(line, Awaited.forwarded(null));
            return;
        }
        Command c = p.command();
        Verb v = c.verb();
        facts.lastVerb(v);
        Reply own = security(c);
        if (own != null) {
            inOrder.send(own);
            return;
        }
        switch (v) {
            case REIN -> {
                protection.reinitialize();
                active.reinitialize();
                backend.send(line, Awaited.forwarded(v));
            }
            case PORT, EPRT -> {
                Reply refusal = active.request(c);
                if (refusal != null) {
                    inOrder.send(refusal);
                }
            }
            case PASV -> backend.send(line, new Awaited(Awaited.Kind.PASSIVE, v, pending.open(DataRoute.Mode.PASSIVE, v, null)));
            case EPSV -> {
                if (c.argument() != null && c.argument().trim().equalsIgnoreCase("ALL")) {
                    active.epsvAll();
                    backend.send(line, Awaited.forwarded(v));
                } else {
                    backend.send(line, new Awaited(Awaited.Kind.PASSIVE, v, pending.open(DataRoute.Mode.PASSIVE, v, null)));
                }
            }
            default -> {
                if (v == Verb.QUIT) {
                    facts.ending("quit");
                }
                if (v == Verb.USER) {
                    // A new login on the same connection (after a refused PASS, or REIN): its lines carry the new name.
                    facts.user(c.argument());
                }
                if (v == Verb.ABOR) {
                    transfers.clientAborts();
                }
                if (v.movesData()) {
                    transfer(line, v);
                } else {
                    backend.send(line, Awaited.forwarded(v));
                }
            }
        }
    }

    /**
     * The balancer's own answer to a command about TLS, or null to go on. AUTH, PBSZ, PROT and CCC never reach
     * the backend: the client's TLS ends here, and an FTPS backend has its own with the balancer. The data
     * protection policy is checked on the transfer command ({@link #transfer}).
     */
    private Reply security(Command c) {
        return switch (c.verb()) {
            // USER went to the backend (ControlProtection.loggedIn): AUTH is refused, CCC is never allowed.
            case AUTH -> protection.auth(c.argument(), false).reply();
            case PBSZ -> protection.protectionBufferSize(c.argument());
            case PROT -> protection.protection(c.argument());
            case CCC -> protection.clearCommandChannel(false).reply();
            // REIN would leave an FTPS backend with PROT C (its data in clear text) while the balancer
            // goes on speaking TLS on data connections: refused; with plain backends it is passed on.
            case REIN -> backendFtps ? Reply.of(502, "REIN is not available through this balancer; reconnect to log in again.") : null;
            default -> null;
        };
    }

    /**
     * A transfer command: it uses the pending route (the next transfer needs a new one, as backends do). RFC 4217
     * §10.2: it is answered 521 when the policy wants data protected and PROT is C (checked here, not at the PASV
     * or PORT before it: PROT may change in between); the route it would have used must not outlive the refusal:
     * its balancer port is freed, and an active route never connects.
     */
    private void transfer(String line, Verb v) throws IOException {
        Reply unprotected = protection.dataTransfer(v);
        if (unprotected != null) {
            pending.drop();
            facts.log.info("transfer-refused").with("cmd", v).with("reason", "data-protection-required").log();
            inOrder.send(unprotected);
            return;
        }
        DataRoute route = pending.take();
        if (route != null) {
            route.command(v);
        }
        backend.send(line, new Awaited(Awaited.Kind.TRANSFER, v, route));
        active.commandSent(route);
    }
}
