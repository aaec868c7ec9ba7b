package dev.ferry.protocol.command;

import java.util.HashMap;
import java.util.Map;

/**
 * The command table: one row per verb, as data. The server's gate applies the columns before any
 * handler runs (501 for a missing or unexpected argument, 530 before login, 550 for a write by a
 * read-only user); HELP and FEAT are generated from the same rows.
 *
 * <p>Columns: argument rule, whether login is needed, the permission it needs, the kind of path its
 * argument names, and its help text.
 */
public enum Verb {
    // Access control (RFC 959 §4.1.1)
    USER(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "USER <name>: log in as this user"),
    PASS(Argument.OPTIONAL, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "PASS <password>: password for USER"),
    ACCT(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "ACCT <account>: account (not needed here)"),
    CWD(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.DIRECTORY, "CWD <dir>: change working directory"),
    CDUP(Argument.NONE, Login.NEEDED, Permission.READ, PathKind.NONE, "CDUP: go to the parent directory"),
    REIN(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "REIN: log out, keep the connection"),
    QUIT(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "QUIT: end the session"),
    // Transfer parameters (RFC 959 §4.1.2, RFC 2428)
    PORT(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, "PORT h1,h2,h3,h4,p1,p2: active mode"),
    PASV(Argument.NONE, Login.NEEDED, Permission.NONE, PathKind.NONE, "PASV: passive mode"),
    EPRT(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, "EPRT |af|addr|port|: extended active mode"),
    EPSV(Argument.OPTIONAL, Login.NEEDED, Permission.NONE, PathKind.NONE, "EPSV [1|2|ALL]: extended passive mode"),
    TYPE(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, "TYPE A|I: ASCII or binary transfers"),
    STRU(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, "STRU F: file structure"),
    MODE(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, "MODE S: stream mode"),
    // Service commands (RFC 959 §4.1.3)
    RETR(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.FILE, "RETR <file>: download"),
    STOR(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.FILE, "STOR <file>: upload"),
    STOU(Argument.OPTIONAL, Login.NEEDED, Permission.WRITE, PathKind.NONE, "STOU: upload under a unique name"),
    APPE(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.FILE, "APPE <file>: append"),
    ALLO(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, "ALLO <bytes>: reserve space (not needed here)"),
    REST(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, "REST <offset>: restart the next transfer at offset"),
    RNFR(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.ANY, "RNFR <path>: rename from"),
    RNTO(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.ANY, "RNTO <path>: rename to"),
    ABOR(Argument.NONE, Login.NEEDED, Permission.NONE, PathKind.NONE, "ABOR: abort the transfer"),
    DELE(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.FILE, "DELE <file>: delete a file"),
    RMD(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.DIRECTORY, "RMD <dir>: remove a directory"),
    MKD(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.DIRECTORY, "MKD <dir>: make a directory"),
    PWD(Argument.NONE, Login.NEEDED, Permission.NONE, PathKind.NONE, "PWD: print working directory"),
    LIST(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.ANY, "LIST [path]: long listing"),
    NLST(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.ANY, "NLST [path]: name listing"),
    SITE(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, "SITE HELP: site commands"),
    SYST(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "SYST: system type"),
    STAT(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.ANY, "STAT [path]: status, or a listing over the control connection"),
    HELP(Argument.OPTIONAL, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "HELP [command]: this help"),
    NOOP(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "NOOP: do nothing"),
    // RFC 2389
    FEAT(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "FEAT: list extensions"),
    OPTS(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "OPTS <command> [options]: set options (UTF8 ON, MLST facts, HASH algorithm)"),
    // RFC 3659
    SIZE(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.FILE, "SIZE <file>: size in bytes"),
    MDTM(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.FILE, "MDTM <file>: modification time"),
    MLST(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.ANY, "MLST [path]: facts of one entry"),
    MLSD(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.DIRECTORY, "MLSD [dir]: machine listing"),
    // RFC 7151
    HOST(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "HOST <name>: virtual host"),
    // draft-somers-ftp-mfxx and draft-bryan-ftpext-hash
    MFMT(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.NONE, "MFMT <YYYYMMDDHHMMSS> <file>: set modification time"),
    HASH(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.FILE, "HASH <file>: file digest (OPTS HASH selects the algorithm)"),
    // RFC 2228 / RFC 4217
    AUTH(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "AUTH TLS: start TLS"),
    PBSZ(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "PBSZ 0: protection buffer size"),
    PROT(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "PROT C|P: data channel protection"),
    CCC(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, "CCC: clear the control channel (refused)");

    /** Whether the verb takes an argument. */
    public enum Argument { NONE, OPTIONAL, REQUIRED }

    /** Whether the verb is allowed before a successful login. */
    public enum Login { NEEDED, NOT_NEEDED }

    /** What the user must be allowed to do. */
    public enum Permission { NONE, READ, WRITE }

    /** What kind of path the argument names. */
    public enum PathKind { NONE, FILE, DIRECTORY, ANY }

    private final Argument argument;
    private final Login login;
    private final Permission permission;
    private final PathKind pathKind;
    private final String help;

    Verb(Argument argument, Login login, Permission permission, PathKind pathKind, String help) {
        this.argument = argument;
        this.login = login;
        this.permission = permission;
        this.pathKind = pathKind;
        this.help = help;
    }

    public Argument argument() { return argument; }
    public boolean needsLogin() { return login == Login.NEEDED; }
    public Permission permission() { return permission; }
    public PathKind pathKind() { return pathKind; }
    public String help() { return help; }

    /**
     * The commands whose reply ends a transfer over a data connection (RFC 959 §4.1.3, RFC 3659 §7): RFC 4217
     * §10.2 checks data protection on them, and a balancer holds their final reply for the data's end.
     */
    public boolean movesData() {
        return switch (this) {
            case RETR, STOR, APPE, STOU, LIST, NLST, MLSD -> true;
            default -> false;
        };
    }

    private static final Map<String, Verb> BY_NAME = new HashMap<>();

    static {
        for (Verb v : values()) {
            BY_NAME.put(v.name(), v);
        }
        // RFC 1123 §4.1.3.1: the X-prefixed experimental forms are still sent by some clients.
        BY_NAME.put("XCWD", CWD);
        BY_NAME.put("XCUP", CDUP);
        BY_NAME.put("XMKD", MKD);
        BY_NAME.put("XRMD", RMD);
        BY_NAME.put("XPWD", PWD);
    }

    /** The verb for a command name, case-insensitive (RFC 959 §5.3), or null if unknown. */
    public static Verb lookup(String name) {
        Verb v = BY_NAME.get(name);
        if (v == null && name.length() <= 4) {
            v = BY_NAME.get(asciiUpperCase(name));
        }
        return v;
    }

    // SECURITY: command codes are ASCII letters (RFC 959 §5.3). String.toUpperCase also maps "ſ" to
    // "S" and "ﬆ" to "ST", which would make "uſer" a USER here while a backend behind the balancer
    // sees an unknown command: the two must never disagree about which command a line is.
    private static String asciiUpperCase(String name) {
        char[] chars = name.toCharArray();
        for (int i = 0; i < chars.length; i++) {
            if (chars[i] >= 'a' && chars[i] <= 'z') {
                chars[i] = (char) (chars[i] - ('a' - 'A'));
            }
        }
        return new String(chars);
    }
}
