package dev.ferry.balancer.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SessionRateTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void zeroUntilThereAreTwoSamples() {
        SessionRate rate = new SessionRate();
        assertThat(rate.perSecond()).isZero();
        rate.sample(0, 100);
        assertThat(rate.perSecond()).isZero();
    }

    @Test
    void newSessionsPerSecondBetweenTheOldestAndNewestSample() {
        SessionRate rate = new SessionRate();
        for (int s = 0; s <= 5; s++) {
            rate.sample(s * SECOND, 1000 + 20L * s);
        }
        assertThat(rate.perSecond()).isCloseTo(20.0, within(1e-9));
    }

    @Test
    void onlyTheLastTenSecondsCount() {
        SessionRate rate = new SessionRate();
        for (int s = 0; s <= 30; s++) {
            // a burst of 100 per second for 10 s, then quiet
            rate.sample(s * SECOND, s <= 10 ? 100L * s : 1000);
        }
        assertThat(rate.perSecond()).as("quiet for the last 20 s").isZero();
        rate.sample(31 * SECOND, 1050);
        assertThat(rate.perSecond()).isCloseTo(5.0, within(1e-9));
    }

    @Test
    void lateSamplesAreWeighedByTheTimeBetweenThem() {
        SessionRate rate = new SessionRate();
        rate.sample(0, 0);
        rate.sample(4 * SECOND, 10);
        assertThat(rate.perSecond()).isCloseTo(2.5, within(1e-9));
    }
}
