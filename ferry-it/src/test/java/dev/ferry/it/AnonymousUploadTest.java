package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The anonymous upload directory with real clients (curl, Python's ftplib): anonymous users store new
 * files in incoming/, and can neither see, fetch, replace nor remove them; elsewhere they stay read-only.
 */
class AnonymousUploadTest {
    private static final String WRITE_ONLY = "the upload directory is write-only";

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension()
            .configure(s -> s.withAnonymous(new ServerSettings.Anonymous(true, null, incoming())));

    /** The server, as anonymous users see it. */
    private final FtpService anonymous = new FtpService() {
        @Override public String host() { return ferry.host(); }
        @Override public int port() { return ferry.port(); }
        @Override public String user() { return "anonymous"; }
        @Override public String password() { return "guest@example.com"; }
        @Override public Path root() { return ferry.root(); }
        @Override public Path clientDir() { return ferry.clientDir(); }
    };

    private static VirtualPath incoming() {
        try {
            return VirtualPath.of("/incoming");
        } catch (InvalidVirtualPathException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeEach
    void files() throws IOException {
        Files.createDirectory(ferry.root().resolve("incoming"));
        Files.writeString(ferry.root().resolve("incoming/old.txt"), "there before\n");
        Files.createDirectory(ferry.root().resolve("pub"));
        Files.writeString(ferry.root().resolve("pub/readme.txt"), "read me\n");
        Files.writeString(ferry.clientDir().resolve("up.txt"), "uploaded\n");
    }

    private ExternalCommand.Result curl(String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("-v"));
        all.addAll(List.of(args));
        return FtpsClients.curl(anonymous, all.toArray(String[]::new));
    }

    @Test
    void curlUploadsANewFileThatOnlyTheServerCanRead() throws Exception {
        curl("-T", "up.txt", anonymous.url() + "/incoming/new.txt").assertSuccess();

        Path stored = ferry.root().resolve("incoming/new.txt");
        assertThat(stored).hasContent("uploaded");
        // SECURITY: 0600 whatever the umask, so nothing serves it before an administrator moves it
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(stored))).isEqualTo("rw-------");
    }

    @Test
    void curlCannotListDownloadOrOverwriteInTheUploadDirectory() throws Exception {
        ExternalCommand.Result list = curl(anonymous.url() + "/incoming/");
        ExternalCommand.Result download = curl("-o", "got.txt", anonymous.url() + "/incoming/old.txt");
        ExternalCommand.Result overwrite = curl("-T", "up.txt", anonymous.url() + "/incoming/old.txt");

        for (ExternalCommand.Result r : List.of(list, download)) {
            assertThat(r.exitCode()).as(r.describe("refused")).isNotZero();
            assertThat(r.stderr()).contains("< 550 Permission denied: " + WRITE_ONLY);
        }
        assertThat(overwrite.exitCode()).as(overwrite.describe("overwrite")).isNotZero();
        assertThat(overwrite.stderr()).contains("< 550 /incoming/old.txt: File exists");
        assertThat(ferry.root().resolve("incoming/old.txt")).hasContent("there before");
    }

    @Test
    void curlCannotUploadElsewhereButReadsThere() throws Exception {
        ExternalCommand.Result upload = curl("-T", "up.txt", anonymous.url() + "/pub/up.txt");
        ExternalCommand.Result download = curl("-o", "readme.txt", anonymous.url() + "/pub/readme.txt");

        assertThat(upload.exitCode()).as(upload.describe("upload")).isNotZero();
        assertThat(upload.stderr()).contains("< 550 Permission denied: this account is read-only.");
        assertThat(ferry.root().resolve("pub/up.txt")).doesNotExist();
        download.assertSuccess();
        assertThat(ferry.clientDir().resolve("readme.txt")).hasContent("read me");
    }

    @Test
    void ftplibStoresThereAndIsRefusedEverythingElse() throws Exception {
        Map<String, String> v = FtpsClients.pythonScript(anonymous, """
                import ftplib, io, sys
                PORT = int(sys.argv[1])
                def out(key, value):
                    print(key + "\\t" + str(value).replace("\\r", "\\\\r").replace("\\n", "\\\\n"), flush=True)
                def attempt(key, action):
                    try:
                        out(key, action())
                    except ftplib.error_perm as e:
                        out(key, e)
                ftp = ftplib.FTP(timeout=10, encoding="utf-8")
                ftp.connect(sys.argv[4], PORT)
                out("login", ftp.login(sys.argv[2], sys.argv[3]))
                attempt("cwd", lambda: ftp.cwd("incoming"))
                attempt("stor", lambda: ftp.storbinary("STOR new.bin", io.BytesIO(b"dropped")))
                attempt("stou", lambda: ftp.storbinary("STOU", io.BytesIO(b"unique")))
                attempt("overwrite", lambda: ftp.storbinary("STOR old.txt", io.BytesIO(b"replaced")))
                attempt("appe", lambda: ftp.storbinary("APPE old.txt", io.BytesIO(b"more")))
                attempt("nlst", lambda: ftp.nlst())
                attempt("list", lambda: ftp.retrlines("LIST"))
                attempt("mlsd", lambda: list(ftp.mlsd()))
                attempt("retr", lambda: ftp.retrbinary("RETR new.bin", lambda b: None))
                attempt("size", lambda: ftp.size("new.bin"))
                attempt("mdtm", lambda: ftp.sendcmd("MDTM new.bin"))
                attempt("dele", lambda: ftp.delete("new.bin"))
                attempt("rnfr", lambda: ftp.rename("new.bin", "other.bin"))
                attempt("mkd", lambda: ftp.mkd("sub"))
                attempt("stou_out", lambda: ftp.storbinary("STOU ../pub/x", io.BytesIO(b"out")))
                attempt("cdup", lambda: ftp.cwd(".."))
                attempt("stor_root", lambda: ftp.storbinary("STOR root.bin", io.BytesIO(b"no")))
                attempt("nlst_root", lambda: ",".join(ftp.nlst()))
                ftp.quit()
                """);

        assertThat(v.get("cwd")).startsWith("250");
        assertThat(v.get("stor")).startsWith("226");
        assertThat(v.get("cdup")).startsWith("250");
        assertThat(v).containsEntry("nlst_root", "incoming,pub");
        for (String refused : List.of("appe", "nlst", "list", "mlsd", "retr", "size", "mdtm", "dele", "rnfr", "mkd")) {
            assertThat(v.get(refused)).as(refused).startsWith("550 Permission denied: " + WRITE_ONLY);
        }
        assertThat(v.get("stou")).startsWith("226");
        assertThat(v.get("overwrite")).isEqualTo("550 /incoming/old.txt: File exists; an upload here cannot replace a file.");
        // a STOU hint that leads out of the directory is asked about where it leads
        assertThat(v.get("stou_out")).isEqualTo("550 Permission denied: this account is read-only.");
        assertThat(v.get("stor_root")).isEqualTo("550 Permission denied: this account is read-only.");
        assertThat(ferry.root().resolve("incoming/new.bin")).hasContent("dropped");
        assertThat(ferry.root().resolve("incoming/old.txt")).hasContent("there before\n");
        assertThat(ferry.root().resolve("pub/x")).doesNotExist();
        try (var names = Files.list(ferry.root().resolve("incoming"))) {
            assertThat(names).hasSize(3);
        }
    }
}
