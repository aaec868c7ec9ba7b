package dev.ferry.balancer.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.metrics.TrafficHistory.Reading;
import dev.ferry.balancer.metrics.TrafficHistory.Sample;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrafficHistoryTest {

    private static final Instant T0 = Instant.parse("2026-12-07T14:00:00Z");
    private static final Duration TICK = Duration.ofSeconds(10);

    private static Instant at(int tick) {
        return T0.plus(TICK.multipliedBy(tick));
    }

    @Test
    void aBalancerThatJustStartedHasOnlyTheSamplesTaken() {
        TrafficHistory h = new TrafficHistory(TICK, 6);
        assertThat(h.samples()).isEmpty();

        h.sample(at(0), List.of(new Reading("s1", 2, 100, 50)));
        h.sample(at(1), List.of(new Reading("s1", 3, 100, 50)));

        assertThat(h.samples().get("s1")).containsExactly(new Sample(at(0), 2, 0, 0), new Sample(at(1), 3, 0, 0));
    }

    @Test
    void bytesAreDeltasOfTheTotalsAndTheFirstSampleOnlySetsTheBaseline() {
        TrafficHistory h = new TrafficHistory(TICK, 6);
        h.sample(at(0), List.of(new Reading("s1", 1, 1_000, 10)));
        h.sample(at(1), List.of(new Reading("s1", 1, 1_500, 10)));
        h.sample(at(2), List.of(new Reading("s1", 0, 4_000, 2_010)));

        assertThat(h.samples().get("s1")).extracting(Sample::bytesIn).containsExactly(0L, 500L, 2_500L);
        assertThat(h.samples().get("s1")).extracting(Sample::bytesOut).containsExactly(0L, 0L, 2_000L);
    }

    @Test
    void aTotalThatGoesDownCountsZeroAndBecomesTheNewBaseline() {
        // A reload replaced the backend under the same name: its counters start again from 0.
        TrafficHistory h = new TrafficHistory(TICK, 6);
        h.sample(at(0), List.of(new Reading("s1", 0, 5_000, 5_000)));
        h.sample(at(1), List.of(new Reading("s1", 0, 300, 5_000)));
        h.sample(at(2), List.of(new Reading("s1", 0, 700, 5_100)));

        assertThat(h.samples().get("s1")).extracting(Sample::bytesIn).containsExactly(0L, 0L, 400L);
        assertThat(h.samples().get("s1")).extracting(Sample::bytesOut).containsExactly(0L, 0L, 100L);
    }

    @Test
    void theRingKeepsTheNewestSamplesOldestFirstOnceItWrapsAround() {
        TrafficHistory h = new TrafficHistory(TICK, 4);
        for (int i = 0; i < 11; i++) {
            h.sample(at(i), List.of(new Reading("s1", i, 100L * i, 0)));
        }

        List<Sample> samples = h.samples().get("s1");
        assertThat(samples).extracting(Sample::at).containsExactly(at(7), at(8), at(9), at(10));
        assertThat(samples).extracting(Sample::sessions).containsExactly(7, 8, 9, 10);
        assertThat(samples).extracting(Sample::bytesIn).containsOnly(100L);
    }

    @Test
    void aMissedSampleLeavesAGapInTheTimes() {
        TrafficHistory h = new TrafficHistory(TICK, 6);
        h.sample(at(0), List.of(new Reading("s1", 1, 0, 0)));
        h.sample(at(3), List.of(new Reading("s1", 1, 900, 0)));

        // The page breaks its line where two samples lie more than 2.5 intervals apart; the bytes are those of the gap.
        assertThat(h.samples().get("s1")).containsExactly(new Sample(at(0), 1, 0, 0), new Sample(at(3), 1, 900, 0));
    }

    @Test
    void backendsKeepTheirOrderAndOneARemovedLeavesOnceItsSamplesAgeOut() {
        TrafficHistory h = new TrafficHistory(TICK, 3);
        h.sample(at(0), List.of(new Reading("s1", 0, 0, 0), new Reading("s2", 0, 0, 0)));
        h.sample(at(1), List.of(new Reading("s2", 0, 0, 0)));
        h.sample(at(2), List.of(new Reading("s2", 0, 0, 0)));
        assertThat(h.samples()).containsOnlyKeys("s1", "s2");
        assertThat(h.samples().keySet()).containsExactly("s1", "s2");

        h.sample(at(4), List.of(new Reading("s2", 0, 0, 0)));
        assertThat(h.samples()).containsOnlyKeys("s2");
        assertThat(h.samples().get("s2")).hasSize(3);
    }

    @Test
    void aRingNeedsAPositiveIntervalAndTwoSamples() {
        assertThatThrownBy(() -> new TrafficHistory(Duration.ZERO, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TrafficHistory(TICK, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
