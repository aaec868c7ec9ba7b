package dev.ferry.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BandwidthLimitsTest {

    private static final Bandwidth ONE_MIB = new Bandwidth(1 << 20, 1 << 20);

    @Test
    void withoutAnyLimitNothingThrottles() {
        BandwidthLimits limits = new BandwidthLimits(Bandwidth.UNLIMITED);
        try (BandwidthLimits.Lease lease = limits.lease("alice", Bandwidth.UNLIMITED)) {
            assertThat(lease.upload()).isSameAs(Throttle.NONE);
            assertThat(lease.download()).isSameAs(Throttle.NONE);
        }
        assertThat(limits.users()).isZero();
    }

    @Test
    void unlimitedSessionsShareOneLeaseThatStillCarriesTheServersRates() {
        BandwidthLimits limits = new BandwidthLimits(new Bandwidth(0, 1 << 20));
        BandwidthLimits.Lease alice = limits.lease("alice", Bandwidth.UNLIMITED);
        BandwidthLimits.Lease bob = limits.lease("bob", Bandwidth.UNLIMITED);

        assertThat(alice).isSameAs(bob);
        assertThat(alice.upload()).isSameAs(Throttle.NONE);
        assertThat(alice.download().rate()).isEqualTo(1 << 20);
        // One session's end leaves the others' (shared) lease as it was.
        alice.close();
        assertThat(bob.download().rate()).isEqualTo(1 << 20);
        assertThat(limits.lease("carol", Bandwidth.UNLIMITED)).isSameAs(bob);
        assertThat(limits.users()).isZero();
    }

    @Test
    void sessionsOfOneUserShareItsBucketsUntilTheLastLetsGo() {
        BandwidthLimits limits = new BandwidthLimits(Bandwidth.UNLIMITED);
        BandwidthLimits.Lease first = limits.lease("bob", ONE_MIB);
        BandwidthLimits.Lease second = limits.lease("bob", ONE_MIB);
        BandwidthLimits.Lease other = limits.lease("carol", ONE_MIB);
        assertThat(first.download().rate()).isEqualTo(1 << 20);
        assertThat(first.download().toString()).isEqualTo(second.download().toString());
        assertThat(limits.users()).isEqualTo(2);

        first.close();
        first.close();
        assertThat(limits.users()).isEqualTo(2);
        second.close();
        assertThat(limits.users()).isEqualTo(1);
        other.close();
        assertThat(limits.users()).isZero();
    }

    @Test
    void aTransferTakesFromTheUsersAndTheServersBucket() {
        BandwidthLimits limits = new BandwidthLimits(new Bandwidth(0, 10 << 20));
        try (BandwidthLimits.Lease limited = limits.lease("bob", new Bandwidth(0, 1 << 20));
             BandwidthLimits.Lease free = limits.lease("alice", Bandwidth.UNLIMITED)) {
            assertThat(limited.download().rate()).isEqualTo(1 << 20);
            assertThat(limited.download().toString()).contains("1048576 B/s", "10485760 B/s");
            assertThat(free.download().rate()).isEqualTo(10 << 20);
            assertThat(free.upload().limited()).isFalse();
            assertThat(limited.upload().limited()).isFalse();
        }
    }
}
