package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Python's ftplib in every shape ({@link Shape}). Each test writes a short script that logs in and prints
 * {@code key<TAB>value} lines; the assertions are made here, on those values and on the files.
 */
class PythonFtplibTest {

    @Nested
    class Direct extends Tests {
        Direct() {
            super(Shape.DIRECT);
        }

        @Test
        void featListsTheExtensions() throws Exception {
            Map<String, String> v = python("""
                    for line in ftp.sendcmd("FEAT").split("\\n"):
                        out("feat|" + line.rstrip("\\r") + "|", "")
                    """);

            // RFC 2389 §3.2: each feature line starts with one space.
            assertThat(v.keySet()).containsExactly("login", "feat|211-Features:|", "feat| AUTH TLS|", "feat| EPRT|", "feat| EPSV|",
                    "feat| HASH SHA-256*;SHA-1;MD5|", "feat| HOST|", "feat| MDTM|", "feat| MFMT|",
                    "feat| MLST type*;size*;modify*;perm*;unique*;|", "feat| PASV|", "feat| PBSZ|", "feat| PROT|",
                    "feat| REST STREAM|", "feat| SIZE|",
                    "feat| TVFS|", "feat| UTF8|", "feat|211 End|");
        }
    }

    @Nested
    class Balanced extends Tests {
        Balanced() {
            super(Shape.BALANCED);
        }
    }

    /** On S3 the server cannot set an object's time: FEAT leaves MFMT out and MFMT answers 502 (RFC 959 §4.2). */
    @Nested
    class ObjectStore extends Tests {
        ObjectStore() {
            super(Shape.OBJECT_STORE);
        }

        @Test
        void featListsTheExtensionsButMfmt() throws Exception {
            Map<String, String> v = python("""
                    for line in ftp.sendcmd("FEAT").split("\\n"):
                        out("feat|" + line.rstrip("\\r") + "|", "")
                    """);

            assertThat(v.keySet()).containsExactly("login", "feat|211-Features:|", "feat| AUTH TLS|", "feat| EPRT|", "feat| EPSV|",
                    "feat| HASH SHA-256*;SHA-1;MD5|", "feat| HOST|", "feat| MDTM|",
                    "feat| MLST type*;size*;modify*;perm*;unique*;|", "feat| PASV|", "feat| PBSZ|", "feat| PROT|",
                    "feat| REST STREAM|", "feat| SIZE|",
                    "feat| TVFS|", "feat| UTF8|", "feat|211 End|");
        }

        /** {@link Tests#sizeMdtmHashAndMfmt} on S3: the same SIZE, MDTM and HASH; MFMT refused, the time kept. */
        @Test
        void sizeMdtmAndHashWhileMfmtIsRefused() throws Exception {
            byte[] content = TestData.randomFile(ftp.root().resolve("m.bin"), 77_777, 22);
            Files.setLastModifiedTime(ftp.root().resolve("m.bin"), FileTime.from(Instant.parse("2019-12-31T23:59:58Z")));

            Map<String, String> v = python("""
                    out("size", ftp.size("m.bin"))
                    out("mdtm", ftp.sendcmd("MDTM m.bin"))
                    out("hash", ftp.sendcmd("HASH m.bin"))
                    try:
                        ftp.sendcmd("MFMT 20200102030405 m.bin")
                    except ftplib.error_perm as e:
                        out("mfmt", e)
                    out("mdtm2", ftp.sendcmd("MDTM m.bin"))
                    """);

            assertThat(v).containsEntry("size", "77777")
                    .containsEntry("mdtm", "213 20191231235958")
                    .containsEntry("hash", "213 SHA-256 0-77777 " + TestData.sha256(content) + " m.bin")
                    .containsEntry("mfmt", "502 MFMT is not available: this server's storage keeps the time of the last upload.")
                    .containsEntry("mdtm2", "213 20191231235958");
        }
    }

    abstract static class Tests {

        @RegisterExtension
        final ShapeExtension ftp;

        Tests(Shape shape) {
            ftp = new ShapeExtension(shape);
        }

        /** Logs in as argv[2]/argv[3] to HOST:PORT (argv[4], argv[1]). */
        private static final String PRELUDE = """
                import ftplib, hashlib, io, socket, sys
                PORT = int(sys.argv[1])
                HOST = sys.argv[4]
                def out(key, value):
                    print(key + "\\t" + str(value).replace("\\r", "\\\\r").replace("\\n", "\\\\n"), flush=True)
                ftp = ftplib.FTP(timeout=10, encoding="utf-8")
                ftp.connect(HOST, PORT)
                out("login", ftp.login(sys.argv[2], sys.argv[3]))
                """;

        /** Runs PRELUDE + body and returns the printed values. */
        Map<String, String> python(String body) throws IOException, InterruptedException {
            return FtpsClients.pythonScript(ftp, PRELUDE + body + "\nftp.quit()\n");
        }

        @Test
        void logsIn() throws Exception {
            assertThat(python("")).containsEntry("login", "230 User alice logged in.");
        }

        @Test
        void mlsdGivesTheFactsOfEachEntry() throws Exception {
            Files.write(ftp.root().resolve("f.bin"), new byte[1234]);
            Files.setLastModifiedTime(ftp.root().resolve("f.bin"), FileTime.from(Instant.parse("2021-02-03T04:05:06Z")));
            Files.createDirectory(ftp.root().resolve("d"));

            Map<String, String> v = python("""
                    for name, facts in ftp.mlsd():
                        for k in sorted(facts):
                            out(name + "." + k, facts[k])
                    """);

            assertThat(v).containsEntry("f.bin.type", "file").containsEntry("f.bin.size", "1234")
                    .containsEntry("f.bin.modify", "20210203040506").containsEntry("f.bin.perm", "adfrw")
                    .containsEntry("d.type", "dir").containsEntry("d.perm", "cdeflmp")
                    .doesNotContainKey("d.size");
            assertThat(v.get("f.bin.unique")).isNotBlank().isNotEqualTo(v.get("d.unique"));
        }

        @Test
        void nlstNamesTheEntries() throws Exception {
            Files.writeString(ftp.root().resolve("a.txt"), "a");
            Files.writeString(ftp.root().resolve("b.txt"), "b");
            Files.createDirectory(ftp.root().resolve("sub"));

            assertThat(python("out('names', ','.join(sorted(ftp.nlst())))")).containsEntry("names", "a.txt,b.txt,sub");
        }

        @Test
        void binaryTransfersAreByteExact() throws Exception {
            byte[] content = TestData.randomFile(ftp.root().resolve("down.bin"), 1_500_000, 20);

            Map<String, String> v = python("""
                    buf = io.BytesIO()
                    out("retr", ftp.retrbinary("RETR down.bin", buf.write))
                    out("down_sha", hashlib.sha256(buf.getvalue()).hexdigest())
                    data = bytes(range(256)) * 5000
                    out("stor", ftp.storbinary("STOR up.bin", io.BytesIO(data)))
                    out("up_sha", hashlib.sha256(data).hexdigest())
                    """);

            assertThat(v.get("retr")).startsWith("226 ");
            assertThat(v.get("stor")).startsWith("226 ");
            assertThat(v.get("down_sha")).isEqualTo(TestData.sha256(content));
            assertThat(TestData.sha256(ftp.root().resolve("up.bin"))).isEqualTo(v.get("up_sha"));
        }

        /** Each data-connection mode: a STOR over an existing file and a RETR, each answered in order. */
        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"PASV", "EPSV", "PORT", "EPRT"})
        void eachDataConnectionModeReplacesAFileAndDownloadsOne(String mode) throws Exception {
            byte[] down = TestData.randomFile(ftp.root().resolve("down.bin"), 700_000, 23);
            byte[] up = TestData.randomFile(ftp.clientDir().resolve("up.bin"), 600_000, 24);
            byte[] old = TestData.randomFile(ftp.root().resolve(mode.toLowerCase(Locale.ROOT) + ".bin"), 400_000, 25);

            Map<String, String> v = FtpsClients.ftplibTransfers(ftp, mode);

            FtpsClients.assertFtplibTransfers(v, mode, ftp.root(), old, up, down);
        }

        /** ftplib's abort: ABOR sent as urgent data during a download; 426 for the transfer, then 226. */
        @Test
        void abortMidDownloadAnswers426Then226AndTheSessionGoesOn() throws Exception {
            try (RandomAccessFile huge = new RandomAccessFile(ftp.root().resolve("huge.bin").toFile(), "rw")) {
                huge.setLength(256L << 20);   // sparse: cheap to create, far more than socket buffers hold
            }
            Files.writeString(ftp.root().resolve("small.txt"), "still working");

            Map<String, String> v = python("""
                    ftp.voidcmd("TYPE I")
                    conn = ftp.transfercmd("RETR huge.bin")
                    got = 0
                    while got < 100000:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        got += len(chunk)
                    out("got", got >= 100000)
                    out("abort", ftp.abort())
                    out("then", ftp.getresp())
                    conn.close()
                    out("noop", ftp.voidcmd("NOOP"))
                    small = io.BytesIO()
                    ftp.retrbinary("RETR small.txt", small.write)
                    out("small", small.getvalue().decode())
                    """);

            // RFC 959 §4.1.3: the aborted transfer answers 426, then ABOR itself 226.
            assertThat(v).containsEntry("got", "True").containsEntry("small", "still working");
            assertThat(v.get("abort")).startsWith("426 ");
            assertThat(v.get("then")).startsWith("226 ");
            assertThat(v.get("noop")).startsWith("200 ");
        }

        @Test
        void asciiModeConvertsLineEndsBothWays() throws Exception {
            Files.writeString(ftp.root().resolve("unix.txt"), "one\ntwo\n\nthree\n");

            Map<String, String> v = python("""
                    lines = []
                    out("retrlines", ftp.retrlines("RETR unix.txt", lines.append))
                    out("lines", "|".join(lines))
                    # ftplib strips line ends in retrlines; read the raw data connection to see them.
                    ftp.voidcmd("TYPE A")
                    conn = ftp.transfercmd("RETR unix.txt")
                    raw = b""
                    while True:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        raw += chunk
                    conn.close()
                    out("raw_end", ftp.voidresp())
                    out("raw", raw.decode("ascii"))
                    # storlines sends CRLF whatever the local line ends are.
                    out("storlines", ftp.storlines("STOR up.txt", io.BytesIO(b"alpha\\nbeta\\r\\ngamma\\n")))
                    """);

            assertThat(v.get("retrlines")).startsWith("226 ");
            assertThat(v).containsEntry("lines", "one|two||three")
                    .containsEntry("raw", "one\\r\\ntwo\\r\\n\\r\\nthree\\r\\n");
            assertThat(v.get("raw_end")).startsWith("226 ");
            assertThat(v.get("storlines")).startsWith("226 ");
            assertThat(Files.readString(ftp.root().resolve("up.txt"))).isEqualTo("alpha\nbeta\ngamma\n");
        }

        @Test
        void restartedRetrieveStartsAtTheOffset() throws Exception {
            byte[] content = TestData.randomFile(ftp.root().resolve("r.bin"), 100_000, 21);

            Map<String, String> v = python("""
                    buf = io.BytesIO()
                    out("retr", ftp.retrbinary("RETR r.bin", buf.write, rest=60000))
                    out("len", len(buf.getvalue()))
                    out("sha", hashlib.sha256(buf.getvalue()).hexdigest())
                    """);

            assertThat(v.get("retr")).startsWith("226 ");
            assertThat(v).containsEntry("len", "40000")
                    .containsEntry("sha", TestData.sha256(Arrays.copyOfRange(content, 60_000, 100_000)));
        }

        @Test
        void sizeMdtmHashAndMfmt() throws Exception {
            // S3 has no call to set an object's time (its Last-Modified is the upload's): ObjectStore checks the
            // 502 instead (sizeMdtmAndHashWhileMfmtIsRefused).
            assumeTrue(ftp.shape() != Shape.OBJECT_STORE, "MFMT: an object store cannot set a modification time");
            byte[] content = TestData.randomFile(ftp.root().resolve("m.bin"), 77_777, 22);
            Files.setLastModifiedTime(ftp.root().resolve("m.bin"), FileTime.from(Instant.parse("2019-12-31T23:59:58Z")));

            Map<String, String> v = python("""
                    out("size", ftp.size("m.bin"))
                    out("mdtm", ftp.sendcmd("MDTM m.bin"))
                    out("hash", ftp.sendcmd("HASH m.bin"))
                    out("mfmt", ftp.sendcmd("MFMT 20200102030405 m.bin"))
                    out("mdtm2", ftp.sendcmd("MDTM m.bin"))
                    """);

            assertThat(v).containsEntry("size", "77777")
                    .containsEntry("mdtm", "213 20191231235958")
                    .containsEntry("hash", "213 SHA-256 0-77777 " + TestData.sha256(content) + " m.bin")
                    .containsEntry("mfmt", "213 Modify=20200102030405; m.bin")
                    .containsEntry("mdtm2", "213 20200102030405");
            assertThat(Files.getLastModifiedTime(ftp.root().resolve("m.bin")).toInstant())
                    .isEqualTo(Instant.parse("2020-01-02T03:04:05Z"));
        }

        @Test
        void renamesAndDeletes() throws Exception {
            Files.writeString(ftp.root().resolve("first.txt"), "moving");

            Map<String, String> v = python("""
                    out("rename", ftp.rename("first.txt", "second.txt"))
                    try:
                        ftp.delete("first.txt")
                    except ftplib.error_perm as e:
                        out("delete_missing", e)
                    out("size", ftp.size("second.txt"))
                    out("delete", ftp.delete("second.txt"))
                    """);

            assertThat(v.get("rename")).isEqualTo("250 Renamed.");
            assertThat(v.get("delete_missing")).startsWith("550 ");
            assertThat(v).containsEntry("size", "6").containsEntry("delete", "250 File deleted.");
            assertThat(TestData.names(ftp.root())).isEmpty();
        }
    }
}
