package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * curl and lftp through the balancer in front of two servers: listings, byte-exact downloads and
 * uploads in every data-connection mode (EPSV, PASV, active), each relayed by the balancer.
 */
class BalancerClientsTest {

    private static final int BIG = 5 * 1024 * 1024;

    private BalancerCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = BalancerCluster.start(s -> s);
    }

    @AfterEach
    void stop() throws IOException {
        cluster.close();
    }

    private ExternalCommand.Result curl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30",
                "-u", BalancerCluster.USER + ":" + BalancerCluster.PASSWORD));
        command.addAll(Arrays.asList(args));
        return ExternalCommand.run(cluster.clientDir(), Duration.ofSeconds(40), Map.of(), command);
    }

    @Test
    void curlListsTheSharedRoot() throws Exception {
        Files.writeString(cluster.root().resolve("hello.txt"), "hello\n");
        Files.createDirectory(cluster.root().resolve("pub"));

        String listing = curl(cluster.url() + "/").assertSuccess().stdout();

        assertThat(listing.lines()).anyMatch(l -> l.startsWith("-") && l.endsWith(" hello.txt"));
        assertThat(listing.lines()).anyMatch(l -> l.startsWith("d") && l.endsWith(" pub"));
    }

    /** Each mode's data connections are relayed by the balancer; the protocol verb proves which mode ran. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "EPSV    | ''                                 | EPSV",
            "PASV    | --disable-epsv                     | PASV",
            "active  | --ftp-port 127.0.0.1                | EPRT",
            "PORT    | --ftp-port 127.0.0.1 --disable-eprt | PORT"})
    void curlDownloadsAndUploadsByteExact(String mode, String options, String verb) throws Exception {
        byte[] down = TestData.randomFile(cluster.root().resolve("down.bin"), BIG, 1);
        byte[] up = TestData.randomFile(cluster.clientDir().resolve("up.bin"), BIG, 2);
        List<String> extra = options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));

        List<String> get = new ArrayList<>(List.of("-v"));
        get.addAll(extra);
        get.addAll(List.of("-o", "down.bin", cluster.url() + "/down.bin"));
        ExternalCommand.Result r = curl(get.toArray(String[]::new)).assertSuccess();
        List<String> put = new ArrayList<>(extra);
        put.addAll(List.of("-T", "up.bin", cluster.url() + "/up.bin"));
        curl(put.toArray(String[]::new)).assertSuccess();

        assertThat(r.stderr()).as(r.describe("the data connection mode")).contains("> " + verb);
        assertThat(TestData.sha256(cluster.clientDir().resolve("down.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(cluster.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
    }

    @Test
    void lftpListsGetsAndPuts() throws Exception {
        Files.writeString(cluster.root().resolve("listed.txt"), "x");
        byte[] remote = TestData.randomFile(cluster.root().resolve("remote.bin"), 1_500_000, 3);
        byte[] local = TestData.randomFile(cluster.clientDir().resolve("local.bin"), 1_200_000, 4);
        String script = "set net:max-retries 1; set net:timeout 5; set net:reconnect-interval-base 1; "
                + "set cmd:fail-exit yes; set ftp:ssl-allow no; set ftp:passive-mode on; "
                + "open -u " + BalancerCluster.USER + "," + BalancerCluster.PASSWORD + " -p " + cluster.port() + " 127.0.0.1; "
                + "ls; get remote.bin -o fetched.bin; put local.bin -o stored.bin";

        ExternalCommand.Result r = ExternalCommand.run(cluster.clientDir(), Duration.ofSeconds(60),
                Map.of("HOME", cluster.clientDir().toString(), "LC_ALL", "C.UTF-8"),
                List.of("lftp", "-c", script)).assertSuccess();

        assertThat(r.stdout().lines()).as(r.describe("ls")).anyMatch(l -> l.endsWith(" listed.txt"));
        assertThat(TestData.sha256(cluster.clientDir().resolve("fetched.bin"))).isEqualTo(TestData.sha256(remote));
        assertThat(TestData.sha256(cluster.root().resolve("stored.bin"))).isEqualTo(TestData.sha256(local));
    }
}
