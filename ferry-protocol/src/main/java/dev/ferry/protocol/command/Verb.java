package dev.ferry.protocol.command;

import java.util.HashMap;
import java.util.Map;

/**
 * The command table: one row per verb, as data. The server's gate applies the columns before any
 * handler runs (501 for a missing or unexpected argument, 530 before login, 550 for a write by a
 * read-only user, 521 for a transfer the PROT level does not allow); HELP ({@link HelpText}), FEAT
 * ({@link FeatureList}) and the pre-login grammar ({@link PreLogin}) are built from the same rows, so that
 * server and balancer give the same answers.
 *
 * <p>Columns: argument rule, whether login is needed, the permission it needs, the kind of path its
 * argument names, what it does with the data connection, what FEAT says of it, and its help text.
 */
public enum Verb {
    // Access control (RFC 959 §4.1.1)
    USER(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "USER <name>: log in as this user"),
    PASS(Argument.OPTIONAL, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "PASS <password>: password for USER"),
    ACCT(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "ACCT <account>: account (not needed here)"),
    CWD(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.DIRECTORY, Data.NONE, Feature.NONE,
            "CWD <dir>: change working directory"),
    CDUP(Argument.NONE, Login.NEEDED, Permission.READ, PathKind.NONE, Data.NONE, Feature.NONE,
            "CDUP: go to the parent directory"),
    REIN(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "REIN: log out, keep the connection"),
    QUIT(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "QUIT: end the session"),
    // Transfer parameters (RFC 959 §4.1.2, RFC 2428)
    PORT(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.ENDPOINT, Feature.NONE,
            "PORT h1,h2,h3,h4,p1,p2: active mode"),
    PASV(Argument.NONE, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.ENDPOINT, Feature.always("PASV"),
            "PASV: passive mode"),
    EPRT(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.ENDPOINT, Feature.always("EPRT"),
            "EPRT |af|addr|port|: extended active mode"),
    EPSV(Argument.OPTIONAL, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.ENDPOINT, Feature.always("EPSV"),
            "EPSV [1|2|ALL]: extended passive mode"),
    TYPE(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "TYPE A|I: ASCII or binary transfers"),
    STRU(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "STRU F: file structure"),
    MODE(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "MODE S: stream mode"),
    // Service commands (RFC 959 §4.1.3)
    RETR(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.FILE, Data.TRANSFER, Feature.NONE,
            "RETR <file>: download"),
    STOR(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.FILE, Data.TRANSFER, Feature.NONE,
            "STOR <file>: upload"),
    STOU(Argument.OPTIONAL, Login.NEEDED, Permission.WRITE, PathKind.NONE, Data.TRANSFER, Feature.NONE,
            "STOU: upload under a unique name"),
    APPE(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.FILE, Data.TRANSFER, Feature.NONE,
            "APPE <file>: append"),
    ALLO(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "ALLO <bytes>: reserve space (under a quota)"),
    REST(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.always("REST STREAM"),
            "REST <offset>: restart the next transfer at offset"),
    RNFR(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.ANY, Data.NONE, Feature.NONE,
            "RNFR <path>: rename from"),
    RNTO(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.ANY, Data.NONE, Feature.NONE,
            "RNTO <path>: rename to"),
    ABOR(Argument.NONE, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "ABOR: abort the transfer"),
    DELE(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.FILE, Data.NONE, Feature.NONE,
            "DELE <file>: delete a file"),
    RMD(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.DIRECTORY, Data.NONE, Feature.NONE,
            "RMD <dir>: remove a directory"),
    MKD(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.DIRECTORY, Data.NONE, Feature.NONE,
            "MKD <dir>: make a directory"),
    PWD(Argument.NONE, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "PWD: print working directory"),
    LIST(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.ANY, Data.TRANSFER, Feature.NONE,
            "LIST [path]: long listing"),
    NLST(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.ANY, Data.TRANSFER, Feature.NONE,
            "NLST [path]: name listing"),
    SITE(Argument.REQUIRED, Login.NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "SITE HELP, SITE QUOTA: site commands"),
    SYST(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "SYST: system type"),
    STAT(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.ANY, Data.NONE, Feature.NONE,
            "STAT [path]: status, or a listing over the control connection"),
    HELP(Argument.OPTIONAL, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "HELP [command]: this help"),
    NOOP(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "NOOP: do nothing"),
    // RFC 2389
    FEAT(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "FEAT: list extensions"),
    OPTS(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "OPTS <command> [options]: set options (UTF8 ON, MLST facts, HASH algorithm)"),
    // RFC 3659
    SIZE(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.FILE, Data.NONE, Feature.always("SIZE"),
            "SIZE <file>: size in bytes"),
    MDTM(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.FILE, Data.NONE, Feature.always("MDTM"),
            "MDTM <file>: modification time"),
    MLST(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.ANY, Data.NONE, Feature.withParameters("MLST"),
            "MLST [path]: facts of one entry"),
    MLSD(Argument.OPTIONAL, Login.NEEDED, Permission.READ, PathKind.DIRECTORY, Data.TRANSFER, Feature.NONE,
            "MLSD [dir]: machine listing"),
    // RFC 7151
    HOST(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.always("HOST"),
            "HOST <name>: virtual host"),
    // draft-somers-ftp-mfxx and draft-bryan-ftpext-hash
    MFMT(Argument.REQUIRED, Login.NEEDED, Permission.WRITE, PathKind.NONE, Data.NONE, Feature.always("MFMT"),
            "MFMT <YYYYMMDDHHMMSS> <file>: set modification time"),
    HASH(Argument.REQUIRED, Login.NEEDED, Permission.READ, PathKind.FILE, Data.NONE, Feature.withParameters("HASH"),
            "HASH <file>: file digest (OPTS HASH selects the algorithm)"),
    // RFC 2228 / RFC 4217
    AUTH(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.whenTls("AUTH TLS"),
            "AUTH TLS: start TLS"),
    PBSZ(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.whenTls("PBSZ"),
            "PBSZ 0: protection buffer size"),
    PROT(Argument.REQUIRED, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.whenTls("PROT"),
            "PROT C|P: data channel protection"),
    CCC(Argument.NONE, Login.NOT_NEEDED, Permission.NONE, PathKind.NONE, Data.NONE, Feature.NONE,
            "CCC: clear the control channel (refused)");

    /** Whether the verb takes an argument. */
    public enum Argument { NONE, OPTIONAL, REQUIRED }

    /** Whether the verb is allowed before a successful login. */
    public enum Login { NEEDED, NOT_NEEDED }

    /** What the user must be allowed to do. */
    public enum Permission { NONE, READ, WRITE }

    /** What kind of path the argument names. */
    public enum PathKind { NONE, FILE, DIRECTORY, ANY }

    /**
     * What the verb does with the data connection: nothing; sets up its endpoint (PORT, EPRT: RFC 959
     * §4.1.2 and RFC 2428 §2; PASV, EPSV: §3); or transfers over it, with a final reply at the transfer's end
     * (RFC 959 §4.1.3, RFC 3659 §7 for MLSD).
     */
    public enum Data { NONE, ENDPOINT, TRANSFER }

    /**
     * What FEAT says of the verb (RFC 2389 §3.2): nothing; a fixed line; a fixed line only when the daemon
     * offers TLS (RFC 4217 §6); or a label whose parameters the daemon gives (the MLST facts, RFC 3659 §7.8;
     * the HASH algorithms), as they depend on the session's OPTS.
     */
    public record Feature(Offered offered, String line) {

        public enum Offered { NEVER, ALWAYS, WITH_TLS, WITH_PARAMETERS }

        public static final Feature NONE = new Feature(Offered.NEVER, null);

        static Feature always(String line) { return new Feature(Offered.ALWAYS, line); }
        static Feature whenTls(String line) { return new Feature(Offered.WITH_TLS, line); }
        static Feature withParameters(String label) { return new Feature(Offered.WITH_PARAMETERS, label); }
    }

    private final Argument argument;
    private final Login login;
    private final Permission permission;
    private final PathKind pathKind;
    private final Data data;
    private final Feature feature;
    private final String help;

    Verb(Argument argument, Login login, Permission permission, PathKind pathKind, Data data, Feature feature,
            String help) {
        this.argument = argument;
        this.login = login;
        this.permission = permission;
        this.pathKind = pathKind;
        this.data = data;
        this.feature = feature;
        this.help = help;
    }

    public Argument argument() { return argument; }
    public Login login() { return login; }
    public boolean needsLogin() { return login == Login.NEEDED; }
    public Permission permission() { return permission; }
    public PathKind pathKind() { return pathKind; }
    public Data data() { return data; }
    public Feature feature() { return feature; }
    public String help() { return help; }

    /**
     * The commands whose reply ends a transfer over a data connection ({@link Data#TRANSFER}): RFC 4217
     * §10.2 checks data protection on them, and a balancer holds their final reply for the data's end.
     */
    public boolean movesData() {
        return data == Data.TRANSFER;
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
