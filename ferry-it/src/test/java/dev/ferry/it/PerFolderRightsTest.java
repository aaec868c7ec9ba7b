package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.FolderRights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Per-folder rights with real clients (Python's ftplib, curl) over real sockets: a read-write account whose tree
 * grants {@code /: [list, download]}, {@code /upload: [list, upload]} and every right under {@code /shared}. Each
 * allowed operation succeeds, each denied one gets 550 naming the missing right, and a denied upload stores
 * nothing.
 */
class PerFolderRightsTest {

    private static final String RIGHTS =
            "/=list,download;/upload=list,upload;/shared=list,download,upload,overwrite,delete,rename,mkdir";

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension().configure(s -> s.withUsers(s.users().stream()
            .map(u -> u.name().equals(FerryServerExtension.USER)
                    ? u.withPolicy(AccountPolicy.NONE.withRights(FolderRights.parse(RIGHTS))) : u)
            .toList(), null));

    private static String denied(String right) {
        return "550 Permission denied: no " + right + " right in this folder.";
    }

    @BeforeEach
    void files() throws IOException {
        Path root = ferry.root();
        Files.writeString(root.resolve("readme.txt"), "read me\n");
        Files.createDirectory(root.resolve("upload"));
        Files.writeString(root.resolve("upload/old.txt"), "there before\n");
        Files.createDirectories(root.resolve("shared/sub"));
        Files.writeString(root.resolve("shared/doc.txt"), "shared doc\n");
        Files.writeString(root.resolve("shared/gone.txt"), "to delete\n");
        Files.writeString(ferry.clientDir().resolve("up.txt"), "uploaded\n");
    }

    @Test
    void ftplibGetsWhatEachFolderGrants() throws Exception {
        Map<String, String> v = FtpsClients.pythonScript(ferry, """
                import ftplib, io, sys
                PORT = int(sys.argv[1])
                def out(key, value):
                    print(key + "\\t" + str(value).replace("\\r", "\\\\r").replace("\\n", "\\\\n"), flush=True)
                def attempt(key, action):
                    try:
                        out(key, action())
                    except ftplib.error_perm as e:
                        out(key, e)
                def get(name):
                    chunks = []
                    ftp.retrbinary("RETR " + name, chunks.append)
                    return b"".join(chunks).decode()
                ftp = ftplib.FTP(timeout=10, encoding="utf-8")
                ftp.connect(sys.argv[4], PORT)
                out("login", ftp.login(sys.argv[2], sys.argv[3]))
                # / : list, download
                attempt("root_nlst", lambda: ",".join(sorted(ftp.nlst())))
                attempt("root_mlsd", lambda: ",".join(n + "=" + f["perm"] for n, f in sorted(ftp.mlsd("/"))
                                                        if f["type"] in ("file", "dir")))
                attempt("root_retr", lambda: get("readme.txt"))
                attempt("root_stor", lambda: ftp.storbinary("STOR new.bin", io.BytesIO(b"no")))
                attempt("root_mkd", lambda: ftp.mkd("d"))
                attempt("root_dele", lambda: ftp.delete("readme.txt"))
                attempt("root_rename", lambda: ftp.rename("readme.txt", "other.txt"))
                attempt("root_mfmt", lambda: ftp.sendcmd("MFMT 20200101000000 readme.txt"))
                # /upload : list, upload
                attempt("up_cwd", lambda: ftp.cwd("/upload"))
                attempt("up_stor", lambda: ftp.storbinary("STOR new.bin", io.BytesIO(b"dropped")))
                attempt("up_nlst", lambda: ",".join(sorted(ftp.nlst())))
                attempt("up_size", lambda: ftp.size("new.bin"))
                attempt("up_overwrite", lambda: ftp.storbinary("STOR old.txt", io.BytesIO(b"replaced")))
                attempt("up_appe", lambda: ftp.storbinary("APPE old.txt", io.BytesIO(b"more")))
                attempt("up_resume", lambda: ftp.storbinary("STOR old.txt", io.BytesIO(b"xx"), rest=3))
                attempt("up_retr", lambda: get("old.txt"))
                attempt("up_dele", lambda: ftp.delete("old.txt"))
                attempt("up_mkd", lambda: ftp.mkd("d"))
                attempt("up_rename", lambda: ftp.rename("new.bin", "other.bin"))
                attempt("up_stou", lambda: ftp.storbinary("STOU", io.BytesIO(b"unique")))
                # /shared : every right
                attempt("sh_cwd", lambda: ftp.cwd("/shared"))
                attempt("sh_stor", lambda: ftp.storbinary("STOR new.bin", io.BytesIO(b"new")))
                attempt("sh_overwrite", lambda: ftp.storbinary("STOR doc.txt", io.BytesIO(b"replaced\\n")))
                attempt("sh_appe", lambda: ftp.storbinary("APPE doc.txt", io.BytesIO(b"appended\\n")))
                attempt("sh_retr", lambda: get("doc.txt"))
                attempt("sh_mkd", lambda: ftp.mkd("made"))
                attempt("sh_rmd", lambda: ftp.rmd("sub"))
                attempt("sh_dele", lambda: ftp.delete("gone.txt"))
                attempt("sh_rename", lambda: ftp.rename("new.bin", "renamed.bin"))
                attempt("sh_mfmt", lambda: ftp.sendcmd("MFMT 20200101000000 renamed.bin"))
                # leaving /shared: RENAME is asked at the target too, and /shared itself is /'s business
                attempt("sh_move_out", lambda: ftp.rename("renamed.bin", "/upload/moved.bin"))
                attempt("sh_rmd_self", lambda: ftp.rmd("/shared"))
                attempt("sh_rename_self", lambda: ftp.rename("/shared", "/elsewhere"))
                attempt("up_mfmt", lambda: ftp.sendcmd("MFMT 20200101000000 /upload/old.txt"))
                ftp.quit()
                """);

        assertThat(v.get("login")).startsWith("230");
        assertThat(v).containsEntry("root_nlst", "readme.txt,shared,upload");
        // RFC 3659 §7.5.5 perm facts from the rights at each entry: /shared's own (create, enter, list, mkdir,
        // purge), but not d or f, as removing or renaming /shared itself is /'s business
        assertThat(v).containsEntry("root_mlsd", "readme.txt=r,shared=celmp,upload=cel");
        assertThat(v).containsEntry("root_retr", "read me\\n");
        assertThat(v).containsEntry("root_stor", denied("upload"));
        assertThat(v).containsEntry("root_mkd", denied("mkdir"));
        assertThat(v).containsEntry("root_dele", denied("delete"));
        assertThat(v).containsEntry("root_rename", denied("rename"));
        assertThat(v).containsEntry("root_mfmt", denied("overwrite"));

        assertThat(v.get("up_cwd")).startsWith("250");
        assertThat(v.get("up_stor")).startsWith("226");
        assertThat(v).containsEntry("up_nlst", "new.bin,old.txt");
        assertThat(v).containsEntry("up_size", "7");
        assertThat(v).containsEntry("up_overwrite", denied("overwrite"));
        assertThat(v).containsEntry("up_appe", denied("overwrite"));
        assertThat(v).containsEntry("up_resume", denied("overwrite"));
        assertThat(v).containsEntry("up_retr", denied("download"));
        assertThat(v).containsEntry("up_dele", denied("delete"));
        assertThat(v).containsEntry("up_mkd", denied("mkdir"));
        assertThat(v).containsEntry("up_rename", denied("rename"));
        assertThat(v.get("up_stou")).startsWith("226");
        assertThat(v).containsEntry("up_mfmt", denied("overwrite"));

        for (String ok : List.of("sh_stor", "sh_overwrite", "sh_appe")) {
            assertThat(v.get(ok)).as(ok).startsWith("226");
        }
        assertThat(v).containsEntry("sh_retr", "replaced\\nappended\\n");
        assertThat(v).containsEntry("sh_mkd", "/shared/made");
        assertThat(v.get("sh_rmd")).startsWith("250");
        assertThat(v.get("sh_dele")).startsWith("250");
        assertThat(v.get("sh_rename")).startsWith("250");
        assertThat(v.get("sh_mfmt")).startsWith("213");
        assertThat(v).containsEntry("sh_move_out", denied("rename"));
        assertThat(v).containsEntry("sh_rmd_self", denied("delete"));
        assertThat(v).containsEntry("sh_rename_self", denied("rename"));

        Path root = ferry.root();
        assertThat(root.resolve("new.bin")).doesNotExist();
        assertThat(root.resolve("upload/old.txt")).hasContent("there before");
        assertThat(root.resolve("upload/new.bin")).hasContent("dropped");
        assertThat(root.resolve("shared/renamed.bin")).hasContent("new");
        assertThat(root.resolve("upload/moved.bin")).doesNotExist();
        assertThat(root.resolve("shared/gone.txt")).doesNotExist();
        assertThat(root.resolve("shared/made")).isDirectory();
        try (var names = Files.list(root.resolve("upload"))) {
            // old.txt, new.bin and the STOU file: nothing else, no temporary file left by a refused upload
            assertThat(names.map(p -> p.getFileName().toString()).filter(n -> !n.equals("old.txt")
                    && !n.equals("new.bin"))).hasSize(1);
        }
        assertThat(ferry.logLines()).anySatisfy(l -> assertThat(l).contains("event=refused", "cmd=STOR",
                "reason=folder-right-overwrite"));
        assertThat(ferry.logLines()).anySatisfy(l -> assertThat(l).contains("event=refused", "cmd=RETR",
                "reason=folder-right-download"));
    }

    private ExternalCommand.Result curl(String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("-v"));
        all.addAll(List.of(args));
        return FtpsClients.curl(ferry, all.toArray(String[]::new));
    }

    @Test
    void curlUploadsOnlyWhereItMayAndADeniedUploadStoresNothing() throws Exception {
        curl("-T", "up.txt", ferry.url() + "/upload/new.txt").assertSuccess();
        ExternalCommand.Result overwrite = curl("-T", "up.txt", ferry.url() + "/upload/old.txt");
        ExternalCommand.Result atRoot = curl("-T", "up.txt", ferry.url() + "/up.txt");
        ExternalCommand.Result download = curl("-o", "got.txt", ferry.url() + "/upload/old.txt");
        String listing = curl("-l", ferry.url() + "/upload/").assertSuccess().stdout();
        curl("-T", "up.txt", ferry.url() + "/shared/doc.txt").assertSuccess();
        curl("-o", "doc.txt", ferry.url() + "/shared/doc.txt").assertSuccess();

        assertThat(ferry.root().resolve("upload/new.txt")).hasContent("uploaded");
        assertThat(overwrite.exitCode()).as(overwrite.describe("overwrite")).isNotZero();
        assertThat(overwrite.stderr()).contains("< " + denied("overwrite"));
        assertThat(ferry.root().resolve("upload/old.txt")).hasContent("there before");
        assertThat(atRoot.exitCode()).as(atRoot.describe("upload at /")).isNotZero();
        assertThat(atRoot.stderr()).contains("< " + denied("upload"));
        assertThat(ferry.root().resolve("up.txt")).doesNotExist();
        assertThat(download.exitCode()).as(download.describe("download")).isNotZero();
        assertThat(download.stderr()).contains("< " + denied("download"));
        assertThat(listing.lines().sorted().toList()).containsExactly("new.txt", "old.txt");
        assertThat(ferry.clientDir().resolve("doc.txt")).hasContent("uploaded");
        try (var names = Files.list(ferry.root())) {
            assertThat(names.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("readme.txt", "shared", "upload");
        }
    }
}
