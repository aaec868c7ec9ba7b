package dev.ferry.server.command;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.server.auth.UploadDirectory;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;

/**
 * The verb table applied to one command after login, before any handler runs: the one place that says no
 * (pyftpdlib's pre-processing gate, with the path column used too). Pure: a verb, its resolved path and the
 * session's state in, a refusal or null out.
 *
 * <p>The order is the order clients have always seen: login (530), permission (550), data protection
 * (521), the RNFR/RNTO sequence (503), and only then an argument that names no valid path (550/553), which
 * the dispatcher resolves once by the verb's {@link Verb.PathKind} ({@link #target}) so that no handler
 * parses a path itself. A refused command changes nothing.
 *
 * <p>Path kinds: FILE, DIRECTORY and ANY resolve alike; whether the path is a file or a directory is the
 * file system's answer (one {@code stat}, which the handler needs anyway), not the gate's, which does no I/O.
 * The kind says that the argument is a path, and which one the rights are asked about.
 */
public final class Gate {

    private Gate() {}

    static final Reply READ_DENIED = Reply.of(550, "Permission denied: this account cannot read here.");
    static final Reply WRITE_DENIED = Reply.of(550, "Permission denied: this account is read-only.");
    // RFC 959 §5.4: RNTO's 503, "bad sequence of commands", when no RNFR came just before.
    static final Reply RNFR_FIRST = Reply.of(503, "Send RNFR first.");

    /**
     * The refusal for {@code verb}, or null when it may run.
     *
     * @param target the path its argument names ({@link #target}), or null: none, or one that did not resolve
     */
    public static Reply check(Verb verb, VirtualPath target, SessionState state) {
        // SECURITY: without a login only the pre-login grammar runs (PreLogin); nothing about the files, the
        // data connections or the site answers an unauthenticated client.
        if (verb.needsLogin() && !state.loggedIn()) {
            return Replies.PLEASE_LOG_IN;
        }
        // SECURITY: an anonymous upload directory is write-only (UploadDirectory says why): there a new upload
        // is allowed to an otherwise read-only account, and everything else that touches the files is refused.
        UploadDirectory.Ruling upload = uploadRuling(verb, target, state);
        if (upload == UploadDirectory.Ruling.REFUSED) {
            return state.account().uploads().refusal();
        }
        // SECURITY: what the account may do is asked of the account, for the path at hand.
        if (upload == UploadDirectory.Ruling.OUTSIDE && verb.permission() != Verb.Permission.NONE
                && !state.account().allows(verb.permission(), target)) {
            return verb.permission() == Verb.Permission.WRITE ? WRITE_DENIED : READ_DENIED;
        }
        // RFC 4217 §10.2: checked on the command that opens the data connection, before any 1xx reply.
        Reply protection = state.protection().dataTransfer(verb);
        if (protection != null) {
            return protection;
        }
        if (verb == Verb.RNTO && state.renameFrom() == null) {
            return RNFR_FIRST;
        }
        return null;
    }

    /** STOU names no path (its argument is a hint): the directory it writes to is the working directory. */
    private static UploadDirectory.Ruling uploadRuling(Verb verb, VirtualPath target, SessionState state) {
        UploadDirectory uploads = state.loggedIn() ? state.account().uploads() : null;
        if (uploads == null) {
            return UploadDirectory.Ruling.OUTSIDE;
        }
        VirtualPath where = verb == Verb.STOU && target == null ? state.cwd() : target;
        return uploads.rule(verb, where, state.restPending());
    }

    /**
     * Why {@link #check} refused, as the log's {@code reason=}: a token fail2ban filters and auditors can match.
     */
    public static String reason(Reply refusal) {
        if (refusal == Replies.PLEASE_LOG_IN) {
            return "not-logged-in";
        }
        if (refusal == WRITE_DENIED) {
            return "read-only";
        }
        if (refusal == READ_DENIED) {
            return "read-denied";
        }
        if (refusal == RNFR_FIRST) {
            return "rnfr-first";
        }
        // What is left is ControlProtection's answer (RFC 4217 §10.2): PROT P required, or PBSZ first.
        return "protection-required";
    }

    /**
     * The path {@code command}'s argument names, resolved against the working directory; the working
     * directory when a path verb has no argument; null when the verb names no path (PathKind NONE: MFMT
     * carries its path after a time stamp, STOU a name hint, and parse them themselves).
     *
     * @param pathArgument the argument as a path ({@link #pathArgument})
     * @throws InvalidVirtualPathException a name no file can have (answered by {@link #invalidPath})
     */
    public static VirtualPath target(Verb verb, String pathArgument, VirtualPath cwd)
            throws InvalidVirtualPathException {
        if (verb.pathKind() == Verb.PathKind.NONE) {
            return null;
        }
        return pathArgument == null || pathArgument.isEmpty() ? cwd : VirtualPath.resolve(cwd, pathArgument);
    }

    /**
     * The part of the argument that is a path: LIST, NLST and STAT take ls options first ("LIST -la dir"),
     * which are ignored; null when nothing is left.
     */
    public static String pathArgument(Command command) {
        return switch (command.verb()) {
            case LIST, NLST, STAT -> stripListOptions(command.argument());
            default -> command.argument();
        };
    }

    /** RFC 959 §4.2: 553, "file name not allowed", for a name to be created; 550 for one acted on. */
    public static Reply invalidPath(Verb verb, InvalidVirtualPathException e) {
        return switch (verb) {
            case STOR, APPE, MKD, RNTO -> Reply.of(553, e.getMessage());
            default -> Reply.of(550, e.getMessage());
        };
    }

    /** "LIST -la dir": clients pass ls options; they are ignored, the path is what matters. */
    static String stripListOptions(String arg) {
        if (arg == null) {
            return null;
        }
        String rest = arg;
        while (rest.startsWith("-")) {
            int space = rest.indexOf(' ');
            if (space < 0) {
                return null;
            }
            rest = rest.substring(space + 1).stripLeading();
        }
        return rest.isEmpty() ? null : rest;
    }
}
