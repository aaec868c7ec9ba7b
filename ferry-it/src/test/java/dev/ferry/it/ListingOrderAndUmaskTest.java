package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * With curl and Python's ftplib: listings come sorted by name (code-point order, as vsftpd and ProFTPD
 * list), and what a client creates gets the modes of {@code server.umask}.
 */
class ListingOrderAndUmaskTest {
    /** Created in this order, which is not the sorted one; directory order is whatever the file system keeps. */
    private static final List<String> CREATED = List.of("zeta", "Beta", "alpha", "émile", "_under", "10", "9", "alpha.txt");
    private static final List<String> SORTED = List.of("10", "9", "Beta", "_under", "alpha", "alpha.txt", "zeta", "émile");

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private void createInShuffledOrder() throws Exception {
        for (String name : CREATED) {
            Files.writeString(ferry.root().resolve(name), name);
        }
    }

    @Test
    void curlListsAndNamesTheEntriesSorted() throws Exception {
        createInShuffledOrder();

        String list = FtpsClients.curl(ferry, ferry.url() + "/").assertSuccess().stdout();
        String nlst = FtpsClients.curl(ferry, "--list-only", ferry.url() + "/").assertSuccess().stdout();

        assertThat(list.lines().map(l -> l.substring(l.lastIndexOf(' ') + 1)).toList()).containsExactlyElementsOf(SORTED);
        assertThat(nlst.lines().toList()).containsExactlyElementsOf(SORTED);
    }

    @Test
    void ftplibSeesMlsdSorted() throws Exception {
        createInShuffledOrder();

        var v = FtpsClients.pythonScript(ferry, """
                import ftplib, sys
                ftp = ftplib.FTP(timeout=10, encoding="utf-8")
                ftp.connect(sys.argv[4], int(sys.argv[1]))
                ftp.login(sys.argv[2], sys.argv[3])
                names = [name for name, facts in ftp.mlsd() if facts.get("type") not in ("cdir", "pdir")]
                print("mlsd\t" + "/".join(names), flush=True)
                ftp.quit()
                """);

        assertThat(v.get("mlsd")).isEqualTo(String.join("/", SORTED));
    }

    @Test
    void theDefaultUmaskGives0644FilesAnd0755Directories() throws Exception {
        uploadAndMakeADirectory();

        assertThat(mode("up.txt")).isEqualTo("rw-r--r--");
        assertThat(mode("made")).isEqualTo("rwxr-xr-x");
    }

    @Test
    void umask027Gives0640FilesAnd0750Directories() throws Exception {
        ferry.restart(s -> s.withUmask(027));

        uploadAndMakeADirectory();

        assertThat(mode("up.txt")).isEqualTo("rw-r-----");
        assertThat(mode("made")).isEqualTo("rwxr-x---");
    }

    private void uploadAndMakeADirectory() throws Exception {
        Files.writeString(ferry.clientDir().resolve("up.txt"), "up\n");
        FtpsClients.curl(ferry, "-T", "up.txt", ferry.url() + "/up.txt").assertSuccess();
        FtpsClients.curl(ferry, "-Q", "MKD made", ferry.url() + "/").assertSuccess();
    }

    private String mode(String name) throws Exception {
        Path path = ferry.root().resolve(name);
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
