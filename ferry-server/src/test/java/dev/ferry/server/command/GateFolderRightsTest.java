package dev.ferry.server.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.auth.UploadDirectory;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Right;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The gate with per-folder rights: every verb class, allowed and refused, and the reason logged. */
class GateFolderRightsTest {

    private static final String TREE = "/=list,download;/upload=list,upload;"
            + "/shared=list,download,upload,overwrite,delete,rename,mkdir;/drop=upload";

    private static VirtualPath p(String s) {
        try {
            return VirtualPath.of(s);
        } catch (InvalidVirtualPathException e) {
            throw new AssertionError(e);
        }
    }

    private static SessionState session(boolean writable, String rights, UploadDirectory uploads, boolean anonymous) {
        SessionState state = new SessionState(ControlProtection.forServer(true, false, false), 0);
        AccountPolicy policy = AccountPolicy.NONE.withRights(FolderRights.parse(rights));
        state.loggedIn(new LoginResult.Success("u", null, writable, anonymous, uploads, null, policy), null);
        state.protection().loggedIn(TlsPolicy.OPTIONAL);
        return state;
    }

    /**
     * @param rw     the account's access (rights outside every grant: none here, as / has a grant)
     * @param reason the log's reason token, "-" when the handler runs
     */
    @ParameterizedTest(name = "{0} {1} rw={2} -> {3}")
    @CsvSource(delimiter = '|', textBlock = """
            RETR | /f.txt            | true  | -
            RETR | /upload/f         | true  | folder-right-download
            RETR | /shared/f         | false | -
            HASH | /upload/f         | true  | folder-right-download
            LIST | /                 | true  | -
            LIST | /drop             | true  | folder-right-list
            NLST | /drop/sub         | true  | folder-right-list
            MLSD | /upload           | true  | -
            MLST | /drop/f           | true  | folder-right-list
            STAT | /drop             | true  | folder-right-list
            SIZE | /drop/f           | true  | folder-right-list
            MDTM | /drop/f           | true  | folder-right-list
            CWD  | /upload           | true  | -
            CWD  | /drop             | true  | -
            STOR | /f.txt            | true  | folder-right-upload
            STOR | /upload/f         | false | -
            STOR | /drop/f           | false | -
            STOR | /shared/f         | false | -
            APPE | /f.txt            | true  | folder-right-upload
            APPE | /upload/f         | false | -
            DELE | /upload/f         | true  | folder-right-delete
            DELE | /shared/f         | false | -
            DELE | /shared           | true  | folder-right-delete
            RMD  | /shared/d         | false | -
            RMD  | /shared           | true  | folder-right-delete
            MKD  | /upload/d         | true  | folder-right-mkdir
            MKD  | /shared/d         | false | -
            MKD  | /shared           | true  | folder-right-mkdir
            RNFR | /f.txt            | true  | folder-right-rename
            RNFR | /shared/a         | false | -
            RNFR | /shared           | true  | folder-right-rename
            MFMT | /shared/f         | false | -
            MFMT | /upload/f         | true  | folder-right-overwrite
            """)
    void asksTheDeepestGrant(Verb verb, String path, boolean rw, String reason) {
        Reply refusal = Gate.check(verb, p(path), session(rw, TREE, null, false));
        assertThat(refusal == null ? "-" : Gate.reason(refusal)).isEqualTo(reason);
        if (refusal != null) {
            assertThat(refusal.code()).isEqualTo(550);
            assertThat(refusal.toString()).contains("Permission denied: no " + reason.substring("folder-right-".length())
                    + " right in this folder.");
        }
    }

    @Test
    void rntoAsksRenameAtTheTargetAfterRnfr() {
        SessionState state = session(true, TREE, null, false);
        state.renameFrom(p("/shared/a"));
        assertThat(Gate.check(Verb.RNTO, p("/shared/b"), state)).isNull();
        // moving out of /shared into a folder without rename
        Reply out = Gate.check(Verb.RNTO, p("/upload/b"), state);
        assertThat(Gate.reason(out)).isEqualTo("folder-right-rename");
    }

    /**
     * Rights follow paths: renaming a folder that has a grant (or holds one) would leave the grant behind, and
     * renaming onto such a path would put other files under it. A read-write account with a read-only /home/pub
     * must not make the files in it writable by renaming /home or /home/pub, whose parent allows renaming.
     */
    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            RNFR | /home/pub         | folder-right-rename
            RNFR | /home             | folder-right-rename
            RNFR | /home/pub/f       | -
            RNFR | /home/other       | -
            RNFR | /home/pub2        | -
            RNTO | /home/pub         | folder-right-rename
            RNTO | /home             | folder-right-rename
            RNTO | /home/pub2        | -
            RNTO | /home/pub/g       | -
            """)
    void noRenameFromOrOntoAPathWithGrantsAtOrBelowIt(String verb, String path, String reason) {
        SessionState state = session(true, "/home/pub=list,download,rename", null, false);
        if (verb.equals("RNTO")) {
            state.renameFrom(p("/home/pub/f"));
        }
        Reply refusal = Gate.check(Verb.valueOf(verb), p(path), state);
        if (reason.equals("-")) {
            assertThat(refusal).isNull();
        } else {
            assertThat(refusal).isNotNull();
            assertThat(refusal.code()).isEqualTo(550);
            assertThat(Gate.reason(refusal)).isEqualTo(reason);
        }
    }

    @Test
    void restThenStorNeedsOverwrite() throws Exception {
        SessionState state = session(true, TREE, null, false);
        new ParameterCommands(state).restart("10");
        assertThat(Gate.reason(Gate.check(Verb.STOR, p("/upload/f"), state))).isEqualTo("folder-right-overwrite");
        assertThat(Gate.check(Verb.STOR, p("/shared/f"), state)).isNull();
    }

    @Test
    void cdupAndStouAskTheirDirectories() {
        SessionState state = session(true, "/=upload;/a=list", null, false);
        state.cwd(p("/a/b"));
        // CDUP goes to /a: list there
        assertThat(Gate.check(Verb.CDUP, null, state)).isNull();
        // STOU writes into the working directory, /a/b, under /a's grant: no upload
        assertThat(Gate.reason(Gate.check(Verb.STOU, null, state))).isEqualTo("folder-right-upload");
        state.cwd(p("/c"));
        assertThat(Gate.check(Verb.STOU, null, state)).isNull();
        state.cwd(p("/a/b/c"));
        assertThat(Gate.check(Verb.CDUP, null, state)).isNull();
        state.cwd(p("/z"));
        // CDUP to / where only upload is granted: a drop folder may be entered
        assertThat(Gate.check(Verb.CDUP, null, state)).isNull();
        state.cwd(p("/a"));
        SessionState none = session(true, "/=download;/a=list", null, false);
        none.cwd(p("/a"));
        assertThat(Gate.reason(Gate.check(Verb.CDUP, null, none))).isEqualTo("folder-right-list");
    }

    @Test
    void statAloneAndVerbsWithoutAPathAskNothing() throws Exception {
        SessionState state = session(false, "/=download", null, false);
        // STAT alone is the server's status; Gate.target gives it no path
        assertThat(Gate.target(Verb.STAT, null, state.cwd())).isNull();
        assertThat(Gate.check(Verb.STAT, null, state)).isNull();
        for (Verb v : EnumSet.of(Verb.PWD, Verb.PASV, Verb.TYPE, Verb.NOOP, Verb.FEAT, Verb.SITE, Verb.REST)) {
            assertThat(Gate.check(v, null, state)).as(v.name()).isNull();
        }
        // an argument that named no valid path: nothing asked here; the handler answers 550/553 for it
        assertThat(Gate.check(Verb.DELE, null, state)).isNull();
    }

    @Test
    void withoutGrantsTheAccountsAccessDecidesAsBefore() {
        SessionState ro = session(false, "", null, false);
        assertThat(Gate.reason(Gate.check(Verb.STOR, p("/f"), ro))).isEqualTo("read-only");
        assertThat(Gate.check(Verb.RETR, p("/f"), ro)).isNull();
    }

    @Test
    void handlersAskAgainOnceTheFileSystemHasAnswered() {
        SessionState state = session(true, TREE, null, false);
        assertThat(Gate.folderRefusal(Right.OVERWRITE, p("/upload/f"), false, state)).isNotNull();
        assertThat(Gate.folderRefusal(Right.UPLOAD, p("/upload/f"), false, state)).isNull();
        assertThat(Gate.folderRefusal(Right.OVERWRITE, p("/shared/f"), true, state)).isNull();
        // an account without grants was answered by the gate alone
        assertThat(Gate.folderRefusal(Right.OVERWRITE, p("/f"), false, session(false, "", null, false))).isNull();
    }

    /**
     * The anonymous write-only incoming/ ({@link UploadDirectory}) as a grant: a read-only account with
     * {@code /incoming: [upload]} gets the same answer from the gate for every verb that names a path, in the
     * upload directory and outside it. One difference, by design: APPE of a new file passes the gate (it is an
     * upload of a new file), where the upload directory refuses every APPE; over an existing file the upload's
     * open refuses it (OVERWRITE), as the upload directory does.
     */
    @Test
    void anonymousIncomingIsAGrant() {
        SessionState anonymous = session(false, "", new UploadDirectory(p("/incoming")), true);
        SessionState granted = session(false, "/incoming=upload", null, false);
        for (String path : new String[] {"/incoming", "/incoming/f", "/incoming/sub/g", "/pub/f", "/"}) {
            for (Verb v : Verb.values()) {
                if (v.pathKind() == Verb.PathKind.NONE && v != Verb.STOU && v != Verb.CDUP || v == Verb.APPE) {
                    continue;
                }
                if (v == Verb.RNTO) {
                    anonymous.renameFrom(p("/pub/x"));
                    granted.renameFrom(p("/pub/x"));
                }
                VirtualPath target = v.pathKind() == Verb.PathKind.NONE ? null : p(path);
                anonymous.cwd(p(path));
                granted.cwd(p(path));
                Reply a = Gate.check(v, target, anonymous);
                Reply g = Gate.check(v, target, granted);
                assertThat(g == null).as(v + " " + path).isEqualTo(a == null);
            }
        }
        // uploads allowed in incoming, nowhere else; nothing else there
        assertThat(Gate.check(Verb.STOR, p("/incoming/f"), granted)).isNull();
        assertThat(Gate.check(Verb.STOR, p("/pub/f"), granted)).isNotNull();
        assertThat(Set.of(Verb.LIST, Verb.RETR, Verb.DELE, Verb.RNFR, Verb.MKD).stream()
                .allMatch(v -> Gate.check(v, p("/incoming/f"), granted) != null)).isTrue();
        // and over an existing file, the upload's second question says no
        assertThat(Gate.folderRefusal(Right.OVERWRITE, p("/incoming/f"), false, granted)).isNotNull();
    }
}
