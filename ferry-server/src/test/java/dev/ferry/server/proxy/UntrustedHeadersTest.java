package dev.ferry.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The bound on warnings about PROXY headers from untrusted peers: per address, overall, and in memory. */
class UntrustedHeadersTest {

    private long now = 1_000_000_000L;
    private final UntrustedHeaders headers = new UntrustedHeaders(() -> now);

    @Test
    void warnsOncePerAddressPerMinute() throws UnknownHostException {
        InetAddress balancer = InetAddress.getByName("127.0.0.2");

        assertThat(headers.record(balancer)).isEqualTo(new UntrustedHeaders.Warning(0));
        for (int i = 0; i < 100; i++) {
            now += Duration.ofMillis(500).toNanos();
            assertThat(headers.record(balancer)).isNull();
        }
        now += Duration.ofSeconds(11).toNanos();
        assertThat(headers.record(balancer)).as("a minute after its warning").isEqualTo(new UntrustedHeaders.Warning(100));
    }

    @Test
    void aFloodFromManyAddressesWarnsAFewTimesAMinuteAndRemembersBoundedly() throws UnknownHostException {
        int warned = 0;
        for (int i = 0; i < 10_000; i++) {
            if (headers.record(address(i)) != null) {
                warned++;
            }
        }
        assertThat(warned).isEqualTo(UntrustedHeaders.PER_MINUTE);
        assertThat(headers.remembered()).isLessThanOrEqualTo(UntrustedHeaders.MAX_ADDRESSES);

        now += Duration.ofMinutes(1).toNanos();
        assertThat(headers.record(address(20_000))).isEqualTo(new UntrustedHeaders.Warning(10_000 - UntrustedHeaders.PER_MINUTE));
    }

    @Test
    void manyAddressesOverTimeStayBoundedInMemory() throws UnknownHostException {
        for (int i = 0; i < 5_000; i++) {
            now += Duration.ofSeconds(7).toNanos(); // under ten a minute: each one warns
            assertThat(headers.record(address(i))).isNotNull();
        }
        assertThat(headers.remembered()).isLessThanOrEqualTo(UntrustedHeaders.MAX_ADDRESSES);
    }

    private static InetAddress address(int i) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
    }
}
