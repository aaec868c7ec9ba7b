package dev.ferry.server.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.auth.UploadDirectory;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The gate as a table: one verb, one session state, the refusal code (0: the handler runs). */
class GateTest {

    /**
     * @param login  none, rw (may write) or ro (read-only)
     * @param policy the logged-in user's TLS policy
     * @param prot   the data protection in force: C (clear) or P (TLS)
     * @param rnfr   an RNFR is pending
     */
    @ParameterizedTest(name = "{0} login={1} policy={2} prot={3} rnfr={4} -> {5}")
    @CsvSource({
            // login (530): only the verbs the table marks NOT_NEEDED run without one
            "NOOP, none, OPTIONAL, C, false, 0",
            "FEAT, none, OPTIONAL, C, false, 0",
            "RETR, none, OPTIONAL, C, false, 530",
            "LIST, none, OPTIONAL, C, false, 530",
            "CWD,  none, OPTIONAL, C, false, 530",
            "PASV, none, OPTIONAL, C, false, 530",
            "STOR, none, OPTIONAL, C, false, 530",
            // READ: every account reads its home
            "RETR, ro,   OPTIONAL, C, false, 0",
            "LIST, ro,   OPTIONAL, C, false, 0",
            "SIZE, ro,   OPTIONAL, C, false, 0",
            "CWD,  ro,   OPTIONAL, C, false, 0",
            // WRITE (550): only a writable account
            "STOR, ro,   OPTIONAL, C, false, 550",
            "APPE, ro,   OPTIONAL, C, false, 550",
            "DELE, ro,   OPTIONAL, C, false, 550",
            "MKD,  ro,   OPTIONAL, C, false, 550",
            "MFMT, ro,   OPTIONAL, C, false, 550",
            "RNFR, ro,   OPTIONAL, C, false, 550",
            "STOR, rw,   OPTIONAL, C, false, 0",
            "RMD,  rw,   OPTIONAL, C, false, 0",
            // RFC 4217 §10.2 (521): on the transfer under PROT C when the policy wants data protected,
            // not on PASV/PORT, and not under PROT P
            "RETR, rw,   REQUIRED, C, false, 521",
            "STOR, rw,   REQUIRED, C, false, 521",
            "MLSD, rw,   REQUIRED, C, false, 521",
            "PASV, rw,   REQUIRED, C, false, 0",
            "EPRT, rw,   REQUIRED, C, false, 0",
            "SIZE, rw,   REQUIRED, C, false, 0",
            "RETR, rw,   REQUIRED, P, false, 0",
            "RETR, rw,   LOGIN,    C, false, 0",
            // permission before protection: a read-only user's STOR is refused for the write
            "STOR, ro,   REQUIRED, C, false, 550",
            // RNTO only right after RNFR (503, RFC 959 §5.4), and the write permission first
            "RNTO, rw,   OPTIONAL, C, false, 503",
            "RNTO, rw,   OPTIONAL, C, true,  0",
            "RNTO, ro,   OPTIONAL, C, true,  550",
    })
    void appliesTheVerbTable(Verb verb, String login, TlsPolicy policy, char prot, boolean rnfr, int expected) {
        SessionState state = new SessionState(ControlProtection.forServer(true, prot == 'P', false), 0);
        if (!login.equals("none")) {
            state.loggedIn(new LoginResult.Success("u", null, login.equals("rw"), false), null);
            state.protection().loggedIn(policy);
        }
        if (rnfr) {
            state.renameFrom(VirtualPath.ROOT);
        }

        Reply refusal = Gate.check(verb, VirtualPath.ROOT, state);

        assertThat(refusal == null ? 0 : refusal.code()).isEqualTo(expected);
    }

    /**
     * An anonymous (read-only) account with the upload directory /incoming: the rule comes before the account's
     * rights, so a STOR is allowed there and only there, and nothing else reaches what is inside.
     */
    @ParameterizedTest(name = "{0} {2} in {1} rest={3} -> {4}")
    @CsvSource({
            "STOR, /,         /incoming/f, false, 0",
            "STOR, /incoming, /incoming/f, false, 0",
            "STOU, /incoming, ,            false, 0",
            "STOR, /,         /pub/f,      false, 550",
            "STOU, /,         ,            false, 550",
            "STOR, /incoming, /incoming/f, true,  550",
            "APPE, /incoming, /incoming/f, false, 550",
            "RETR, /incoming, /incoming/f, false, 550",
            "LIST, /incoming, /incoming,   false, 550",
            "DELE, /incoming, /incoming/f, false, 550",
            "MKD,  /incoming, /incoming/d, false, 550",
            "CWD,  /,         /incoming,   false, 0",
            "RETR, /,         /pub/f,      false, 0",
            "LIST, /,         /,           false, 0",
            "MFMT, /incoming, ,            false, 550",
            "PASV, /incoming, ,            false, 0",
    })
    void makesTheAnonymousUploadDirectoryWriteOnly(Verb verb, String cwd, String target, boolean rest, int expected)
            throws InvalidVirtualPathException {
        SessionState state = new SessionState(ControlProtection.forServer(false, false, false), 0);
        state.loggedIn(new LoginResult.Success("anonymous", null, false, true,
                new UploadDirectory(VirtualPath.of("/incoming"))), null);
        state.protection().loggedIn(TlsPolicy.OPTIONAL);
        state.cwd(VirtualPath.of(cwd));
        if (rest) {
            state.restOffset(10);
        }

        Reply refusal = Gate.check(verb, target == null ? null : VirtualPath.of(target), state);

        assertThat(refusal == null ? 0 : refusal.code()).isEqualTo(expected);
        if (expected == 550 && !targetOutside(target)) {
            assertThat(refusal.lines().getFirst()).contains("write-only");
        }
    }

    private static boolean targetOutside(String target) {
        return target == null || !target.startsWith("/incoming");
    }

    /** The path column: which argument names a path, and where it leads from the working directory. */
    @ParameterizedTest(name = "{0} {2} in {1} -> {3}")
    @CsvSource({
            "CWD,  /a, b,          /a/b",
            "CWD,  /a, ..,         /",
            "RETR, /a, /x/y,       /x/y",
            "LIST, /a, -la b,      /a/b",
            "LIST, /a, -la,        /a",
            "NLST, /a, '',         /a",
            "STAT, /a, -l -a /c,   /c",
            "MLSD, /a, '',         /a",
            "MLST, /a, f,          /a/f",
            // PathKind NONE: no path (MFMT's comes after a time stamp, STOU's is a name hint)
            "MFMT, /a, 20260101000000 f, ",
            "STOU, /a, f,          ",
            "CDUP, /a, '',         ",
            "PASV, /a, '',         ",
    })
    void resolvesThePathArgumentByPathKind(Verb verb, String cwd, String argument, String expected)
            throws InvalidVirtualPathException {
        Command command = new Command(verb, argument == null || argument.isEmpty() ? null : argument);

        VirtualPath target = Gate.target(verb, Gate.pathArgument(command), VirtualPath.of(cwd));

        assertThat(target == null ? null : target.toString()).isEqualTo(expected);
    }

    /** RFC 959 §4.2: 553 ("file name not allowed") for a name to be created, 550 for one acted on. */
    @ParameterizedTest
    @CsvSource({"STOR, 553", "APPE, 553", "MKD, 553", "RNTO, 553", "RETR, 550", "DELE, 550", "CWD, 550",
            "LIST, 550", "RNFR, 550"})
    void anInvalidPathIsOneReply(Verb verb, int code) {
        assertThatThrownBy(() -> Gate.target(verb, "a\u0001b", VirtualPath.ROOT))
                .isInstanceOfSatisfying(InvalidVirtualPathException.class,
                        e -> assertThat(Gate.invalidPath(verb, e).code()).isEqualTo(code));
    }
}
