package dev.ferry.runtime.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal.contains(":") ? "[" + literal + "]" : literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource({
            "10.0.0.0/8, 10.1.2.3, true",
            "10.0.0.0/8, 10.255.255.255, true",
            "10.0.0.0/8, 11.0.0.1, false",
            "10.0.0.0/8, 9.255.255.255, false",
            "192.168.1.0/24, 192.168.1.77, true",
            "192.168.1.0/24, 192.168.2.1, false",
            "172.16.0.0/12, 172.31.255.1, true",
            "172.16.0.0/12, 172.32.0.1, false",
            "10.1.2.3/32, 10.1.2.3, true",
            "10.1.2.3/32, 10.1.2.4, false",
            "10.9.9.9/8, 10.1.2.3, true",
            "0.0.0.0/0, 203.0.113.9, true",
            "0.0.0.0/0, 127.0.0.1, true",
            "0.0.0.0/0, ::1, false",
            "fd00::/8, fd12:3456::1, true",
            "fd00::/8, fe80::1, false",
            "2001:db8::/32, 2001:db8:ffff::1, true",
            "2001:db8::/32, 2001:db9::1, false",
            "2001:db8::/33, 2001:db8:7fff::1, true",
            "2001:db8::/33, 2001:db8:8000::1, false",
            "::/0, 2001:db8::1, true",
            "::/0, 10.0.0.1, false",
            "::1/128, ::1, true",
            "fd00::/8, 10.0.0.1, false",
    })
    void containsComparesThePrefixBits(String cidr, String address, boolean contained) {
        assertThat(Cidr.parse(cidr).contains(ip(address))).isEqualTo(contained);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(delimiter = '|', value = {
            "10.0.0.0          | expected ADDRESS/BITS such as 10.0.0.0/8, got '10.0.0.0'",
            "10.0.0.0/x        | expected a prefix length after '/', got '10.0.0.0/x'",
            "10.0.0.0/         | expected a prefix length after '/', got '10.0.0.0/'",
            "10.0.0.0/33       | prefix length must be 0..32, got 33",
            "10.0.0.0/-1       | prefix length must be 0..32, got -1",
            "fd00::/129        | prefix length must be 0..128, got 129",
            "example.com/8     | expected an IP address before '/', got 'example.com'",
            "/8                | expected an IP address before '/', got ''",
            "fe80::1%eth0/64   | expected an IP address before '/', got 'fe80::1%eth0'",
    })
    void invalidTextIsRefusedWithAMessageThatSaysWhy(String text, String message) {
        assertThatThrownBy(() -> Cidr.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    // Texts that InetAddress.getByName would take as a shortened IPv4 form ("10" is 0.0.0.10) or
    // hand to the resolver ("cafe.be" is made of hex digits and dots only). An operator writing
    // "10/8" means 10.0.0.0/8, never 0.0.0.10/8.
    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource({"10/8", "10.1/16", "10.1.2/24", "cafe.be/16", "1.2.3.4.5/8", "256.0.0.0/8", "0x0a.0.0.0/8", ":/8", "1::2::3/64"})
    void onlyFullIpLiteralsAreAccepted(String text) {
        assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
