package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.LocalStorage;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.StorageEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Path commands over the control connection, with exact replies, against a temporary directory:
 * <pre>
 *   /a.txt          "hello", rw-r--r--, 2020-01-02 03:04:05 UTC
 *   /lines.txt      "a\nb\r\nc\n" (two bare LFs)
 *   /sub/inner.txt  "x", rw-r--r--, 2019-05-06 07:08:09 UTC
 *   /empty/
 * </pre>
 */
@Timeout(20)
class SessionFileCommandsTest {

    private static final Instant A_TIME = Instant.parse("2020-01-02T03:04:05Z");

    @TempDir
    Path root;
    private InMemoryServer server;
    private ControlClient c;

    @BeforeEach
    void start() throws Exception {
        Files.writeString(root.resolve("a.txt"), "hello");
        Files.writeString(root.resolve("lines.txt"), "a\nb\r\nc\n");
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/inner.txt"), "x");
        Files.createDirectories(root.resolve("empty"));
        Files.setPosixFilePermissions(root.resolve("a.txt"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(root.resolve("sub/inner.txt"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setLastModifiedTime(root.resolve("a.txt"), FileTime.from(A_TIME));
        Files.setLastModifiedTime(root.resolve("sub/inner.txt"), FileTime.from(Instant.parse("2019-05-06T07:08:09Z")));
        server = new InMemoryServer(InMemoryServer.settings(root));
        c = server.loggedIn("alice");
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.close();
    }

    /** The unique fact LocalAttributes derives from device and inode. */
    private String unique(String relative) throws IOException {
        Path p = root.resolve(relative);
        return Long.toHexString((Long) Files.getAttribute(p, "unix:dev")) + "."
                + Long.toHexString((Long) Files.getAttribute(p, "unix:ino"));
    }

    // ---- working directory -------------------------------------------------------------------

    @Test
    void pwdCwdAndCdupMoveAroundAndStayInsideTheRoot() throws Exception {
        assertThat(c.command("PWD")).isEqualTo("257 \"/\" is the current directory.");
        assertThat(c.command("CWD sub")).isEqualTo("250 Directory changed to /sub.");
        assertThat(c.command("PWD")).isEqualTo("257 \"/sub\" is the current directory.");
        assertThat(c.command("XPWD")).isEqualTo("257 \"/sub\" is the current directory.");
        assertThat(c.command("CDUP")).isEqualTo("250 Directory changed to /.");
        assertThat(c.command("CDUP")).as("the root's parent is the root").isEqualTo("250 Directory changed to /.");
        assertThat(c.command("XCWD /sub/")).isEqualTo("250 Directory changed to /sub.");
        assertThat(c.command("CWD ../../../..")).isEqualTo("250 Directory changed to /.");
        assertThat(c.command("CWD /empty")).isEqualTo("250 Directory changed to /empty.");
        assertThat(c.command("XCUP")).isEqualTo("250 Directory changed to /.");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "CWD missing    | 550 missing: No such file or directory.",
            "CWD a.txt      | 550 a.txt: Not a directory.",
            "CWD sub/nope   | 550 sub/nope: No such file or directory.",
    })
    void cwdFailuresLeaveTheDirectoryAlone(String command, String reply) throws Exception {
        assertThat(c.command(command)).isEqualTo(reply);
        assertThat(c.command("PWD")).isEqualTo("257 \"/\" is the current directory.");
    }

    // ---- directories -------------------------------------------------------------------------

    @Test
    void mkdCreatesAndQuotesThePath() throws Exception {
        assertThat(c.command("MKD new")).isEqualTo("257 \"/new\" created.");
        assertThat(c.command("MKD my dir")).isEqualTo("257 \"/my dir\" created.");
        assertThat(c.command("XMKD café")).isEqualTo("257 \"/café\" created.");
        // RFC 959 Appendix II: an embedded quote is doubled.
        assertThat(c.command("MKD say \"hi\"")).isEqualTo("257 \"/say \"\"hi\"\"\" created.");
        c.command("CWD sub");
        assertThat(c.command("MKD deeper")).isEqualTo("257 \"/sub/deeper\" created.");

        assertThat(root.resolve("new")).isDirectory();
        assertThat(root.resolve("my dir")).isDirectory();
        assertThat(root.resolve("café")).isDirectory();
        assertThat(root.resolve("say \"hi\"")).isDirectory();
        assertThat(root.resolve("sub/deeper")).isDirectory();
    }

    @Test
    void mkdOfAnExistingNameFails() throws Exception {
        assertThat(c.command("MKD sub")).isEqualTo("550 sub: Already exists.");
        assertThat(c.command("MKD a.txt")).isEqualTo("550 a.txt: Already exists.");
    }

    @Test
    void rmdRemovesOnlyEmptyDirectories() throws Exception {
        assertThat(c.command("RMD sub")).isEqualTo("550 sub: Directory not empty.");
        assertThat(c.command("RMD a.txt")).isEqualTo("550 a.txt: Not a directory.");
        assertThat(c.command("RMD missing")).isEqualTo("550 missing: No such file or directory.");
        assertThat(c.command("RMD /")).isEqualTo("550 The root directory cannot be removed.");
        assertThat(c.command("XRMD ..")).isEqualTo("550 The root directory cannot be removed.");
        assertThat(c.command("RMD empty")).isEqualTo("250 Directory removed.");

        assertThat(root.resolve("empty")).doesNotExist();
        assertThat(root.resolve("sub")).isDirectory();
    }

    // ---- files -------------------------------------------------------------------------------

    @Test
    void deleRemovesFilesOnly() throws Exception {
        assertThat(c.command("DELE sub")).isEqualTo("550 sub: Is a directory (use RMD).");
        assertThat(c.command("DELE missing")).isEqualTo("550 missing: No such file or directory.");
        assertThat(c.command("DELE a.txt")).isEqualTo("250 File deleted.");
        assertThat(c.command("DELE /sub/inner.txt")).isEqualTo("250 File deleted.");

        assertThat(root.resolve("a.txt")).doesNotExist();
        assertThat(root.resolve("sub/inner.txt")).doesNotExist();
    }

    @Test
    void rnfrThenRntoRenames() throws Exception {
        assertThat(c.command("RNFR a.txt")).isEqualTo("350 File exists; send RNTO with the new name.");
        assertThat(c.command("RNTO sub/b.txt")).isEqualTo("250 Renamed.");

        assertThat(root.resolve("a.txt")).doesNotExist();
        assertThat(root.resolve("sub/b.txt")).hasContent("hello");
    }

    @Test
    void rntoNeedsTheRnfrRightBeforeIt() throws Exception {
        assertThat(c.command("RNTO b.txt")).isEqualTo("503 Send RNFR first.");
        assertThat(c.command("RNFR a.txt")).isEqualTo("350 File exists; send RNTO with the new name.");
        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
        assertThat(c.command("RNTO b.txt")).isEqualTo("503 Send RNFR first.");
        assertThat(c.command("RNFR a.txt")).isEqualTo("350 File exists; send RNTO with the new name.");
        assertThat(c.command("RNTO /")).isEqualTo("553 Cannot rename to the root directory.");
        assertThat(c.command("RNTO b.txt")).as("a RNTO uses up its RNFR").isEqualTo("503 Send RNFR first.");
        assertThat(root.resolve("a.txt")).exists();
    }

    @Test
    void rnfrOfWhatCannotBeRenamed() throws Exception {
        assertThat(c.command("RNFR missing")).isEqualTo("550 missing: No such file or directory.");
        assertThat(c.command("RNFR /")).isEqualTo("550 The root directory cannot be renamed.");
    }

    // ---- facts -------------------------------------------------------------------------------

    // RFC 3659 §4: SIZE is what RETR would send in the current TYPE.
    @Test
    void sizeCountsTheBytesOfTheCurrentType() throws Exception {
        assertThat(c.command("SIZE a.txt")).isEqualTo("213 5");
        assertThat(c.command("SIZE lines.txt")).isEqualTo("213 7");
        c.command("TYPE A");
        assertThat(c.command("SIZE lines.txt")).as("two bare LFs become CRLF").isEqualTo("213 9");
        assertThat(c.command("SIZE a.txt")).isEqualTo("213 5");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "SIZE sub      | 550 sub: Not a plain file.",
            "SIZE missing  | 550 missing: No such file or directory.",
            "MDTM missing  | 550 missing: No such file or directory.",
            "HASH sub      | 550 sub: Not a plain file.",
            "HASH missing  | 550 missing: No such file or directory.",
            "MLST missing  | 550 missing: No such file or directory.",
            "STAT missing  | 550 missing: No such file or directory.",
    })
    void factCommandsOnWhatIsNotThere(String command, String reply) throws Exception {
        assertThat(c.command(command)).isEqualTo(reply);
    }

    // RFC 3659 §3.1: YYYYMMDDHHMMSS in UTC.
    @Test
    void mdtmIsTheModificationTimeInUtc() throws Exception {
        assertThat(c.command("MDTM a.txt")).isEqualTo("213 20200102030405");
        assertThat(c.command("MDTM /sub/inner.txt")).isEqualTo("213 20190506070809");
    }

    @Test
    void mfmtSetsTheModificationTime() throws Exception {
        assertThat(c.command("MFMT 20210304050607 a.txt")).isEqualTo("213 Modify=20210304050607; a.txt");
        assertThat(c.command("MDTM a.txt")).isEqualTo("213 20210304050607");
        assertThat(Files.getLastModifiedTime(root.resolve("a.txt")).toInstant())
                .isEqualTo(Instant.parse("2021-03-04T05:06:07Z"));
        assertThat(c.command("MFMT 20220101000000.500 sub/inner.txt")).isEqualTo("213 Modify=20220101000000; sub/inner.txt");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "MFMT a.txt                  | 501 Syntax: MFMT YYYYMMDDHHMMSS path.",
            "MFMT 2021 a.txt             | 501 Syntax: MFMT YYYYMMDDHHMMSS path.",
            "MFMT 2021030405060x a.txt   | 501 Syntax: MFMT YYYYMMDDHHMMSS path.",
            "MFMT 20211301000000 a.txt   | 501 Invalid time '20211301000000'.",
            "MFMT 20210132000000 a.txt   | 501 Invalid time '20210132000000'.",
            "MFMT 20210101250000 a.txt   | 501 Invalid time '20210101250000'.",
            "MFMT 20230231000000 a.txt   | 501 Invalid time '20230231000000'.",
            "MFMT 20230229000000 a.txt   | 501 Invalid time '20230229000000'.",
            "MFMT 20210304050607 missing | 550 missing: No such file or directory.",
    })
    void mfmtRefusesWhatIsNotATimeOrAFile(String command, String reply) throws Exception {
        assertThat(c.command(command)).isEqualTo(reply);
        assertThat(Files.getLastModifiedTime(root.resolve("a.txt")).toInstant()).isEqualTo(A_TIME);
    }

    // draft-bryan-ftpext-hash: "213 ALGORITHM START-END HEX path".
    @Test
    void hashDigestsTheWholeFileWithTheSelectedAlgorithm() throws Exception {
        assertThat(c.command("HASH a.txt"))
                .isEqualTo("213 SHA-256 0-5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 a.txt");
        assertThat(c.command("OPTS HASH MD5")).isEqualTo("200 MD5");
        assertThat(c.command("HASH a.txt")).isEqualTo("213 MD5 0-5 5d41402abc4b2a76b9719d911017c592 a.txt");
        assertThat(c.command("OPTS HASH sha-1")).isEqualTo("200 SHA-1");
        assertThat(c.command("HASH /a.txt")).isEqualTo("213 SHA-1 0-5 aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d /a.txt");
    }

    // An object store keeps a checksum of what was uploaded (Storage.storedHash): HASH answers with it, with the
    // size read along with it, and never reads the file.
    @Test
    void hashAnswersFromTheStoredDigestWithoutReadingTheFile() throws Exception {
        String kept = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        server.close();
        server = new InMemoryServer(InMemoryServer.settings(root), new KeptDigests(Map.of("/a.txt", kept)));
        c = server.loggedIn("alice");

        assertThat(c.command("HASH a.txt")).isEqualTo("213 SHA-256 0-6 " + kept + " a.txt");
        // None kept for SHA-1 here: read and digested, as for a local file; reading fails in this storage.
        assertThat(c.command("OPTS HASH SHA-1")).isEqualTo("200 SHA-1");
        assertThat(c.command("HASH a.txt")).isEqualTo("550 a.txt: reads refused by this test storage");
        assertThat(c.command("OPTS HASH SHA-256")).isEqualTo("200 SHA-256");
        assertThat(c.command("HASH sub")).isEqualTo("550 sub: Not a plain file.");
    }

    /** Local homes whose files cannot be read, and which keep SHA-256 digests (of 6 bytes) for some paths. */
    private record KeptDigests(Map<String, String> sha256) implements StorageEngine {
        @Override
        public Storage forHome(Path home) throws IOException {
            LocalStorage local = new LocalStorage(home);
            return (Storage) java.lang.reflect.Proxy.newProxyInstance(Storage.class.getClassLoader(),
                    new Class<?>[] {Storage.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "openRead" -> throw new IOException("reads refused by this test storage");
                        case "storedHash" -> {
                            String hex = args[1].equals("SHA-256") ? sha256.get(args[0].toString()) : null;
                            yield hex == null ? null : new Storage.StoredHash(hex, 6);
                        }
                        default -> invoke(method, local, args);
                    });
        }

        private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
            try {
                return method.invoke(target, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
        }

        @Override
        public Storage forPrivateUploads(Path home) throws IOException {
            return forHome(home);
        }

        @Override
        public String describe() {
            return "test";
        }
    }

    @Test
    void hashOfAnEmptyFile() throws Exception {
        Files.write(root.resolve("empty.bin"), new byte[0]);

        assertThat(c.command("HASH empty.bin"))
                .isEqualTo("213 SHA-256 0-0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 empty.bin");
    }

    // RFC 3659 §7.2.1: one entry line with a single leading space.
    @Test
    void mlstShowsTheFactsOfOneEntry() throws Exception {
        assertThat(c.commandLines("MLST a.txt")).containsExactly(
                "250-Listing /a.txt",
                " type=file;size=5;modify=20200102030405;perm=adfrw;unique=" + unique("a.txt") + "; /a.txt",
                "250 End");
    }

    @Test
    void mlstWithoutArgumentIsTheWorkingDirectory() throws Exception {
        Files.setLastModifiedTime(root.resolve("sub"), FileTime.from(A_TIME));
        c.command("CWD sub");

        assertThat(c.commandLines("MLST")).containsExactly(
                "250-Listing /sub",
                " type=dir;modify=20200102030405;perm=cdeflmp;unique=" + unique("sub") + "; /sub",
                "250 End");
    }

    @Test
    void mlstShowsOnlyTheFactsSelectedWithOpts() throws Exception {
        assertThat(c.command("OPTS MLST size;Type;nonsense;")).isEqualTo("200 MLST OPTS type;size;");

        assertThat(c.commandLines("MLST a.txt")).containsExactly("250-Listing /a.txt", " type=file;size=5; /a.txt", "250 End");
    }

    @Test
    void mlstPermissionsFollowTheAccount() throws Exception {
        ControlClient reader = server.loggedIn("reader");

        assertThat(reader.commandLines("MLST a.txt")).containsExactly(
                "250-Listing /a.txt",
                " type=file;size=5;modify=20200102030405;perm=r;unique=" + unique("a.txt") + "; /a.txt",
                "250 End");
    }

    // RFC 959 §4.1.3: STAT with a path is a listing over the control connection.
    @Test
    void statOfAFileIsItsListLine() throws Exception {
        assertThat(c.commandLines("STAT a.txt")).containsExactly(
                "213-Status of /a.txt:",
                " -rw-r--r--   1 ftp      ftp             5 Jan  2  2020 a.txt",
                "213 End of status.");
    }

    @ParameterizedTest
    @CsvSource({"STAT sub", "STAT -la sub", "STAT /sub/"})
    void statOfADirectoryListsItsEntries(String command) throws Exception {
        assertThat(c.commandLines(command)).containsExactly(
                "213-Status of /sub:",
                " -rw-r--r--   1 ftp      ftp             1 May  6  2019 inner.txt",
                "213 End of status.");
    }

    @Test
    void pathsWithControlCharactersAreRefusedInOneLine() throws Exception {
        // A CR inside a line reaches the session (only the one before LF is the line end).
        assertThat(c.command("CWD x\r226 fake")).isEqualTo("550 Path contains a control character");
        assertThat(c.command("MKD a\u0007b")).isEqualTo("553 Path contains a control character");
    }

    @Test
    void utf8NamesAreRoundTripped() throws Exception {
        Files.writeString(root.resolve("日本語.txt"), "abc", StandardCharsets.UTF_8);

        assertThat(c.command("SIZE 日本語.txt")).isEqualTo("213 3");
        assertThat(c.command("RNFR 日本語.txt")).isEqualTo("350 File exists; send RNTO with the new name.");
        assertThat(c.command("RNTO ünï.txt")).isEqualTo("250 Renamed.");
        assertThat(root.resolve("ünï.txt")).hasContent("abc");
    }
}
