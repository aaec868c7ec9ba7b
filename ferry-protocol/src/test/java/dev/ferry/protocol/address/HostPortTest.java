package dev.ferry.protocol.address;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPortTest {

    /** An IP literal, without any chance of a name lookup. */
    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal.contains(":") ? "[" + literal + "]" : literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static Inet4Address ipv4(String literal) {
        return (Inet4Address) ip(literal);
    }

    // ---- PORT (RFC 959 §4.1.2) ----------------------------------------------------------------

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', value = {
            "127,0,0,1,4,1            | 127.0.0.1 | 1025",
            "192,168,1,20,195,80      | 192.168.1.20 | 50000",
            "0,0,0,0,0,1              | 0.0.0.0 | 1",
            "255,255,255,255,255,255  | 255.255.255.255 | 65535",
            "'  10,0,0,1,0,21  '      | 10.0.0.1 | 21",
            "'10, 0, 0, 1, 0, 21'     | 10.0.0.1 | 21",
            "010,0,0,1,0,21           | 10.0.0.1 | 21",
    })
    void parsePortAcceptsSixDecimalBytes(String argument, String address, int port) {
        assertThat(HostPort.parsePort(argument)).isEqualTo(new HostPort(ip(address), port));
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {
            "",
            "127,0,0,1,4",
            "127,0,0,1,4,1,0",
            "127,0,0,1,256,1",
            "127,0,0,1,4,256",
            "256,0,0,1,4,1",
            "-1,0,0,1,4,1",
            "127,0,0,1,0,0",
            "127,0,0,1,,1",
            "127,0,0,a,4,1",
            "127,0,0,1,4,1a",
            "127,0,0,1,+4,1",
            "127,0,0,1,0x4,1",
            "127.0.0.1,4,1",
            "127,0,0,1,000004,1",
            "127;0;0;1;4;1",
            "localhost,4,1",
    })
    void parsePortRefusesEverythingElse(String argument) {
        assertThat(HostPort.parsePort(argument)).isNull();
    }

    // ---- 227 (RFC 959 §4.1.2, RFC 1123 §4.1.2.6) ----------------------------------------------

    @Test
    void format227IsTheParenthesizedForm() {
        assertThat(HostPort.format227(ipv4("127.0.0.1"), 50000)).isEqualTo("Entering Passive Mode (127,0,0,1,195,80).");
        assertThat(HostPort.formatPort(ipv4("10.0.200.255"), 1)).isEqualTo("10,0,200,255,0,1");
    }

    @Test
    void format227AndParse227RoundTrip() {
        Random random = new Random(227);
        for (int i = 0; i < 1000; i++) {
            byte[] b = new byte[4];
            random.nextBytes(b);
            int port = 1 + random.nextInt(65535);
            Inet4Address address;
            try {
                address = (Inet4Address) InetAddress.getByAddress(b);
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
            String text = HostPort.format227(address, port);

            assertThat(HostPort.parse227(text)).as(text).isEqualTo(new HostPort(address, port));
            assertThat(HostPort.parse227("227 " + text)).as(text).isEqualTo(new HostPort(address, port));
        }
    }

    // Texts real servers send.
    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', value = {
            "227 Entering Passive Mode (127,0,0,1,195,80)        | 127.0.0.1 | 50000",
            "227 Entering Passive Mode (127,0,0,1,195,80).       | 127.0.0.1 | 50000",
            "Entering Passive Mode (127,0,0,1,195,80)            | 127.0.0.1 | 50000",
            "227 =127,0,0,1,195,80                               | 127.0.0.1 | 50000",
            "227 Entering passive mode 10,1,2,3,4,5              | 10.1.2.3  | 1029",
            "227 Entering Passive Mode (192,168,0,10,200,13) ok  | 192.168.0.10 | 51213",
            "227 Passive (1,2,3) then (10,0,0,9,4,0)             | 10.0.0.9  | 1024",
    })
    void parse227FindsTheFirstSixNumbers(String text, String address, int port) {
        assertThat(HostPort.parse227(text)).isEqualTo(new HostPort(ip(address), port));
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {
            "",
            "227 Entering Passive Mode",
            "227 Entering Passive Mode (127,0,0,1,195)",
            "227 Entering Passive Mode (300,0,0,1,195,80)",
            "227 Entering Passive Mode (127,0,0,1,0,0)",
            "227 Entering Passive Mode (127.0.0.1:50000)",
    })
    void parse227ReturnsNullWithoutAnAddress(String text) {
        assertThat(HostPort.parse227(text)).isNull();
    }

    // ---- EPRT (RFC 2428 §2) -------------------------------------------------------------------

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '^', value = {
            "|1|132.235.1.2|6275|          ^ 132.235.1.2 ^ 6275",
            "|2|1080::8:800:200C:417A|5282| ^ 1080::8:800:200c:417a ^ 5282",
            "|2|::1|2121|                  ^ ::1 ^ 2121",
            "!1!127.0.0.1!2121!            ^ 127.0.0.1 ^ 2121",
            "#2#::1#65535#                 ^ ::1 ^ 65535",
            "'  |1|10.0.0.1|1|  '          ^ 10.0.0.1 ^ 1",
            "|2|::ffff:127.0.0.1|2121|     ^ 127.0.0.1 ^ 2121",
    })
    void parseEprtAcceptsBothFamiliesAndAnyDelimiter(String argument, String address, int port) {
        assertThat(HostPort.parseEprt(argument)).isEqualTo(new HostPort(ip(address), port));
    }

    @Test
    void parseEprtKeepsTheFamily() {
        assertThat(HostPort.parseEprt("|1|127.0.0.1|2121|").address()).isInstanceOf(Inet4Address.class);
        assertThat(HostPort.parseEprt("|2|::1|2121|").address()).isInstanceOf(Inet6Address.class);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {
            "",
            "|1|",
            "|3|127.0.0.1|2121|",
            "|0|127.0.0.1|2121|",
            "||127.0.0.1|2121|",
            "|1|127.0.0.1|0|",
            "|1|127.0.0.1|65536|",
            "|1|127.0.0.1|99999999|",
            "|1|127.0.0.1|-1|",
            "|1|127.0.0.1||",
            "|1|127.0.0.1|2121",
            "|1|127.0.0.1|2121|x",
            "|1|127.0.0.1|21|21|",
            "|1|256.0.0.1|2121|",
            "|1|127.0.0|2121|",
            "|1|127.1|2121|",
            "|1|::1|2121|",
            "|2|127.0.0.1|2121|",
            "|2|:::1::|2121|",
            "|2|fe80::1%eth0|2121|",
            "|2|[::1]|2121|",
            "\u007f1\u007f127.0.0.1\u007f2121\u007f",
            " 1 127.0.0.1 2121 ",
    })
    void parseEprtRefusesMalformedArguments(String argument) {
        assertThat(HostPort.parseEprt(argument)).isNull();
    }

    // "none of them resolves host names": these would all be answered by DNS if handed to getByName.
    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {
            "|1|localhost|2121|",
            "|2|localhost|2121|",
            "|1|example.com|2121|",
            "|2|example.com|2121|",
            "|2|dead.beef|2121|",
            "|2|.::1|2121|",
            "|2|.:|2121|",
            "|1|0x7f.0.0.1|2121|",
    })
    void parseEprtNeverTreatsTheAddressAsAHostName(String argument) {
        assertThat(HostPort.parseEprt(argument)).isNull();
    }

    @Test
    void formatEprtUsesTheFamilyOfTheAddress() {
        assertThat(HostPort.formatEprt(ip("127.0.0.1"), 2121)).isEqualTo("|1|127.0.0.1|2121|");
        assertThat(HostPort.formatEprt(ip("::1"), 2121)).isEqualTo("|2|0:0:0:0:0:0:0:1|2121|");
        assertThat(HostPort.protocolNumber(ip("10.0.0.1"))).isEqualTo(1);
        assertThat(HostPort.protocolNumber(ip("fd00::1"))).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1", "fd00::1:2", "10.20.30.40"})
    void formatEprtAndParseEprtRoundTrip(String address) {
        assertThat(HostPort.parseEprt(HostPort.formatEprt(ip(address), 40000))).isEqualTo(new HostPort(ip(address), 40000));
    }

    // ---- 229 (RFC 2428 §3) --------------------------------------------------------------------

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '^', value = {
            "229 Entering Extended Passive Mode (|||6446|)  ^ 6446",
            "Entering Extended Passive Mode (|||6446|)      ^ 6446",
            "229 EPSV ok (!!!50000!)                        ^ 50000",
            "229 (|||1|)                                    ^ 1",
            "229 (|||65535|).                               ^ 65535",
    })
    void parse229FindsThePort(String text, int port) {
        assertThat(HostPort.parse229(text)).isEqualTo(port);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {
            "",
            "229 Entering Extended Passive Mode",
            "229 Entering Extended Passive Mode 6446",
            "229 ()",
            "229 (|||)",
            "229 (||||)",
            "229 (|||0|)",
            "229 (|||65536|)",
            "229 (|||123456|)",
            "229 (|||-1|)",
            "229 (|||abc|)",
            "229 (||6446|)",
            "229 (|||6446)",
            "229 (|1|127.0.0.1|6446|)",
            "229 (|||6446!)",
            "229 (   6446 )",
            "229 )|||6446|(",
    })
    void parse229RefusesOtherTexts(String text) {
        assertThat(HostPort.parse229(text)).isEqualTo(-1);
    }

    @Test
    void format229AndParse229RoundTrip() {
        for (int port : new int[] {1, 1024, 6446, 65535}) {
            assertThat(HostPort.parse229(HostPort.format229(port))).isEqualTo(port);
        }
        assertThat(HostPort.format229(6446)).isEqualTo("Entering Extended Passive Mode (|||6446|)");
    }

    // ---- the record ---------------------------------------------------------------------------

    @Test
    void recordChecksItsFields() {
        assertThatThrownBy(() -> new HostPort(null, 21)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new HostPort(ip("127.0.0.1"), -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HostPort(ip("127.0.0.1"), 65536)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new HostPort(ip("127.0.0.1"), 21).toSocketAddress().getPort()).isEqualTo(21);
    }
}
