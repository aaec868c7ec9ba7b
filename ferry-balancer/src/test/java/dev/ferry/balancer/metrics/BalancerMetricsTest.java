package dev.ferry.balancer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.testkit.Scrape;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The balancer's metrics read the backends', admission's and data ports' own counters at scrape
 * time, and count checks and transfers from their hooks. No sessions here (ferry-it drives real
 * ones through a balancer): the counters are set directly, as the session code would.
 */
@Timeout(30)
class BalancerMetricsTest {

    private final Backend s1 = backend("s1", 3);
    private final Backend s2 = backend("s2", 1);
    private final Admission admission = new Admission(1, 0, Duration.ofSeconds(30));
    private final DataPorts dataPorts = new DataPorts(InetAddress.getLoopbackAddress(), 0, 0);
    private final BalancerMetrics metrics = new BalancerMetrics(() -> List.of(s1, s2), admission, dataPorts, 1, () -> 1);

    @AfterEach
    void close() {
        dataPorts.close();
    }

    private static Backend backend(String name, int weight) {
        return new Backend(new BalancerSettings.BackendSpec(name, new InetSocketAddress("127.0.0.1", 2121), weight,
                BalancerSettings.BackendSpec.DEFAULT_MAX_CONNECTING), 1, 1);
    }

    private Scrape scrape() {
        return Scrape.parse(metrics.text());
    }

    @Test
    void backendCountersAreReadAtScrapeTime() {
        s1.sessionStarted();
        s1.sessionStarted();
        s1.sessionEnded();
        s2.countConnectFailure();
        s1.countRetry();
        s1.countTransfer();
        s1.addBytes(100, 2_000);

        Scrape s = scrape();

        assertThat(s.value("ferry_balancer_backend_sessions_open{backend=\"s1\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_backend_sessions_total{backend=\"s1\"}")).isEqualTo(2);
        assertThat(s.value("ferry_balancer_backend_sessions_open{backend=\"s2\"}")).isZero();
        assertThat(s.value("ferry_balancer_backend_connect_failures_total{backend=\"s2\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_backend_retries_total{backend=\"s1\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_backend_transfers_total{backend=\"s1\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_backend_bytes_total{backend=\"s1\",direction=\"up\"}")).isEqualTo(100);
        assertThat(s.value("ferry_balancer_backend_bytes_total{backend=\"s1\",direction=\"down\"}")).isEqualTo(2_000);
        assertThat(s.value("ferry_balancer_backend_weight{backend=\"s1\"}")).isEqualTo(3);
    }

    @Test
    void checkStateAndAdminStateAreOneSeriesPerState() {
        s2.recordCheck(new CheckResult(false, "connect refused", Duration.ofMillis(3), Instant.now()));
        s1.setAdminState(AdminState.DRAIN);

        Scrape s = scrape();

        assertThat(s.value("ferry_balancer_backend_up{backend=\"s1\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_backend_up{backend=\"s2\"}")).isZero();
        assertThat(s.value("ferry_balancer_backend_admin_state{backend=\"s1\",state=\"drain\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_backend_admin_state{backend=\"s1\",state=\"ready\"}")).isZero();
        assertThat(s.value("ferry_balancer_backend_admin_state{backend=\"s1\",state=\"maint\"}")).isZero();
        assertThat(s.value("ferry_balancer_backend_admin_state{backend=\"s2\",state=\"ready\"}")).isEqualTo(1);
    }

    @Test
    void checksAreCountedByResultWithTheirDurations() {
        metrics.checkDone(s1, new CheckResult(true, "220 ready", Duration.ofMillis(2), Instant.now()));
        metrics.checkDone(s1, new CheckResult(true, "220 ready", Duration.ofMillis(20), Instant.now()));
        metrics.checkDone(s2, new CheckResult(false, "timeout", Duration.ofSeconds(2), Instant.now()));

        Scrape s = scrape();

        assertThat(s.value("ferry_balancer_backend_checks_total{backend=\"s1\",result=\"ok\"}")).isEqualTo(2);
        assertThat(s.value("ferry_balancer_backend_checks_total{backend=\"s1\",result=\"failed\"}")).isZero();
        assertThat(s.value("ferry_balancer_backend_checks_total{backend=\"s2\",result=\"failed\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_check_duration_seconds_count{backend=\"s1\"}")).isEqualTo(2);
        assertThat(s.value("ferry_balancer_check_duration_seconds_bucket{backend=\"s1\",le=\"0.0025\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_check_duration_seconds_bucket{backend=\"s1\",le=\"0.025\"}")).isEqualTo(2);
        assertThat(s.value("ferry_balancer_check_duration_seconds_sum{backend=\"s2\"}")).isEqualTo(2.0);
    }

    @Test
    void transfersAreCountedWithBytesAndDuration() {
        metrics.transferDone(10, 1_000_000, 1_500_000_000L);

        Scrape s = scrape();

        assertThat(s.value("ferry_balancer_transfers_total")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_bytes_total{direction=\"up\"}")).isEqualTo(10);
        assertThat(s.value("ferry_balancer_bytes_total{direction=\"down\"}")).isEqualTo(1_000_000);
        assertThat(s.value("ferry_balancer_transfer_duration_seconds_count")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_transfer_duration_seconds_bucket{le=\"1.0\"}")).isZero();
        assertThat(s.value("ferry_balancer_transfer_duration_seconds_bucket{le=\"2.5\"}")).isEqualTo(1);
    }

    @Test
    void admissionOutcomesBecomeSessionsAndRefusals() throws Exception {
        assertThat(admission.enter()).isEqualTo(Admission.Outcome.ADMITTED);
        assertThat(admission.enter()).isEqualTo(Admission.Outcome.QUEUE_FULL);

        Scrape s = scrape();

        assertThat(s.value("ferry_balancer_sessions_open")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_sessions_max")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_sessions_total")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_sessions_queued")).isZero();
        assertThat(s.value("ferry_balancer_sessions_refused_total{reason=\"max-sessions\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_sessions_refused_total{reason=\"queue-timeout\"}")).isZero();
        assertThat(s.value("ferry_balancer_sessions_refused_total{reason=\"max-per-address\"}")).isZero();
        admission.leave();
        assertThat(scrape().value("ferry_balancer_sessions_open")).isZero();
    }

    @Test
    void anAddressOverItsLimitIsARefusalOfItsOwn() throws Exception {
        InetAddress client = InetAddress.getByName("192.0.2.7");
        assertThat(admission.arrive(client, 1)).isTrue();
        assertThat(admission.arrive(client, 1)).isFalse();

        Scrape s = scrape();

        assertThat(s.value("ferry_balancer_sessions_refused_total{reason=\"max-per-address\"}")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_sessions_refused_total{reason=\"max-sessions\"}")).isZero();
        assertThat(s.value("ferry_balancer_sessions_per_address_max")).isEqualTo(1);
        assertThat(s.value("ferry_balancer_sessions_total")).as("not a session").isZero();
    }

    @Test
    void timeoutsAreCountedByKind() {
        metrics.timedOut(BalancerMetrics.Timeout.LOGIN);
        metrics.timedOut(BalancerMetrics.Timeout.LOGIN);
        metrics.timedOut(BalancerMetrics.Timeout.CLIENT_IDLE);

        Scrape s = scrape();

        assertThat(s.value("ferry_balancer_session_timeouts_total{kind=\"login\"}")).isEqualTo(2);
        assertThat(s.value("ferry_balancer_session_timeouts_total{kind=\"client-idle\"}")).isEqualTo(1);
        assertThat(metrics.timeouts(BalancerMetrics.Timeout.LOGIN)).isEqualTo(2);
    }

    @Test
    void pendingDataRoutesArePassivePortsInUse() throws Exception {
        long later = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        DataPorts.Route pending = new DataPorts.Route(InetAddress.getLoopbackAddress(), c -> { }, () -> { }, later);
        int port = dataPorts.register(pending);
        dataPorts.register(new DataPorts.Route(InetAddress.getLoopbackAddress(), c -> { }, () -> { }, System.nanoTime() - 1));

        Scrape s = scrape();

        assertThat(s.value("ferry_balancer_passive_ports_in_use")).as("the expired route does not count").isEqualTo(1);
        assertThat(s.value("ferry_balancer_passive_ports")).isZero();
        dataPorts.cancel(port, pending);
        assertThat(scrape().value("ferry_balancer_passive_ports_in_use")).isZero();
    }

    @Test
    void theRelayModeIsAnInfoSeries() {
        Scrape s = scrape();

        assertThat(s.samples().keySet()).containsAnyOf("ferry_balancer_relay_info{mode=\"splice\"}",
                "ferry_balancer_relay_info{mode=\"copy\"}");
        assertThat(s.value("ferry_balancer_relay_spliced_directions_total")).isGreaterThanOrEqualTo(0);
    }

    @Test
    void theBansGaugeReadsTheBanListAtScrapeTime() throws Exception {
        dev.ferry.runtime.limits.LocalBanList bans = new dev.ferry.runtime.limits.LocalBanList(
                dev.ferry.runtime.limits.BanRules.OFF, java.time.Clock.systemUTC(), "lb");
        metrics.bansActive(bans::bannedCount);
        assertThat(scrape().value("ferry_balancer_bans_active")).isZero();

        bans.ban(InetAddress.getByName("192.0.2.7"), java.time.Duration.ofMinutes(5), "admin", "ops@lb");
        Scrape s = scrape();
        assertThat(s.value("ferry_balancer_bans_active")).isEqualTo(1);
        s.assertNamedAndDocumented(Pattern.compile("^ferry_balancer_[a-z_]+$"));
    }

    /** Every metric is named ferry_balancer_*, in snake case, with HELP and TYPE, and counters end in _total. */
    @Test
    void everyMetricIsNamedAndDocumented() {
        Scrape s = scrape();

        // The list in docs/metrics.md: a metric added or renamed here is added or renamed there.
        assertThat(s.types().keySet()).containsExactlyInAnyOrder("ferry_balancer_sessions_open",
                "ferry_balancer_sessions_max", "ferry_balancer_sessions_per_address_max", "ferry_balancer_sessions_queued",
                "ferry_balancer_sessions_total", "ferry_balancer_sessions_refused_total", "ferry_balancer_session_timeouts_total",
                "ferry_balancer_passive_ports_in_use", "ferry_balancer_passive_ports",
                "ferry_balancer_relay_info", "ferry_balancer_relay_spliced_directions_total",
                "ferry_balancer_backend_sessions_open", "ferry_balancer_backend_sessions_total", "ferry_balancer_backend_up",
                "ferry_balancer_backend_admin_state", "ferry_balancer_backend_weight",
                "ferry_balancer_backend_connect_failures_total", "ferry_balancer_backend_retries_total",
                "ferry_balancer_backend_transfers_total", "ferry_balancer_backend_bytes_total",
                "ferry_balancer_backend_checks_total", "ferry_balancer_check_duration_seconds",
                "ferry_balancer_transfers_total", "ferry_balancer_bytes_total", "ferry_balancer_transfer_duration_seconds");
        Pattern name = Pattern.compile("^ferry_balancer_[a-z_]+$");
        s.assertNamedAndDocumented(name);
    }

    @Test
    void writeToWritesWhatTheHandlerServes() throws Exception {
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        metrics.writeTo(written);

        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        http.createContext("/metrics", metrics.handler());
        http.start();
        try (HttpClient client = HttpClient.newHttpClient()) {
            URI uri = URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/metrics");
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(r.body()).isEqualTo(written.toString(StandardCharsets.UTF_8));
        } finally {
            http.stop(0);
        }
    }
}
