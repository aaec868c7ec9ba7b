package dev.ferry.server.session;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.HelpText;
import dev.ferry.protocol.command.PreLogin;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.server.ServerContext;
import dev.ferry.server.command.EndpointCommands;
import dev.ferry.server.command.FileCommands;
import dev.ferry.server.command.Gate;
import dev.ferry.server.command.InfoCommands;
import dev.ferry.server.command.LoginCommands;
import dev.ferry.server.command.ParameterCommands;
import dev.ferry.server.command.Quotas;
import dev.ferry.server.command.SessionState;
import dev.ferry.server.command.TransferCommands.ListingKind;
import dev.ferry.server.command.TransferCommands;
import dev.ferry.server.data.ControlSide;
import dev.ferry.server.data.Transfer;
import dev.ferry.server.data.TransferRunner;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.StorageEngines;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.log.SessionEvents;
import java.io.IOException;
import java.net.InetAddress;

/**
 * From a parsed command to its reply: ABOR and STAT beside a running transfer, the shared pre-login grammar
 * ({@link PreLogin}) before login, and after it the path resolved once by the verb's path kind, the
 * {@link Gate}, then the one handler of the verb. The exhaustive switch in {@link #execute} makes a verb
 * without a handler a compile error.
 */
final class Dispatcher {

    private static final Reply ALLO_NOT_NEEDED = Reply.of(202, "ALLO not needed at this site.");

    private final SessionState state;
    private final TransferRunner transfers;
    private final ReplyWriter replies;
    private final ControlTls tls;
    private final SessionEnd end;
    private final SessionEvents log;
    private final InetAddress client;
    private final LoginCommands login;
    private final ParameterCommands parameters;
    private final EndpointCommands endpoints;
    private final TransferCommands transferCommands;
    private final FileCommands files;
    private final InfoCommands info;
    private final StorageEngines storage;
    private final Quotas quotas;

    /**
     * @param dataPeer where data connections come from (PASV) and go to (PORT): the client, or the trusted
     *                 proxy that relays them
     * @param local    the server address the client reached
     */
    Dispatcher(ServerContext ctx, SessionState state, TransferRunner transfers, ControlSide control,
               ReplyWriter replies, ControlTls tls, SessionEnd end, SessionEvents log, InetAddress client,
               InetAddress dataPeer, InetAddress local, boolean proxyOwn) {
        this.state = state;
        this.transfers = transfers;
        this.replies = replies;
        this.tls = tls;
        this.end = end;
        this.log = log;
        this.client = client;
        // Relayed by a trusted proxy (a balancer sent the client's address in a PROXY header): the data peer is the
        // proxy, not the client.
        this.login = new LoginCommands(ctx, state, log, client, proxyOwn, !client.equals(dataPeer));
        this.parameters = new ParameterCommands(state);
        this.endpoints = new EndpointCommands(ctx, state, log, client, dataPeer, local);
        this.quotas = new Quotas(ctx, state, log.id());
        this.transferCommands = new TransferCommands(ctx, state, transfers, control, log, dataPeer, quotas);
        this.files = new FileCommands(state, log, quotas, ctx.events());
        this.storage = ctx.storage();
        // FEAT comes before USER, so it speaks for the server's storage; MFMT asks the account's (below).
        this.info = new InfoCommands(state, ctx.settings().serverName(), ctx.tls() != null,
                ctx.homes().keepsModificationTimes());
    }

    void dispatch(Command command) throws IOException {
        Verb verb = command.verb();
        // Passed as the Command, not its text: Command.toString (which masks PASS's argument, so the password never
        // reaches the log) then runs only when DEBUG is on, not on every command.
        log.debug("command").with("cmd", command).log();
        Transfer running = transfers.running();
        if (running != null) {
            if (verb == Verb.ABOR) {
                transfers.abortRunning();
                return;
            }
            if (verb == Verb.STAT && command.argument() == null) {
                replies.send(info.status(client, running.progress, null));
                return;
            }
        }
        // Anything else waits: replies must come in command order.
        transfers.awaitEnd();
        Reply reply = state.loggedIn() ? afterLogin(command) : beforeLogin(command);
        if (reply != null) {
            replies.send(reply);
        }
    }

    /** Before login: the shared pre-login grammar; the few verbs it hands back run here. */
    private Reply beforeLogin(Command command) throws IOException {
        return switch (PreLogin.step(command, state.pendingUser() != null)) {
            case PreLogin.Step.Answer a -> {
                if (a.reply() == Replies.PLEASE_LOG_IN) {
                    refused(command.verb(), pathText(command), a.reply());
                }
                yield a.reply();
            }
            case PreLogin.Step.Quit q -> quit(q.reply());
            case PreLogin.Step.Reinitialize r -> reinitialize(r.reply());
            // One virtual host is served: any valid name is accepted (RFC 7151 §3).
            case PreLogin.Step.Host h -> h.reply();
            case PreLogin.Step.Handle h -> execute(h.command(), null, null);
        };
    }

    /** After login: the path resolved once by the verb's path kind, the gate, then the handler. */
    private Reply afterLogin(Command command) throws IOException {
        Verb verb = command.verb();
        String pathArg = Gate.pathArgument(command);
        VirtualPath target = null;
        InvalidVirtualPathException invalid = null;
        try {
            target = Gate.target(verb, pathArg, state.cwd());
        } catch (InvalidVirtualPathException e) {
            invalid = e;
        }
        Reply refused = Gate.check(verb, target, state);
        if (refused != null) {
            refused(verb, target != null ? target : pathText(command), refused);
            return refused;
        }
        VirtualPath renameFrom = state.takeRenameFrom();
        if (invalid != null) {
            Reply reply = Gate.invalidPath(verb, invalid);
            log.refused(verb.name(), pathText(command), "invalid-path", reply);
            return reply;
        }
        return switch (verb) {
            case RNTO -> files.renameTo(command.argument(), renameFrom, target);
            case LIST -> transferCommands.list(pathArg, target, ListingKind.LIST);
            case NLST -> transferCommands.list(pathArg, target, ListingKind.NLST);
            case MLSD -> transferCommands.list(pathArg, target, ListingKind.MLSD);
            default -> execute(command, target, pathArg);
        };
    }

    /**
     * One handler per verb; the exhaustive switch makes a verb without a handler a compile error. {@code path}
     * is the argument resolved by the verb's path kind (null before login and for verbs that name none).
     */
    private Reply execute(Command c, VirtualPath path, String pathArg) throws IOException {
        String arg = c.argument();
        return switch (c.verb()) {
            case USER -> login.user(arg);
            case PASS -> loginAttempt(arg == null ? "" : arg);
            case ACCT -> Replies.ACCT_NOT_NEEDED;
            case REIN -> reinitialize(Replies.READY_FOR_NEW_USER);
            case QUIT -> quit(Replies.GOODBYE);
            case CWD -> files.cwd(arg, path);
            case CDUP -> files.cwd("..", state.cwd().parent());
            case PWD -> Reply.of(257, Reply.quotePath(state.cwd().toString()) + " is the current directory.");
            case PORT -> endpoints.port(arg);
            case EPRT -> endpoints.eprt(arg);
            case PASV -> endpoints.pasv();
            case EPSV -> endpoints.epsv(arg);
            case TYPE -> parameters.type(arg);
            case STRU -> ParameterCommands.structure(arg);
            case MODE -> ParameterCommands.mode(arg);
            case RETR -> transferCommands.retrieve(arg, path);
            case STOR -> transferCommands.store(path, false);
            case APPE -> transferCommands.store(path, true);
            case STOU -> transferCommands.storeUnique(arg);
            case ALLO -> {
                Reply allocated = quotas.allocate(arg);
                yield allocated != null ? allocated : ALLO_NOT_NEEDED;
            }
            case REST -> parameters.restart(arg);
            case RNFR -> files.renameFrom(arg, path);
            case RNTO, LIST, NLST, MLSD -> throw new IllegalStateException(c.verb() + " is dispatched after login");
            case ABOR -> endpoints.abortIdle();
            case DELE -> files.delete(arg, path);
            case RMD -> files.removeDirectory(arg, path);
            case MKD -> files.makeDirectory(arg, path);
            case MLST -> files.mlst(arg, path);
            case SITE -> InfoCommands.site(arg, quotas);
            case SYST -> Replies.SYSTEM_TYPE;
            // no path: STAT alone, or with ls options only ("STAT -l")
            case STAT -> path == null ? info.status(client, null, endpoints.describe()) : files.statPath(arg, path);
            case HELP -> HelpText.reply(arg);
            case NOOP -> Replies.NOOP_OK;
            case FEAT -> info.features();
            case OPTS -> info.options(arg);
            case SIZE -> files.size(arg, path);
            case MDTM -> files.modificationTime(arg, path);
            // An object store cannot change an object's time (FEAT leaves MFMT out there): RFC 959's 502. The
            // account's own storage decides, which may differ from the server's.
            case MFMT -> accountKeepsModificationTimes() ? files.setModificationTime(arg)
                    : Reply.of(502, "MFMT is not available: this server's storage keeps the time of the last upload.");
            case HASH -> files.hash(arg, path);
            // RFC 7151 §3: HOST comes before USER; after login it is out of sequence.
            case HOST -> Replies.HOST_AFTER_USER;
            case AUTH -> tls.auth(arg);
            case PBSZ -> state.protection().protectionBufferSize(arg);
            case PROT -> state.protection().protection(arg);
            case CCC -> tls.clearCommandChannel();
        };
    }

    /** The one place a permission or state refusal is logged ({@link SessionEvents#refused}, bounded). */
    private void refused(Verb verb, Object path, Reply reply) {
        log.refused(verb.name(), path, Gate.reason(reply), reply);
    }

    /**
     * The path argument as the client sent it, made printable; null for a verb that names no path (so that
     * no other argument, PASS's above all, is ever logged).
     */
    private static String pathText(Command command) {
        String arg = Gate.pathArgument(command);
        return command.verb().pathKind() == Verb.PathKind.NONE || arg == null ? null
                : Printable.of(arg, Replies.ECHO_LIMIT);
    }

    private Reply loginAttempt(String password) {
        Reply reply = login.pass(password);
        if (reply == LoginCommands.TOO_MANY_FAILURES || reply == LoginCommands.ACCOUNTS_UNAVAILABLE
                || reply == LoginCommands.TOO_MANY_SESSIONS) {
            end.afterReply(null);
        }
        return reply;
    }

    private Reply quit(Reply goodbye) {
        end.afterReply(null);
        return goodbye;
    }

    /**
     * REIN (RFC 959 §4.1.1): logged out, transfer parameters and data protection reset (RFC 4217 §9). TLS on
     * the control connection stays on (see ControlProtection.reinitialize). SECURITY: only a REIN that ends a
     * login restarts the login clock; one before login keeps it running from the connection, or a client
     * that never logs in could stay for ever by sending REIN (PreLogin.Step.Reinitialize).
     */
    private Reply reinitialize(Reply ready) {
        boolean endsLogin = state.loggedIn();
        state.reset(endsLogin);
        state.protection().reinitialize();
        log.info("reinitialize").log();
        if (endsLogin) {
            log.user(null);
        }
        return ready;
    }

    /** Whether the logged-in account's storage can set a file's time; false when its engine is not at hand. */
    private boolean accountKeepsModificationTimes() {
        try {
            return storage.forAccount(state.account().storage()).keepsModificationTimes();
        } catch (IOException e) {
            return false;
        }
    }
}
