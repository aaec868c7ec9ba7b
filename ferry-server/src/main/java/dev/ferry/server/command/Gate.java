package dev.ferry.server.command;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.server.auth.UploadDirectory;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Right;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
        // SECURITY: what the account may do is asked of the account, for the path at hand: of its per-folder
        // rights when it has some (folderRefusal), else of its access.
        if (upload == UploadDirectory.Ruling.OUTSIDE && verb.permission() != Verb.Permission.NONE) {
            if (state.account().hasFolderRights()) {
                Reply folder = folderRefusal(verb, where(verb, target, state), state);
                if (folder != null) {
                    return folder;
                }
            } else if (!state.account().allows(verb.permission(), target)) {
                return verb.permission() == Verb.Permission.WRITE ? WRITE_DENIED : READ_DENIED;
            }
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

    /**
     * The rights a verb asks for before its handler runs, any one of which lets it through the gate (empty: none),
     * and whether they are asked of the path as an entry to create, remove or rename
     * ({@link FolderRights#allowsOnEntry}). The exhaustive switch makes a new verb a compile error until its
     * right is decided. The first right is the one a refusal names. Some answers need the file system, which the
     * gate does not touch; the handler asks again once it knows ({@link #folderRefusal(Right, VirtualPath,
     * boolean, SessionState)}):
     * <ul>
     *   <li>STOR and APPE pass on UPLOAD or OVERWRITE; where the upload is opened, an existing file needs OVERWRITE
     *       and a new one UPLOAD. REST n + STOR writes into an existing file: OVERWRITE.</li>
     *   <li>RNTO over an existing file needs OVERWRITE there too (SFTPGo's rule); moving a file into a folder
     *       needs RENAME there, not UPLOAD, as in SFTPGo: nothing new arrives.</li>
     *   <li>MFMT and STOU carry their path in the argument's tail; the handler asks with it.</li>
     * </ul>
     */
    static Asked asked(Verb verb, boolean restPending) {
        return switch (verb) {
            // entering a folder shows nothing in it; a write-only drop folder must be enterable, as clients
            // upload with "cd incoming; put f" (the anonymous UploadDirectory allows CWD too)
            case CWD, CDUP -> Asked.of(false, Right.LIST, Right.UPLOAD);
            case LIST, NLST, MLSD, MLST, STAT, SIZE, MDTM -> Asked.of(false, Right.LIST);
            // HASH gives away the content's digest, which confirms a guess of the content: a read of the file
            case RETR, HASH -> Asked.of(false, Right.DOWNLOAD);
            case STOR -> restPending ? Asked.of(false, Right.OVERWRITE) : Asked.of(false, Right.UPLOAD, Right.OVERWRITE);
            case APPE -> Asked.of(false, Right.UPLOAD, Right.OVERWRITE);
            case STOU -> Asked.of(false, Right.UPLOAD);
            case MFMT -> Asked.of(false, Right.OVERWRITE);
            case DELE, RMD -> Asked.of(true, Right.DELETE);
            case MKD -> Asked.of(true, Right.MKDIR);
            case RNFR, RNTO -> Asked.of(true, Right.RENAME);
            case USER, PASS, ACCT, REIN, QUIT, PORT, PASV, EPRT, EPSV, TYPE, STRU, MODE, ALLO, REST, ABOR, PWD, SITE,
                 SYST, HELP, NOOP, FEAT, OPTS, HOST, AUTH, PBSZ, PROT, CCC -> Asked.NOTHING;
        };
    }

    /** What {@link #asked} returns: rights any of which will do, asked of the path or of it as an entry. */
    record Asked(boolean entry, List<Right> anyOf) {
        static final Asked NOTHING = new Asked(false, List.of());

        static Asked of(boolean entry, Right... anyOf) {
            return new Asked(entry, List.of(anyOf));
        }
    }

    /**
     * The per-folder refusal of {@code verb} at {@code where}, or null. A null {@code where} (an argument that names
     * no valid path, or a verb whose path the handler finds) asks nothing here: nothing is touched before the
     * handler, which replies 550/553 for the path or asks again with it.
     */
    static Reply folderRefusal(Verb verb, VirtualPath where, SessionState state) {
        Asked asked = asked(verb, state.restPending());
        if (where == null || asked.anyOf().isEmpty()) {
            return null;
        }
        for (Right r : asked.anyOf()) {
            if (state.account().may(r, where, asked.entry())) {
                return null;
            }
        }
        return FOLDER_DENIED.get(asked.anyOf().getFirst());
    }

    /**
     * For handlers that learn what a command does only from the file system (an upload meeting an existing file,
     * a rename over one, MFMT's path): the refusal when the account has per-folder rights and {@code right} does
     * not hold at {@code where}, else null. An account without them was answered by the gate.
     */
    public static Reply folderRefusal(Right right, VirtualPath where, boolean entry, SessionState state) {
        if (!state.account().hasFolderRights() || state.account().may(right, where, entry)) {
            return null;
        }
        return FOLDER_DENIED.get(right);
    }

    private static final Map<Right, Reply> FOLDER_DENIED = folderDenied();

    private static Map<Right, Reply> folderDenied() {
        Map<Right, Reply> m = new EnumMap<>(Right.class);
        for (Right r : Right.values()) {
            m.put(r, Reply.of(550, "Permission denied: no " + r.name().toLowerCase(Locale.ROOT)
                    + " right in this folder."));
        }
        return m;
    }

    /** The path a verb's rights are asked of: CDUP's parent, STOU's working directory, else its argument. */
    private static VirtualPath where(Verb verb, VirtualPath target, SessionState state) {
        return switch (verb) {
            case CDUP -> state.cwd().parent();
            case STOU -> target == null ? state.cwd() : target;
            default -> target;
        };
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
        if (refusal == UploadDirectory.REFUSED) {
            return "upload-directory-write-only";
        }
        for (Map.Entry<Right, Reply> e : FOLDER_DENIED.entrySet()) {
            if (refusal == e.getValue()) {
                return "folder-right-" + e.getKey().name().toLowerCase(Locale.ROOT);
            }
        }
        // What is left is ControlProtection's answer (RFC 4217 §10.2): PROT P required, or PBSZ first.
        return "protection-required";
    }

    /**
     * The path {@code command}'s argument names, resolved against the working directory; the working
     * directory when a path verb has no argument; null when the verb names no path (STAT alone; PathKind NONE: MFMT
     * carries its path after a time stamp, STOU a name hint, and parse them themselves).
     *
     * @param pathArgument the argument as a path ({@link #pathArgument})
     * @throws InvalidVirtualPathException a name no file can have (answered by {@link #invalidPath})
     */
    public static VirtualPath target(Verb verb, String pathArgument, VirtualPath cwd)
            throws InvalidVirtualPathException {
        // STAT without a path is the server's status, about no file
        if (verb.pathKind() == Verb.PathKind.NONE || verb == Verb.STAT && pathArgument == null) {
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
