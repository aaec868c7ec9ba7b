package dev.ferry.balancer.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final LoginThrottle throttle = new LoginThrottle(now::get, 3, LoginThrottle.FIRST_DELAY);

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void theDelayDoublesWithEachFailureUpToTheCap() throws Exception {
        InetAddress a = ip("192.0.2.1");
        assertThat(throttle.delayFor(a)).as("no failure yet").isZero();
        Duration previous = Duration.ZERO;
        for (int i = 1; i <= 12; i++) {
            throttle.failed(a);
            Duration d = throttle.delayFor(a);
            if (i == 1) {
                assertThat(d).isEqualTo(LoginThrottle.FIRST_DELAY);
            } else if (d.compareTo(LoginThrottle.MAX_DELAY) < 0) {
                assertThat(d).isEqualTo(previous.multipliedBy(2));
            }
            assertThat(d).isGreaterThanOrEqualTo(previous).isLessThanOrEqualTo(LoginThrottle.MAX_DELAY);
            previous = d;
        }
        assertThat(previous).as("capped").isEqualTo(LoginThrottle.MAX_DELAY);
    }

    @Test
    void aSuccessStartsTheAddressFromZero() throws Exception {
        InetAddress a = ip("192.0.2.1");
        throttle.failed(a);
        throttle.failed(a);
        throttle.succeeded(a);
        assertThat(throttle.delayFor(a)).isZero();
    }

    @Test
    void failuresAreForgottenAfterAQuietSpell() throws Exception {
        InetAddress a = ip("192.0.2.1");
        throttle.failed(a);
        now.addAndGet(LoginThrottle.FORGET_AFTER.toNanos());
        assertThat(throttle.delayFor(a)).as("just within").isEqualTo(LoginThrottle.FIRST_DELAY);
        now.addAndGet(1);
        assertThat(throttle.delayFor(a)).isZero();
        throttle.failed(a);
        assertThat(throttle.delayFor(a)).as("counting again from one").isEqualTo(LoginThrottle.FIRST_DELAY);
    }

    @Test
    void addressesAreCountedApartButAnIpv6SlashSixtyFourIsOne() throws Exception {
        throttle.failed(ip("192.0.2.1"));
        assertThat(throttle.delayFor(ip("192.0.2.2"))).isZero();
        throttle.failed(ip("2001:db8:1:2::1"));
        assertThat(throttle.delayFor(ip("2001:db8:1:2:ffff::9"))).as("same /64").isEqualTo(LoginThrottle.FIRST_DELAY);
        assertThat(throttle.delayFor(ip("2001:db8:1:3::1"))).as("another /64").isZero();
    }

    @Test
    void boundedTheOldestFailureIsForgottenFirst() throws Exception {
        for (int i = 1; i <= 4; i++) {
            throttle.failed(ip("192.0.2." + i));
        }
        assertThat(throttle.tracked()).isEqualTo(3);
        assertThat(throttle.delayFor(ip("192.0.2.1"))).as("evicted").isZero();
        assertThat(throttle.delayFor(ip("192.0.2.4"))).isEqualTo(LoginThrottle.FIRST_DELAY);
    }
}
