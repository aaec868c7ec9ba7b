package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.ServerSettings;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ValuesTest {

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            127.0.0.1:2121      | 127.0.0.1         | 2121
            0.0.0.0:21          | 0.0.0.0           | 21
            [::1]:2121          | 0:0:0:0:0:0:0:1   | 2121
            [fd00::5]:0         | fd00:0:0:0:0:0:0:5| 0
            192.0.2.10:65535    | 192.0.2.10        | 65535
            """)
    void hostPortParsesLiterals(String text, String address, int port) {
        InetSocketAddress parsed = Values.hostPort(text);
        assertThat(parsed.getAddress().getHostAddress()).isEqualTo(address);
        assertThat(parsed.getPort()).isEqualTo(port);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource({":2121", "*:2121"})
    void hostPortWithoutHostMeansAllAddresses(String text) {
        InetSocketAddress parsed = Values.hostPort(text);
        assertThat(parsed.getAddress().isAnyLocalAddress()).isTrue();
        assertThat(parsed.getPort()).isEqualTo(2121);
    }

    @Test
    void hostPortResolvesHostNames() {
        InetSocketAddress parsed = Values.hostPort("localhost:21");
        assertThat(parsed.isUnresolved()).isFalse();
        assertThat(parsed.getAddress().isLoopbackAddress()).isTrue();
        assertThat(parsed.getPort()).isEqualTo(21);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            2121              | got '2121' (no port)
            127.0.0.1         | got '127.0.0.1' (no port)
            127.0.0.1:        | (no port after the colon)
            127.0.0.1:70000   | (port 70000 is above 65535)
            127.0.0.1:-1      | ('-1' is not a port number)
            127.0.0.1:http    | ('http' is not a port number)
            ::1:2121          | (an IPv6 address needs brackets, as in [::1]:2121)
            [::1]             | (an IPv6 address in brackets must be followed by :PORT)
            [::1]2121         | (an IPv6 address in brackets must be followed by :PORT)
            [1:2:3]:21        | ('1:2:3' is not an IPv6 address)
            [127.0.0.1]:21    | ('127.0.0.1' is not an IPv6 address)
            256.0.0.1:21      | ('256.0.0.1' is not an IPv4 address (256 is above 255))
            010.0.0.1:21      | ('010.0.0.1' is not an IPv4 address
            10.0.0:21         | ('10.0.0' is not an IPv4 address
            bad_host!:21      | ('bad_host!' is neither an IP address nor a host name)
            """)
    void hostPortRejects(String text, String detail) {
        assertThatThrownBy(() -> Values.hostPort(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("expected HOST:PORT such as 127.0.0.1:2121 or [::1]:2121, got '" + text + "'")
                .hasMessageContaining(detail);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            40000-40100 | 40000 | 40100
            40000       | 40000 | 40000
            1-65535     | 1     | 65535
            0           | 0     | 0
            0-0         | 0     | 0
            """)
    void portRangeParses(String text, int low, int high) {
        assertThat(Values.portRange(text)).containsExactly(low, high);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            40100-40000 | (LOW is above HIGH)
            0-100       | (0 means any free port and cannot be part of a range)
            40000-70000 | (ports go up to 65535)
            40000:40100 | got '40000:40100'
            -5          | got '-5'
            40000-      | got '40000-'
            ''          | got ''
            """)
    void portRangeRejects(String text, String detail) {
        assertThatThrownBy(() -> Values.portRange(text))
                .hasMessageStartingWith("expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port)")
                .hasMessageContaining(detail);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            500ms | PT0.5S
            30s   | PT30S
            5m    | PT5M
            1h    | PT1H
            1d    | PT24H
            45    | PT45S
            0     | PT0S
            """)
    void durationParses(String text, String iso) {
        assertThat(Values.duration(text)).isEqualTo(Duration.parse(iso));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            5 minutes                 | got '5 minutes'
            1.5s                      | got '1.5s'
            -1s                       | got '-1s'
            5M                        | got '5M'
            PT30S                     | got 'PT30S'
            999999999999999999d       | (too large)
            ''                        | got ''
            """)
    void durationRejects(String text, String detail) {
        assertThatThrownBy(() -> Values.duration(text))
                .hasMessageStartingWith("expected a duration such as 500ms, 30s, 5m, 1h or 1d (a plain number is seconds)")
                .hasMessageContaining(detail);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            10.0.0.0/8                              | 10.0.0.0/8
            192.168.1.0/24                          | 192.168.1.0/24
            0.0.0.0/0                               | 0.0.0.0/0
            203.0.113.7                             | 203.0.113.7/32
            fd00::/8                                | fd00::/8
            FD00:0000:0000::/16                     | fd00::/16
            2001:db8:0:0:1:0:0:0/128                | 2001:db8:0:0:1::/128
            2001:db8:0:0:1:0:0:1/128                | 2001:db8::1:0:0:1/128
            2001:0:0:1:0:0:0:1/128                  | 2001:0:0:1::1/128
            ::/0                                    | ::/0
            ::1                                     | ::1/128
            """)
    void cidrCanonicalizes(String text, String canonical) {
        assertThat(Values.cidr(text)).isEqualTo(canonical);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            10.1.2.3/8         | (bits are set after the /8 prefix; did you mean 10.0.0.0/8?)
            fd00::1/8          | (bits are set after the /8 prefix; did you mean fd00::/8?)
            10.0.0.0/33        | (the prefix length after / goes from 0 to 32 for IPv4)
            fd00::/129         | (the prefix length after / goes from 0 to 128 for IPv6)
            10.0.0.0/          | (the prefix length after / goes from 0 to 32 for IPv4)
            10.0.0.0/x         | (the prefix length after / goes from 0 to 32 for IPv4)
            10.0.0/8           | ('10.0.0' is not an IPv4 address
            fe80::1%eth0/64    | (a zone such as %eth0 is not allowed here)
            example.com/24     | ('example.com' is not an IP address)
            """)
    void cidrRejects(String text, String detail) {
        assertThatThrownBy(() -> Values.cidr(text))
                .hasMessageStartingWith("expected a network such as 10.0.0.0/8 or fd00::/8, got '" + text + "'")
                .hasMessageContaining(detail);
    }

    @ParameterizedTest(name = "{0} in {1}: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            10.0.0.0/8      | 10.255.1.2    | true
            10.0.0.0/8      | 11.0.0.1      | false
            192.168.1.0/25  | 192.168.1.127 | true
            192.168.1.0/25  | 192.168.1.128 | false
            0.0.0.0/0       | 198.51.100.1  | true
            fd00::/8        | fd12::1       | true
            fd00::/8        | fe80::1       | false
            ::/0            | 10.0.0.1      | false
            0.0.0.0/0       | ::1           | false
            203.0.113.7     | 203.0.113.7   | true
            """)
    void cidrContains(String cidr, String address, boolean inside) throws Exception {
        assertThat(Values.cidrContains(cidr, InetAddress.getByName(address))).isEqualTo(inside);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource({"203.0.113.7", "ftp.example.com", "localhost", "ftp.example.com."})
    void publicAddressAcceptsIpv4AndHostNames(String text) {
        assertThat(Values.publicAddress(text)).isEqualTo(text);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            2001:db8::1       | (PASV replies carry IPv4 addresses only; IPv6 clients use EPSV, which names no address)
            300.1.1.1         | ('300.1.1.1' is not an IPv4 address (300 is above 255))
            ftp_example.com   | got 'ftp_example.com'
            -ftp.example.com  | got '-ftp.example.com'
            a..b              | got 'a..b'
            """)
    void publicAddressRejects(String text, String detail) {
        assertThatThrownBy(() -> Values.publicAddress(text))
                .hasMessageStartingWith("expected an IPv4 address such as 203.0.113.7 or a host name such as ftp.example.com")
                .hasMessageContaining(detail);
    }

    @Test
    void quotedValuesShowControlCharactersAndAreCut() {
        assertThat(Values.quote("a\r\nb\u0007")).isEqualTo("'a\\r\\nb\\u0007'");
        assertThat(Values.quote("x".repeat(100))).isEqualTo("'" + "x".repeat(80) + "...'");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            0      | 0    | 256 | 0
            256    | 0    | 256 | 256
            +7     | 1    | 256 | 7
            """)
    void aRangeTakesTheNumbersWithinItsBounds(String text, int min, int max, int expected) {
        assertThat(new Values.Range(min, max).parse(text)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            257                | expected a number from 0 to 256, got 257
            -1                 | expected a number from 0 to 256, got -1
            99999999999999999  | expected a number from 0 to 256, got 99999999999999999
            two                | expected a number from 0 to 256, got 'two'
            """)
    void aRangeSaysItsBounds(String text, String message) {
        assertThatThrownBy(() -> Values.WEIGHT.parse(text)).hasMessage(message);
        assertThat(Values.POSITIVE.bounds()).isEqualTo("at least 1");
        assertThat(Values.WEIGHT.bounds()).isEqualTo("from 0 to 256");
    }

    @Test
    void aBackendFlagTakesTheKeysOfABackendsEntry() {
        BackendSpec spec = Values.backendSpec("b1=127.0.0.2:2121,weight=0,max-connecting=4096,passive-ports=40000-40009");

        assertThat(spec).isEqualTo(new BackendSpec("b1", new InetSocketAddress("127.0.0.2", 2121), 0, 4096, 40000, 40009));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            127.0.0.2:21                       | expects NAME=HOST:PORT[,weight=N][,max-connecting=N][,passive-ports=LOW-HIGH], got '127.0.0.2:21'
            b1=127.0.0.2:0                     | b1: address expected HOST:PORT with a port from 1 to 65535, got port 0
            b1=127.0.0.2:21,max-connecting=0   | b1: max-connecting expected a number from 1 to 4096, got 0
            b1=127.0.0.2:21,weight             | b1: unknown option 'weight' (expected weight=N, max-connecting=N or passive-ports=LOW-HIGH)
            """)
    void aBadBackendFlagIsRefusedWithTheKeyItBreaks(String text, String message) {
        assertThatThrownBy(() -> Values.backendSpec(text)).hasMessage(message);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            alice            | true
            élodie.b@x+1     | true
            al ice           | false
            ''               | false
            """)
    void userNamesFollowOneRule(String name, boolean valid) {
        if (valid) {
            assertThat(Values.userName(name)).isEqualTo(name);
        } else {
            assertThatThrownBy(() -> Values.userName(name)).hasMessageStartingWith("expected " + Values.USER_NAME_RULE);
        }
    }

    @Test
    void aUserFlagsPasswordGetsTheCheapInMemoryHash() {
        ServerSettings.UserAccount alice = Values.serverUser("alice:wonder:land");

        assertThat(alice.name()).isEqualTo("alice");
        // In the process list already: the hash is Argon2id at the in-memory cost, not the users file's.
        assertThat(alice.passwordHash()).startsWith("$argon2id$v=19$m=" + PasswordHasher.IN_MEMORY_MEMORY_KIB
                + ",t=" + PasswordHasher.IN_MEMORY_ITERATIONS + ",p=1$");
        assertThat(PasswordHasher.verify("wonder:land".toCharArray(), alice.passwordHash())).isTrue();
        assertThat(PasswordHasher.verify("wonder".toCharArray(), alice.passwordHash())).isFalse();
    }

    @Test
    void aUserFlagNeverShowsThePassword() {
        assertThatThrownBy(() -> Values.serverUser("alice:"))
                .hasMessage("expected NAME:PASSWORD, got 'alice:...'");
        assertThatThrownBy(() -> Values.checkAccount("probe:a\nb"))
                .hasMessage("expected a password on one line; the value contains control characters (it is not shown here)");
    }
}
