package dev.ferry.runtime.net;

import static dev.ferry.runtime.net.CidrTest.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Only IP literals here: a host name would be resolved, which unit tests must not do. */
class PassiveAddressingTest {

    private static PassiveAddressing addressing(String publicAddress, NetworkAddress... overrides) {
        return new PassiveAddressing(publicAddress, List.of(overrides));
    }

    private static String advertise(PassiveAddressing addressing, String client, String local)
            throws UnknownHostException {
        var a = addressing.advertise(ip(client), ip(local));
        return a == null ? null : a.getHostAddress();
    }

    private static final PassiveAddressing WITH_OVERRIDES = addressing("203.0.113.7",
            new NetworkAddress("10.0.0.0/8", "10.0.0.5"),
            new NetworkAddress("10.1.0.0/16", "10.1.0.5"),
            new NetworkAddress("192.168.0.0/16", "192.168.0.1"),
            new NetworkAddress("fd00::/8", "172.16.0.1"));

    @ParameterizedTest(name = "client {0} is told {1}")
    @CsvSource({
            "10.1.2.3,       10.0.0.5",
            "10.200.0.1,     10.0.0.5",
            "192.168.5.5,    192.168.0.1",
            "fd12::7,        172.16.0.1",
            "198.51.100.1,   203.0.113.7",
            "11.0.0.1,       203.0.113.7",
            "2001:db8::1,    203.0.113.7",
    })
    void firstMatchingOverrideElseThePublicAddress(String client, String advertised) throws UnknownHostException {
        assertThat(advertise(WITH_OVERRIDES, client, "127.0.0.1")).isEqualTo(advertised);
    }

    @Test
    void overridesAreTriedInTheirConfiguredOrder() throws UnknownHostException {
        PassiveAddressing specificFirst = addressing(null,
                new NetworkAddress("10.1.0.0/16", "10.1.0.5"),
                new NetworkAddress("10.0.0.0/8", "10.0.0.5"));

        assertThat(advertise(specificFirst, "10.1.2.3", "127.0.0.1")).isEqualTo("10.1.0.5");
        assertThat(advertise(specificFirst, "10.2.0.1", "127.0.0.1")).isEqualTo("10.0.0.5");
    }

    @ParameterizedTest(name = "connected to {1}: {2}")
    @CsvSource(nullValues = "null", value = {
            "198.51.100.1, 127.0.0.1,  127.0.0.1",
            "198.51.100.1, 192.0.2.10, 192.0.2.10",
            "::1,          ::1,        null",
            "2001:db8::1,  2001:db8::2, null",
    })
    void withoutPublicAddressTheLocalAddressIsAdvertisedIfIpv4(String client, String local, String advertised)
            throws UnknownHostException {
        assertThat(advertise(addressing(null), client, local)).isEqualTo(advertised);
    }

    @Test
    void anIpv6PublicAddressOrOverrideGivesNoPasvAddress() throws UnknownHostException {
        assertThat(advertise(addressing("2001:db8::1"), "198.51.100.1", "127.0.0.1")).isNull();
        assertThat(advertise(addressing("203.0.113.7", new NetworkAddress("10.0.0.0/8", "fd00::1")),
                "10.0.0.9", "127.0.0.1")).isNull();
    }

    @Test
    void anInvalidNetworkIsRefusedAtConstruction() {
        assertThatThrownBy(() -> addressing(null, new NetworkAddress("10.0.0.0/40", "10.0.0.1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prefix length must be 0..32, got 40");
    }
}
