package dev.ferry.runtime.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LocalBanListTest {

    /** Ban after 3 failures within 60 s, for 600 s. */
    private static final BanRules POLICY = new BanRules(3, Duration.ofSeconds(60), Duration.ofSeconds(600));

    private final MutableClock clock = new MutableClock();
    private final LocalBanList guard = new LocalBanList(POLICY, clock, "node-a");

    /**
     * Script: {@code f} a failure that must not start a ban, {@code F} one that must, {@code s} a
     * successful login, {@code +Ns} time passing.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "three failures within the window ban      | f f F                        | true",
            "two failures do not                       | f f                          | false",
            "the third failure just inside the window  | f +59s f F                   | true",
            "a failure after the window starts anew    | f f +60s f f                 | false",
            "the ban lasts its whole duration          | f f F +599s                  | true",
            "the ban ends after its duration           | f f F +600s                  | false",
            "after a ban counting starts from zero     | f f F +600s f f              | false",
            "and the same failures ban again           | f f F +600s f f F            | true",
            "a success clears the failure count        | f f s f f                    | false",
            "a success does not lift a ban             | f f F s                      | true",
            "failures during a ban do not extend it    | f f F +500s f f f +100s      | false",
    })
    void failuresAndBans(String description, String script, boolean bannedAtEnd) throws Exception {
        InetAddress address = InetAddress.getByName("192.0.2.7");
        for (String step : script.trim().split("\\s+")) {
            switch (step) {
                case "f" -> assertThat(guard.recordFailure(address)).as(step).isFalse();
                case "F" -> assertThat(guard.recordFailure(address)).as(step).isTrue();
                case "s" -> guard.recordSuccess(address);
                default -> clock.advance(Duration.ofSeconds(Long.parseLong(step.substring(1, step.length() - 1))));
            }
        }
        assertThat(guard.isBanned(address)).isEqualTo(bannedAtEnd);
    }

    @Test
    void addressesAreCountedSeparately() throws Exception {
        InetAddress attacker = InetAddress.getByName("192.0.2.1");
        InetAddress neighbour = InetAddress.getByName("192.0.2.2");
        for (int i = 0; i < 3; i++) {
            guard.recordFailure(attacker);
        }

        assertThat(guard.isBanned(attacker)).isTrue();
        assertThat(guard.isBanned(neighbour)).isFalse();
        assertThat(guard.bannedCount()).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0} and {1} share a count: {2}")
    @CsvSource({
            "2001:db8:1:2::1,        2001:db8:1:2:ffff:1:2:3,  true",
            "2001:db8:1:2::1,        2001:db8:1:3::1,          false",
            "fe80::1%1,              fe80::2,                  true",
            "::ffff:192.0.2.1,       192.0.2.1,                true",
            "::ffff:192.0.2.1,       192.0.2.2,                false",
    })
    void ipv6ClientsAreTrackedByTheirSlash64(String first, String second, boolean shared) throws Exception {
        InetAddress a = InetAddress.getByName(first);
        InetAddress b = InetAddress.getByName(second);
        guard.recordFailure(a);
        guard.recordFailure(b);
        boolean startedBan = guard.recordFailure(a);

        assertThat(startedBan).isEqualTo(shared);
        assertThat(guard.isBanned(b)).isEqualTo(shared);
    }

    @Test
    void bannedCountDropsWhenBansEnd() throws Exception {
        for (String a : new String[] {"192.0.2.1", "192.0.2.2"}) {
            for (int i = 0; i < 3; i++) {
                guard.recordFailure(InetAddress.getByName(a));
            }
        }
        assertThat(guard.bannedCount()).isEqualTo(2);

        clock.advance(Duration.ofSeconds(600));
        assertThat(guard.bannedCount()).isZero();
    }

    @Test
    void zeroFailuresTurnsBanningOff() throws Exception {
        LocalBanList off = new LocalBanList(new BanRules(0, Duration.ofSeconds(60), Duration.ofSeconds(600)), clock,
                "node-a");
        InetAddress address = InetAddress.getByName("192.0.2.7");
        for (int i = 0; i < 100; i++) {
            assertThat(off.recordFailure(address)).isFalse();
        }
        assertThat(off.isBanned(address)).isFalse();
        assertThat(off.trackedCount()).isZero();
    }

    @Test
    void theOldestAddressIsForgottenBeyondTheBound() throws Exception {
        LocalBanList small = new LocalBanList(POLICY, clock, "node-a", 3);
        InetAddress first = address(1);
        small.recordFailure(first);
        small.recordFailure(first);
        small.recordFailure(address(2));
        small.recordFailure(address(3));
        small.recordFailure(address(4));

        assertThat(small.trackedCount()).isEqualTo(3);
        assertThat(small.recordFailure(first)).as("its two earlier failures were forgotten").isFalse();
        assertThat(small.recordFailure(address(3))).as("still remembered").isFalse();
        assertThat(small.recordFailure(address(3))).isTrue();
    }

    @Test
    void atMost65536AddressesAreTracked() throws Exception {
        for (int i = 0; i < LocalBanList.MAX_TRACKED_ADDRESSES + 100; i++) {
            guard.recordFailure(address(i));
        }
        assertThat(LocalBanList.MAX_TRACKED_ADDRESSES).isEqualTo(65_536);
        assertThat(guard.trackedCount()).isEqualTo(65_536);
    }

    @Test
    void aBanIsListedWithItsFailuresAndOrigin() throws Exception {
        InetAddress address = InetAddress.getByName("192.0.2.7");
        for (int i = 0; i < 3; i++) {
            guard.recordFailure(address);
        }

        assertThat(guard.bans()).containsExactly(new Ban(address, clock.instant().plusSeconds(600), 3,
                Ban.FAILED_LOGINS, "node-a"));
    }

    @Test
    void anIpv6BanIsListedByItsSlash64() throws Exception {
        guard.ban(InetAddress.getByName("2001:db8:1:2::99"), Duration.ofMinutes(5), "manual", "alice@node-a");

        assertThat(guard.bans()).singleElement().extracting(Ban::display).isEqualTo("2001:db8:1:2:0:0:0:0/64");
        assertThat(guard.isBanned(InetAddress.getByName("2001:db8:1:2:ffff::1"))).isTrue();
        assertThat(guard.lift(Ban.parseAddress("2001:db8:1:2:0:0:0:0/64"))).isTrue();
        assertThat(guard.isBanned(InetAddress.getByName("2001:db8:1:2::99"))).isFalse();
    }

    @Test
    void aBanByHandHoldsForItsDurationEvenWithAutomaticBansOff() throws Exception {
        LocalBanList off = new LocalBanList(BanRules.OFF, clock, "node-a");
        InetAddress address = InetAddress.getByName("192.0.2.9");
        Ban ban = off.ban(address, Duration.ofSeconds(30), "abuse report", "alice@node-a");

        assertThat(ban.until()).isEqualTo(clock.instant().plusSeconds(30));
        assertThat(off.isBanned(address)).isTrue();
        assertThat(off.bans()).containsExactly(ban);
        clock.advance(Duration.ofSeconds(30));
        assertThat(off.isBanned(address)).isFalse();
        assertThat(off.bans()).isEmpty();
    }

    @Test
    void liftingABanLetsTheAddressInAndForgetsItsFailures() throws Exception {
        InetAddress address = InetAddress.getByName("192.0.2.7");
        for (int i = 0; i < 3; i++) {
            guard.recordFailure(address);
        }

        assertThat(guard.lift(address)).isTrue();
        assertThat(guard.isBanned(address)).isFalse();
        assertThat(guard.lift(address)).as("nothing left to lift").isFalse();
        assertThat(guard.recordFailure(address)).isFalse();
        assertThat(guard.recordFailure(address)).as("counting started from zero").isFalse();
        assertThat(guard.recordFailure(address)).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"192.0.2.7, 192.0.2.7", "2001:db8::1, 2001:db8:0:0:0:0:0:1", "2001:db8::/64, 2001:db8:0:0:0:0:0:0"})
    void operatorsAddressesAreLiterals(String typed, String parsed) {
        assertThat(Ban.parseAddress(typed).getHostAddress()).isEqualTo(parsed);
    }

    @ParameterizedTest
    @CsvSource({"example.com", "10", "192.0.2", "''"})
    void namesAndPartialAddressesAreRefused(String typed) {
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> Ban.parseAddress(typed));
    }

    private static InetAddress address(int n) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {10, (byte) (n >> 16), (byte) (n >> 8), (byte) n});
    }

    private static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2025-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
