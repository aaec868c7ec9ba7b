package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.TestData;
import dev.ferry.testkit.Scrape;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The balancer's metrics after real sessions: two Commons Net clients through {@link BalancerCluster}
 * at once (leastconn sends them to different backends), one downloading over a passive data
 * connection and one uploading over an active one, so both relay paths are counted.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BalancerMetricsTest {

    private static final int DOWNLOAD_BYTES = 300_000;
    private static final int UPLOAD_BYTES = 70_000;

    private BalancerCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = BalancerCluster.start(s -> s);
    }

    @AfterEach
    void stop() throws IOException {
        cluster.close();
    }

    private String text() {
        return cluster.balancer().status().metrics().text();
    }

    private FTPClient login() throws IOException {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.connect("127.0.0.1", cluster.port());
        assertThat(c.login(BalancerCluster.USER, BalancerCluster.PASSWORD)).as(c.getReplyString()).isTrue();
        c.setFileType(FTP.BINARY_FILE_TYPE);
        return c;
    }

    private static double sumOverBackends(Scrape s, String name, String moreLabels) {
        return s.value(name + "{backend=\"s1\"" + moreLabels + "}") + s.value(name + "{backend=\"s2\"" + moreLabels + "}");
    }

    @Test
    void sessionsTransfersAndBytesAreCountedOverallAndPerBackend() throws Exception {
        byte[] file = TestData.randomFile(cluster.root().resolve("down.bin"), DOWNLOAD_BYTES, 11);

        FTPClient passive = login();
        FTPClient active = login();
        Scrape open = Scrape.parse(text());
        assertThat(open.value("ferry_balancer_sessions_open")).isEqualTo(2);
        assertThat(open.value("ferry_balancer_backend_sessions_open{backend=\"s1\"}")).isEqualTo(1);
        assertThat(open.value("ferry_balancer_backend_sessions_open{backend=\"s2\"}")).isEqualTo(1);

        passive.enterLocalPassiveMode();
        ByteArrayOutputStream downloaded = new ByteArrayOutputStream();
        assertThat(passive.retrieveFile("down.bin", downloaded)).as(passive.getReplyString()).isTrue();
        assertThat(downloaded.toByteArray()).isEqualTo(file);
        active.enterLocalActiveMode();
        assertThat(active.storeFile("up.bin", new ByteArrayInputStream(new byte[UPLOAD_BYTES])))
                .as(active.getReplyString()).isTrue();

        Scrape moved = Scrape.awaitValue(this::text, "ferry_balancer_transfers_total", 2);
        assertThat(moved.value("ferry_balancer_bytes_total{direction=\"down\"}")).isEqualTo(DOWNLOAD_BYTES);
        assertThat(moved.value("ferry_balancer_bytes_total{direction=\"up\"}")).isEqualTo(UPLOAD_BYTES);
        assertThat(moved.value("ferry_balancer_transfer_duration_seconds_count")).isEqualTo(2);
        assertThat(moved.value("ferry_balancer_transfer_duration_seconds_bucket{le=\"+Inf\"}")).isEqualTo(2);
        assertThat(sumOverBackends(moved, "ferry_balancer_backend_transfers_total", "")).isEqualTo(2);
        assertThat(sumOverBackends(moved, "ferry_balancer_backend_bytes_total", ",direction=\"down\"")).isEqualTo(DOWNLOAD_BYTES);
        assertThat(sumOverBackends(moved, "ferry_balancer_backend_bytes_total", ",direction=\"up\"")).isEqualTo(UPLOAD_BYTES);

        assertThat(passive.logout()).isTrue();
        assertThat(active.logout()).isTrue();
        passive.disconnect();
        active.disconnect();
        Scrape ended = Scrape.awaitValue(this::text, "ferry_balancer_sessions_open", 0);
        assertThat(ended.value("ferry_balancer_sessions_total")).isEqualTo(2);
        assertThat(ended.value("ferry_balancer_backend_sessions_total{backend=\"s1\"}")).isEqualTo(1);
        assertThat(ended.value("ferry_balancer_backend_sessions_total{backend=\"s2\"}")).isEqualTo(1);
        assertThat(ended.value("ferry_balancer_backend_sessions_open{backend=\"s1\"}")).isZero();
        assertThat(ended.value("ferry_balancer_sessions_refused_total{reason=\"max-sessions\"}")).isZero();
        assertThat(sumOverBackends(ended, "ferry_balancer_backend_connect_failures_total", "")).isZero();
    }

    @Test
    void checksAndBackendStatesAreVisible() throws Exception {
        Scrape.awaitAtLeast(this::text, "ferry_balancer_backend_checks_total{backend=\"s2\",result=\"ok\"}", 1);
        // A scrape reads the series one after another: the check's count and its duration are recorded one after
        // the other too, so one scrape may catch the first and not the second. Each is awaited on its own.
        Scrape checked = Scrape.awaitAtLeast(this::text, "ferry_balancer_check_duration_seconds_count{backend=\"s2\"}", 1);
        assertThat(checked.value("ferry_balancer_backend_up{backend=\"s1\"}")).isEqualTo(1);
        assertThat(checked.value("ferry_balancer_backend_admin_state{backend=\"s1\",state=\"ready\"}")).isEqualTo(1);

        cluster.stopServer(1);

        // FAST_CHECK: fall 2, so two failed checks mark s2 down.
        Scrape down = Scrape.awaitValue(this::text, "ferry_balancer_backend_up{backend=\"s2\"}", 0);
        assertThat(down.value("ferry_balancer_backend_checks_total{backend=\"s2\",result=\"failed\"}")).isGreaterThanOrEqualTo(2);
        assertThat(down.value("ferry_balancer_backend_up{backend=\"s1\"}")).isEqualTo(1);
    }
}
