package dev.ferry.protocol.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralTest {

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
            "::                                      | ::",
            "::1                                     | ::1",
            "1::                                     | 1::",
            "2001:DB8::1                             | 2001:db8::1",
            "2001:0db8:0000:0000:0000:0000:0000:0001 | 2001:db8::1",
            "1:2:3:4:5:6:7:8                         | 1:2:3:4:5:6:7:8",
            "1::8                                    | 1::8",
            "1:2:3:4:5:6:7::                         | 1:2:3:4:5:6:7:0",
            "::2:3:4:5:6:7:8                         | 0:2:3:4:5:6:7:8",
            "1:0:0:2:0:0:0:3                         | 1:0:0:2::3",
            "1:0:0:2:0:0:3:4                         | 1::2:0:0:3:4",
            "::ffff:192.0.2.1                        | ::ffff:c000:201",
            "1:2:3:4:5:6:192.0.2.1                   | 1:2:3:4:5:6:c000:201",
            "::192.0.2.1                             | ::c000:201",
    })
    void parsesIpv6LiteralsAndFormatsThemCanonically(String text, String canonical) throws UnknownHostException {
        byte[] bytes = IpLiteral.parseIpv6(text);

        // The JDK's literal parser (brackets: literal or failure, never a lookup) agrees on the address.
        assertThat(InetAddress.getByAddress(bytes)).isEqualTo(InetAddress.getByName("[" + text + "]"));
        assertThat(IpLiteral.formatIpv6(bytes)).isEqualTo(canonical);
        assertThat(IpLiteral.parseIpv6(canonical)).isEqualTo(bytes);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {
            "", ":", ":::", "1:", ":1", "1::2::3", "::1::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8", "12345::", "g::", "::1 ", " ::1", "[::1]", "fe80::1%eth0", "fe80::1%1", "1.2.3.4",
            "::1.2.3", "::1.2.3.04", "::256.0.0.1", "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5", "localhost",
            "\u0661::", "::\uff11",
    })
    void refusesEverythingElseAsIpv6(String text) {
        assertThat(IpLiteral.parseIpv6(text)).isNull();
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {
            "", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "01.2.3.4", "1.2.3.00", "256.0.0.1", "1.2.3.-1", "1.2.3.+1",
            "1.2.3.4 ", "0x1.2.3.4", "1.2.3.\u0664", "localhost", "::1",
    })
    void refusesEverythingElseAsIpv4(String text) {
        assertThat(IpLiteral.parseIpv4(text)).isNull();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"0.0.0.0", "1.2.3.4", "10.0.200.255", "255.255.255.255", "100.20.3.0"})
    void ipv4RoundTrips(String text) {
        assertThat(IpLiteral.formatIpv4(IpLiteral.parseIpv4(text))).isEqualTo(text);
    }
}
