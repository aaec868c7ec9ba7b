package dev.ferry.balancer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.backend.CheckState;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Failed checks, down transitions, downtime and peaks, fed as the health checker and the sampler feed them. */
class BackendTallyTest {

    private final BackendTally tally = new BackendTally();
    private final Backend backend = new Backend(
            new BalancerSettings.BackendSpec("s1", new InetSocketAddress("127.0.0.1", 21), 1), 1, 2);

    /** As HealthChecker: the hook sees the result before the backend records it. */
    private void check(boolean ok) {
        CheckResult r = new CheckResult(ok, ok ? "220 ready" : "connect refused", Duration.ofMillis(3), Instant.now());
        tally.checkDone(backend, r);
        backend.recordCheck(r);
    }

    @Test
    void failedChecksAndEachDownPeriodAreCounted() throws Exception {
        check(true);
        check(false);
        check(false); // fall 2: down
        assertThat(backend.checkState()).isEqualTo(CheckState.DOWN);
        check(false);
        check(true); // rise 1: up
        check(false);
        check(false); // down again
        Thread.sleep(1100);
        BackendTally.Figures f = tally.figures(backend, Instant.now());
        assertThat(f.checksFailed()).isEqualTo(5);
        assertThat(f.downs()).isEqualTo(2);
        // The open down period counts up to now.
        assertThat(f.downtimeSeconds()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aClosedDownPeriodEndsWhenTheBackendCameBackUp() {
        Instant start = Instant.now();
        check(false);
        check(false);
        check(true);
        Instant later = start.plusSeconds(3600);
        assertThat(tally.figures(backend, later).downtimeSeconds()).isZero();
        assertThat(tally.figures(backend, later).downs()).isEqualTo(1);
    }

    @Test
    void peaksAreTheHighestSampled() {
        backend.sessionStarted();
        backend.sessionStarted();
        tally.observe(List.of(backend), 5, Instant.now());
        backend.sessionEnded();
        tally.observe(List.of(backend), 1, Instant.now());
        assertThat(tally.figures(backend, Instant.now()).peakSessions()).isEqualTo(2);
        assertThat(tally.frontendPeak()).isEqualTo(5);
        assertThat(tally.backendPeak()).isEqualTo(2);
    }
}
