package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.it.FtpsClients;
import dev.ferry.it.TestData;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;
import org.apache.commons.net.ftp.FTPFile;
import org.apache.commons.net.ftp.FTPSClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real FTPS clients through a balancer that terminates TLS and speaks FTPS to its backends too: curl, lftp,
 * Python's ftplib.FTP_TLS and Commons Net (implicit), byte-exact transfers both ways, listings, resume,
 * passive and active data connections. With plain backends the same clients run in
 * {@link dev.ferry.it.FtpsClientsTest}'s balanced shape.
 */
class BalancerTlsClientsTest {

    private static final int BIG = 3 * 1024 * 1024 + 17;
    private BalancerCluster cluster;

    private BalancerCluster start() throws Exception {
        cluster = BalancerCluster.start(s -> s.withTls(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.TERMINATE)
                .withImplicitListen(new InetSocketAddress("127.0.0.1", 0))
                .withBackends(new BalancerSettings.BackendTls(true, null))));
        return cluster;
    }

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void curlDownloadsUploadsListsAndResumes() throws Exception {
        BalancerCluster c = start();
        byte[] down = TestData.randomFile(c.root().resolve("down.bin"), BIG, 1);
        byte[] up = TestData.randomFile(c.clientDir().resolve("up.bin"), BIG, 2);
        Files.write(c.clientDir().resolve("part.bin"), Arrays.copyOf(down, 1_000_003));

        var get = FtpsClients.curl(c.clientDir(), "-v", "--ssl-reqd", "-k", "-o", "got.bin", c.url() + "/down.bin").assertSuccess();
        FtpsClients.curl(c.clientDir(), "--ssl-reqd", "-k", "-T", "up.bin", c.url() + "/up.bin").assertSuccess();
        String listing = FtpsClients.curl(c.clientDir(), "--ssl-reqd", "-k", c.url() + "/").assertSuccess().stdout();
        var resumed = FtpsClients.curl(c.clientDir(), "-v", "--ssl-reqd", "-k", "--disable-epsv", "-C", "-", "-o", "part.bin",
                c.url() + "/down.bin").assertSuccess();

        assertThat(get.stderr()).contains("> AUTH SSL", "> PBSZ 0", "> PROT P", "< 229");
        assertThat(resumed.stderr()).contains("> REST 1000003", "< 227");
        assertThat(TestData.sha256(c.clientDir().resolve("got.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(c.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
        assertThat(TestData.sha256(c.clientDir().resolve("part.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(listing.lines()).anyMatch(l -> l.endsWith(" down.bin")).anyMatch(l -> l.endsWith(" up.bin"));
        // The balancer's data connections to the backends resume its control session there.
        assertThat(c.logLines()).anyMatch(l -> (l.contains("event=transfer ") && l.contains(" cmd=RETR ")) && l.contains("result=ok tls=resumed"));
    }

    @Test
    void lftpGetsPutsAndListsOverProtectedData() throws Exception {
        BalancerCluster c = start();
        byte[] down = TestData.randomFile(c.root().resolve("down.bin"), BIG, 3);
        byte[] up = TestData.randomFile(c.clientDir().resolve("up.bin"), BIG, 4);

        var r = FtpsClients.lftp(c.clientDir(), c.port(), "get down.bin -o got.bin; put up.bin -o up.bin; "
                + "set ftp:passive-mode false; get down.bin -o active.bin; cls -l").assertSuccess();

        assertThat(TestData.sha256(c.clientDir().resolve("got.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(c.clientDir().resolve("active.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(c.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
        assertThat(r.stdout()).contains("down.bin", "up.bin");
    }

    @Test
    void pythonFtpTlsPassiveAndActiveMlsdAndResume() throws Exception {
        BalancerCluster c = start();
        byte[] down = TestData.randomFile(c.root().resolve("down.bin"), BIG, 5);

        Map<String, String> v = FtpsClients.python(c.clientDir(), c.port(), """
                for passive in (True, False):
                    ftp = ftplib.FTP_TLS(context=context, timeout=10)
                    ftp.connect("127.0.0.1", PORT)
                    ftp.login(sys.argv[2], sys.argv[3])
                    out("prot", ftp.prot_p())
                    ftp.set_pasv(passive)
                    data = io.BytesIO()
                    ftp.retrbinary("RETR down.bin", data.write)
                    out("down%s" % passive, hashlib.sha256(data.getvalue()).hexdigest())
                    tail = io.BytesIO()
                    ftp.retrbinary("RETR down.bin", tail.write, rest=3000000)
                    out("tail%s" % passive, hashlib.sha256(tail.getvalue()).hexdigest())
                    out("stor%s" % passive, ftp.storbinary("STOR up%s.bin" % passive, io.BytesIO(data.getvalue()[::-1])))
                    out("mlsd%s" % passive, sorted(name for name, facts in ftp.mlsd()))
                    ftp.quit()
                """);

        String tail = TestData.sha256(Arrays.copyOfRange(down, 3000000, down.length));
        for (String mode : new String[] {"True", "False"}) {
            assertThat(v).containsEntry("down" + mode, TestData.sha256(down)).containsEntry("tail" + mode, tail);
            assertThat(v.get("stor" + mode)).startsWith("226");
        }
        assertThat(v).containsEntry("prot", "200 Protection level set to P (data connections use TLS).")
                .containsEntry("mlsdFalse", "['down.bin', 'upFalse.bin', 'upTrue.bin']");
        byte[] reversed = down.clone();
        for (int i = 0; i < reversed.length; i++) {
            reversed[i] = down[down.length - 1 - i];
        }
        assertThat(TestData.sha256(c.root().resolve("upFalse.bin"))).isEqualTo(TestData.sha256(reversed));
    }

    @Test
    void commonsNetOverImplicitFtpsStoresRetrievesAndLists() throws Exception {
        BalancerCluster c = start();
        byte[] content = TestData.randomFile(c.clientDir().resolve("src.bin"), BIG, 6);
        FTPSClient client = FtpsClients.commonsNet(c.balancer().implicitTlsAddress().getPort(), true);
        try {
            assertThat(client.storeFile("up.bin", new ByteArrayInputStream(content))).as(() -> client.getReplyString() + c.logLines()).isTrue();
            ByteArrayOutputStream back = new ByteArrayOutputStream();
            assertThat(client.retrieveFile("up.bin", back)).isTrue();
            client.enterLocalActiveMode();
            client.setRestartOffset(BIG - 1000);
            ByteArrayOutputStream tail = new ByteArrayOutputStream();
            assertThat(client.retrieveFile("up.bin", tail)).as(client::getReplyString).isTrue();
            client.enterLocalPassiveMode();
            FTPFile[] mlsd = client.mlistDir();

            assertThat(back.toByteArray()).isEqualTo(content);
            assertThat(tail.toByteArray()).isEqualTo(Arrays.copyOfRange(content, BIG - 1000, BIG));
            assertThat(mlsd).extracting(FTPFile::getName).containsExactly("up.bin");
            assertThat(client.logout()).isTrue();
        } finally {
            client.disconnect();
        }
        assertThat(TestData.sha256(c.root().resolve("up.bin"))).isEqualTo(TestData.sha256(content));
    }
}
