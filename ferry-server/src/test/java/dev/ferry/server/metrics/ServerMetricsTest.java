package dev.ferry.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings.LoginPolicy;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.Scrape;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPConnectionClosedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's metrics after real sessions: a real {@link FtpServer} on a loopback port, Commons Net
 * as the client, and the registry's text as Prometheus would scrape it.
 */
@Timeout(30)
class ServerMetricsTest {

    private static final String PASSWORD = "secret";
    // Cheap Argon2id parameters: these tests are about counting, not about hashing cost.
    private static final String HASH = PasswordHasher.hash(PASSWORD.toCharArray(), 8, 1, 1);
    /** Above the size sent on the control thread (64 KiB), so the download runs as a transfer of its own. */
    private static final int DOWNLOAD_BYTES = 200_000;
    private static final int UPLOAD_BYTES = 5_000;

    @TempDir
    Path root;
    private FtpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start(UnaryOperator<ServerSettings> configure) throws IOException {
        ServerSettings settings = ServerSettings.defaults(root)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withUsers(List.of(new ServerSettings.UserAccount("alice", HASH, null, true, true)), null)
                .withLoginPolicy(new LoginPolicy(Duration.ZERO, 3, 0, Duration.ofMinutes(5), Duration.ofMinutes(15),
                        Duration.ofMinutes(15)));
        server = FtpServer.start(configure.apply(settings));
    }

    private String text() {
        return server.context().metrics().text();
    }

    private Scrape await(String sample, double expected) throws InterruptedException {
        return Scrape.awaitValue(this::text, sample, expected);
    }

    private FTPClient connect() throws IOException {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.connect("127.0.0.1", server.port());
        return c;
    }

    @Test
    void loginsTransfersBytesAndTheSessionEndAreCounted() throws Exception {
        start(s -> s);
        byte[] file = new byte[DOWNLOAD_BYTES];
        new Random(7).nextBytes(file);
        Files.write(root.resolve("big.bin"), file);

        FTPClient c = connect();
        assertThat(Scrape.parse(text()).value("ferry_server_sessions_open")).isEqualTo(1);
        assertThat(c.login("alice", "wrong")).isFalse();
        assertThat(c.login("alice", PASSWORD)).isTrue();
        c.enterLocalPassiveMode();
        c.setFileType(FTP.BINARY_FILE_TYPE);

        ByteArrayOutputStream downloaded = new ByteArrayOutputStream();
        assertThat(c.retrieveFile("big.bin", downloaded)).isTrue();
        // The duration is recorded last of a transfer's series (ServerMetrics.transferEnded), and a scrape reads
        // the series one after another while it may be running: once one scrape shows the duration, the next
        // shows the whole transfer.
        await("ferry_server_transfer_duration_seconds_count{direction=\"download\"}", 1);
        Scrape afterDownload = Scrape.parse(text());
        assertThat(afterDownload.value("ferry_server_sent_bytes_total")).isEqualTo(DOWNLOAD_BYTES);
        assertThat(afterDownload.value("ferry_server_transfers_total{direction=\"download\",result=\"ok\"}")).isEqualTo(1);
        assertThat(afterDownload.value("ferry_server_transfer_duration_seconds_bucket{direction=\"download\",le=\"+Inf\"}"))
                .isEqualTo(1);
        assertThat(afterDownload.value("ferry_server_transfer_duration_seconds_count{direction=\"upload\"}")).isZero();

        assertThat(c.storeFile("up.bin", new ByteArrayInputStream(new byte[UPLOAD_BYTES]))).isTrue();
        await("ferry_server_transfer_duration_seconds_count{direction=\"upload\"}", 1);
        Scrape afterUpload = Scrape.parse(text());
        assertThat(afterUpload.value("ferry_server_received_bytes_total")).isEqualTo(UPLOAD_BYTES);
        assertThat(afterUpload.value("ferry_server_transfers_total{direction=\"upload\",result=\"ok\"}")).isEqualTo(1);

        String[] names = c.listNames();
        assertThat(names).containsExactlyInAnyOrder("big.bin", "up.bin");
        await("ferry_server_transfers_total{direction=\"list\",result=\"ok\"}", 1);
        // The transfer's count is its last update (ServerMetrics.transferEnded), but the scrape that saw it may
        // have read the active gauge and the bytes before they changed: the next scrape sees all of them.
        Scrape afterList = Scrape.parse(text());
        // Listings are sent bytes too: "big.bin\r\n" and "up.bin\r\n".
        assertThat(afterList.value("ferry_server_sent_bytes_total")).isEqualTo(DOWNLOAD_BYTES + 9 + 8);
        assertThat(afterList.value("ferry_server_transfers_active")).isZero();

        assertThat(c.logout()).isTrue();
        c.disconnect();
        await("ferry_server_sessions_total{ending=\"quit\"}", 1);
        // The open-session gauge reads the session registry, which drops the session after its ending is counted.
        Scrape end = await("ferry_server_sessions_open", 0);
        assertThat(end.value("ferry_server_logins_total{result=\"ok\"}")).isEqualTo(1);
        assertThat(end.value("ferry_server_logins_total{result=\"failed\"}")).isEqualTo(1);
        assertThat(end.value("ferry_server_bans_total")).isZero();
        assertThat(end.value("ferry_server_sessions_open")).isZero();
        assertThat(end.value("ferry_server_sessions_total{ending=\"client-closed\"}")).isZero();
    }

    @Test
    void aTransferWithoutDataConnectionIsCountedButKeptOutOfTheDurations() throws Exception {
        start(s -> s.withPassive(new ServerSettings.Passive(0, 0, null, List.of(), Duration.ofMillis(100))));
        Files.writeString(root.resolve("a.txt"), "a");
        FTPClient c = connect();
        assertThat(c.login("alice", PASSWORD)).isTrue();
        c.pasv();

        assertThat(c.sendCommand("RETR a.txt")).isEqualTo(425);

        Scrape s = await("ferry_server_transfers_total{direction=\"download\",result=\"no-data-connection\"}", 1);
        assertThat(s.value("ferry_server_transfer_duration_seconds_count{direction=\"download\"}")).isZero();
        assertThat(s.value("ferry_server_passive_ports_in_use")).isZero();
        c.disconnect();
    }

    @Test
    void passivePortsInUseAreReadAtScrapeTime() throws Exception {
        int low = dev.ferry.testkit.FreePorts.range(3);
        start(s -> s.withPassive(s.passive().withPorts(low, low + 2)));
        FTPClient c = connect();
        assertThat(c.login("alice", PASSWORD)).isTrue();
        assertThat(Scrape.parse(text()).value("ferry_server_passive_ports")).isEqualTo(3);

        assertThat(c.pasv()).isEqualTo(227);
        assertThat(Scrape.parse(text()).value("ferry_server_passive_ports_in_use")).isEqualTo(1);

        assertThat(c.abort()).isTrue();
        assertThat(Scrape.parse(text()).value("ferry_server_passive_ports_in_use")).isZero();
        c.disconnect();
    }

    @Test
    void connectionsOverTheLimitAreCountedAsRefused() throws Exception {
        start(s -> s.withLimits(s.limits().withMaxSessions(1)));
        FTPClient first = connect();

        assertThat(greeting()).startsWith("421 ");

        Scrape s = await("ferry_server_sessions_refused_total{reason=\"max-sessions\"}", 1);
        assertThat(s.value("ferry_server_sessions_max")).isEqualTo(1);
        assertThat(s.value("ferry_server_sessions_open")).isEqualTo(1);
        first.disconnect();
        await("ferry_server_sessions_total{ending=\"client-closed\"}", 1);
        // A scrape reads the series one after another, so the one that saw the session counted may have read the
        // open gauge just before the session left: the gauge is awaited on its own.
        Scrape after = await("ferry_server_sessions_open", 0);
        assertThat(after.samples()).as("a refused connection is not a session that ended")
                .doesNotContainKey("ferry_server_sessions_total{ending=\"other\"}");
    }

    @Test
    void aBanIsCountedWhileItLastsAndRefusesTheNextConnection() throws Exception {
        start(s -> s.withLoginPolicy(new LoginPolicy(Duration.ZERO, 3, 1, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ofMinutes(15))));
        FTPClient c = connect();

        // The failure that starts the ban is answered 421, and the connection closes.
        assertThatThrownBy(() -> c.login("alice", "wrong")).isInstanceOf(FTPConnectionClosedException.class);
        Scrape banned = await("ferry_server_bans_total", 1);
        assertThat(banned.value("ferry_server_bans_active")).isEqualTo(1);
        assertThat(banned.value("ferry_server_logins_total{result=\"failed\"}")).isEqualTo(1);
        c.disconnect();

        assertThat(greeting()).startsWith("421 ");
        await("ferry_server_sessions_refused_total{reason=\"banned\"}", 1);
    }

    /** Every metric is named ferry_server_*, in snake case, with HELP and TYPE, and counters end in _total. */
    @Test
    void everyMetricIsNamedAndDocumented() throws Exception {
        start(s -> s);
        Scrape s = Scrape.parse(text());

        Pattern name = Pattern.compile("^ferry_server_[a-z_]+$");
        // The list in docs/metrics.md: a metric added or renamed here is added or renamed there.
        assertThat(s.types().keySet()).containsExactlyInAnyOrder("ferry_server_sessions_open", "ferry_server_sessions_max",
                "ferry_server_sessions_total", "ferry_server_sessions_refused_total", "ferry_server_logins_total",
                "ferry_server_bans_total", "ferry_server_bans_active", "ferry_server_transfers_total",
                "ferry_server_transfers_active", "ferry_server_received_bytes_total", "ferry_server_sent_bytes_total",
                "ferry_server_transfer_duration_seconds", "ferry_server_passive_ports_in_use", "ferry_server_passive_ports",
                "ferry_server_event_deliveries_total", "ferry_server_events_dropped_total");
        s.assertNamedAndDocumented(name);
        for (String sample : s.samples().keySet()) {
            String family = sample.replaceAll("\\{.*", "").replaceAll("_(bucket|count|sum)$", "");
            assertThat(s.types()).as("the family of %s", sample).containsKey(family);
        }
    }

    /** The first reply line of a new raw connection. */
    private String greeting() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }
}
