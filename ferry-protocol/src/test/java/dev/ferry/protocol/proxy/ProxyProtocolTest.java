package dev.ferry.protocol.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ProxyProtocolTest {

    private static final String SIGNATURE = "0D0A0D0A000D0A515549540A";
    private static final byte[] FTP_COMMAND = ascii("USER x\r\n");

    // ---- round trips --------------------------------------------------------------------------

    @ParameterizedTest(name = "[{index}] {4}")
    @CsvSource(delimiter = '|', value = {
            // The spec's own example, §2.1
            "192.168.0.1   | 56324 | 192.168.0.11  | 443   | PROXY TCP4 192.168.0.1 192.168.0.11 56324 443",
            "0.0.0.0       | 0     | 255.255.255.255 | 65535 | PROXY TCP4 0.0.0.0 255.255.255.255 0 65535",
            "127.0.0.1     | 50000 | 10.0.0.21     | 21    | PROXY TCP4 127.0.0.1 10.0.0.21 50000 21",
            "2001:db8::1   | 50000 | 2001:db8::2   | 21    | PROXY TCP6 2001:db8::1 2001:db8::2 50000 21",
            "::1           | 1     | ::            | 2     | PROXY TCP6 ::1 :: 1 2",
            "2001:db8:0:0:1:0:0:1 | 7 | fe80:0:0:0:abcd:0:0:0 | 8 | PROXY TCP6 2001:db8::1:0:0:1 fe80::abcd:0:0:0 7 8",
            "1:2:3:4:5:6:7:8 | 9  | 1:0:2:3:4:5:6:7 | 10   | PROXY TCP6 1:2:3:4:5:6:7:8 1:0:2:3:4:5:6:7 9 10",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff | 65535 | ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff | 65535"
                    + " | PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535",
            // Mixed families: the IPv4 one travels IPv4-mapped, and comes back as IPv4.
            "192.0.2.1     | 40000 | 2001:db8::21  | 21    | PROXY TCP6 ::ffff:c000:201 2001:db8::21 40000 21",
    })
    void bothVersionsRoundTrip(String source, int sourcePort, String destination, int destinationPort, String v1Line)
            throws Exception {
        ProxyHeader header = header(source, sourcePort, destination, destinationPort);

        assertThat(ProxyProtocol.encodeV1(header)).asString(StandardCharsets.US_ASCII).isEqualTo(v1Line + "\r\n");
        assertThat(readAll(ProxyProtocol.encodeV1(header))).isEqualTo(header);
        assertThat(readAll(ProxyProtocol.encodeV2(header))).isEqualTo(header);
    }

    @Test
    void localIsUnknownInV1AndLocalInV2() throws Exception {
        assertThat(ProxyProtocol.encodeV1(ProxyHeader.local())).isEqualTo(ascii("PROXY UNKNOWN\r\n"));
        assertThat(ProxyProtocol.encodeV2(ProxyHeader.local())).isEqualTo(hex(SIGNATURE + "20 00 0000"));
        assertThat(readAll(ProxyProtocol.encodeV1(ProxyHeader.local())).isLocal()).isTrue();
        assertThat(readAll(ProxyProtocol.encodeV2(ProxyHeader.local())).isLocal()).isTrue();
        assertThat(ProxyHeader.local().source()).isNull();
    }

    @Test
    void encodeV2WritesTheSpecLayout() {
        // Spec §2.2: ver/cmd 0x21, family 0x11, length 12, addresses then ports, network byte order.
        assertThat(ProxyProtocol.encodeV2(header("192.168.0.1", 56324, "192.168.0.11", 443)))
                .isEqualTo(hex(SIGNATURE + "21 11 000C C0A80001 C0A8000B DC04 01BB"));
        assertThat(ProxyProtocol.encodeV2(header("2001:db8::1", 1, "::1", 21)))
                .isEqualTo(hex(SIGNATURE + "21 21 0024 20010DB8000000000000000000000001 00000000000000000000000000000001 0001 0015"));
    }

    // ---- the spec's own lines (§2.1) ----------------------------------------------------------

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
            "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535 | 56 | 255.255.255.255",
            "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535 | 104"
                    + " | ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:0001 ::FFFF:192.0.2.1 0 1 | 73 | ::1",
            "PROXY UNKNOWN | 15 | ",
            "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535 | 107 | ",
            "PROXY UNKNOWN whatever the sender wants | 41 | ",
    })
    void acceptsTheLongestAndShortestLines(String line, int lengthWithCrlf, String expectedSource) throws Exception {
        byte[] bytes = ascii(line + "\r\n");
        assertThat(bytes).hasSize(lengthWithCrlf);

        ProxyHeader header = readAll(bytes);

        if (expectedSource == null) {
            assertThat(header.isLocal()).isTrue();
        } else {
            assertThat(header.source().getAddress()).isEqualTo(ip(expectedSource));
        }
    }

    @Test
    void theSpecExampleLeavesTheHttpRequestUnread() throws Exception {
        var in = new OneByteChannel(ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n"));

        ProxyHeader header = ProxyProtocol.read(in);

        assertThat(header).isEqualTo(header("192.168.0.1", 56324, "192.168.0.11", 443));
        assertThat(in.unread()).asString(StandardCharsets.US_ASCII).isEqualTo("GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n");
    }

    // ---- not a byte past the header -----------------------------------------------------------

    static Stream<Arguments> everyKindOfHeader() {
        return Stream.of(
                Arguments.of("v1 TCP4", ProxyProtocol.encodeV1(header("10.1.2.3", 50000, "10.0.0.1", 21))),
                Arguments.of("v1 TCP6", ProxyProtocol.encodeV1(header("2001:db8::1", 50000, "2001:db8::2", 21))),
                Arguments.of("v1 UNKNOWN short", ProxyProtocol.encodeV1(ProxyHeader.local())),
                Arguments.of("v1 UNKNOWN long", ascii("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n")),
                Arguments.of("v2 TCP4", ProxyProtocol.encodeV2(header("10.1.2.3", 50000, "10.0.0.1", 21))),
                Arguments.of("v2 TCP6", ProxyProtocol.encodeV2(header("2001:db8::1", 50000, "2001:db8::2", 21))),
                Arguments.of("v2 LOCAL", ProxyProtocol.encodeV2(ProxyHeader.local())),
                Arguments.of("v2 LOCAL with addresses", v2(0x20, 0x11, "0A010203 0A000001 C350 0015")),
                Arguments.of("v2 PROXY UNSPEC", v2(0x21, 0x00, "")),
                Arguments.of("v2 TCP4 with TLVs", v2(0x21, 0x11, "0A010203 0A000001 C350 0015 04 0003 000000 02 0005 6674702E78")));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("everyKindOfHeader")
    void readLeavesTheFtpCommandUnread(String name, byte[] header) throws Exception {
        var in = new OneByteChannel(concat(header, FTP_COMMAND));

        ProxyProtocol.read(in);

        assertThat(in.unread()).isEqualTo(FTP_COMMAND);
    }

    // ---- v2 details ---------------------------------------------------------------------------

    @Test
    void v2TlvsAreSkipped() throws Exception {
        // NOOP (0x04) with 3 bytes, AUTHORITY (0x02) "ftp.x", UNIQUE_ID (0x05) empty
        byte[] header = v2(0x21, 0x21, "20010DB8000000000000000000000001 20010DB8000000000000000000000002 C350 0015"
                + " 04 0003 000000 02 0005 6674702E78 05 0000");

        assertThat(readAll(header)).isEqualTo(header("2001:db8::1", 50000, "2001:db8::2", 21));
    }

    @Test
    void v2WithAMatchingCrc32cIsAccepted() throws Exception {
        byte[] header = withCrc32c(v2(0x21, 0x11, "0A010203 0A000001 C350 0015 03 0004 00000000"), 16 + 12 + 3);

        assertThat(readAll(header)).isEqualTo(header("10.1.2.3", 50000, "10.0.0.1", 21));
    }

    @Test
    void v2WithAWrongCrc32cIsRefused() {
        byte[] header = withCrc32c(v2(0x21, 0x11, "0A010203 0A000001 C350 0015 03 0004 00000000"), 16 + 12 + 3);
        byte[] tampered = header.clone();
        tampered[16 + 3] = 4; // the source address now says 10.1.2.4

        assertThatThrownBy(() -> readAll(tampered))
                .isInstanceOf(ProxyProtocolException.class)
                .hasMessageStartingWith("PROXY v2 CRC32C mismatch: header says ");
    }

    @Test
    void v2CarriesTheUniqueIdBothWays() throws Exception {
        ProxyHeader sent = header("10.1.2.3", 50000, "10.0.0.1", 21).withUniqueId("lb-a/c42");
        byte[] bytes = ProxyProtocol.encodeV2(sent);

        // Spec §2.2.5: type 0x05, length 8, the id's bytes, counted in the header's length field.
        assertThat(java.util.HexFormat.of().formatHex(bytes, 16 + 12, bytes.length)).isEqualTo("050008" + "6c622d612f633432");
        assertThat(bytes[15]).isEqualTo((byte) (12 + 3 + 8));
        assertThat(readAll(bytes)).isEqualTo(sent);
        assertThat(ProxyProtocol.encodeV1(sent)).asString(StandardCharsets.US_ASCII).doesNotContain("lb-a");
    }

    @Test
    void aBinaryUniqueIdIsKeptAsHex() throws Exception {
        byte[] header = v2(0x21, 0x11, "0A010203 0A000001 C350 0015 05 0003 0A0D41");

        assertThat(readAll(header).uniqueId()).isEqualTo("0x0a0d41");
    }

    @Test
    void aUniqueIdOver128BytesIsRefused() {
        byte[] header = v2(0x21, 0x11, "0A010203 0A000001 C350 0015 05 0081 " + "41".repeat(129));

        assertThatThrownBy(() -> readAll(header)).isInstanceOf(ProxyProtocolException.class)
                .hasMessage("PROXY v2 unique ID has length 129, over the limit of 128");
        assertThatThrownBy(() -> ProxyProtocol.encodeV2(header("10.1.2.3", 1, "10.0.0.1", 21).withUniqueId("x".repeat(129))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void v2UnixStreamFallsBackToLocal() throws Exception {
        byte[] header = v2(0x21, 0x31, "00".repeat(216));

        assertThat(readAll(header).isLocal()).isTrue();
    }

    // ---- refused ------------------------------------------------------------------------------

    static Stream<Arguments> malformed() {
        return Stream.of(
                // not a header at all
                bad("", "connection closed after 0 bytes, inside the PROXY header"),
                bad("PROXY", "connection closed after 5 bytes, inside the PROXY header"),
                bad("USER anonymous\r\n", "no PROXY header: the connection starts with \"USER anonymous\\x0d\""),
                bad("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "no PROXY header: the connection starts with \"proxy TCP4 1.2.\""),
                bad(hex("160301020000010001FC0303000000"), "no PROXY header: the connection starts with "
                        + "\"\\x16\\x03\\x01\\x02\\x00\\x00\\x01\\x00\\x01\\xfc\\x03\\x03\\x00\\x00\\x00\""),
                bad(hex("0D0A0D0A000D0A515549540B21110000"), "no PROXY header: the connection starts with "
                        + "\"\\x0d\\x0a\\x0d\\x0a\\x00\\x0d\\x0aQUIT\\x0b!\\x11\\x00\""),
                // v1 line framing
                bad("PROXY TCP4 1.2.3.4 5.6", "connection closed after 22 bytes, inside the PROXY header"),
                bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "PROXY v1 line ends in LF without CR"),
                bad("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", "PROXY v1 line has a CR not followed by LF"),
                bad("PROXY UNKNOWN x\r\r\n", "PROXY v1 line has a CR not followed by LF"),
                bad("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", "PROXY v1 line has a non-printable byte 0x09"),
                bad("PROXY UNKNOWN \u00e9\r\n".getBytes(StandardCharsets.ISO_8859_1), "PROXY v1 line has a non-printable byte 0xe9"),
                bad("PROXY TCP4\r\nUSER x\r\n", "PROXY v1 line is shorter than any valid header"),
                bad("PROXY UNKNOWN " + "f".repeat(92) + "\r\n", "PROXY v1 line has no CRLF within 107 bytes"),
                bad("PROXY UNKNOWN " + "f".repeat(200), "PROXY v1 line has no CRLF within 107 bytes"),
                // v1 fields
                bad("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY v1 protocol \"UDP4\" is not TCP4, TCP6 or UNKNOWN"),
                bad("PROXY UNKNOWNX 1.2.3.4\r\n", "PROXY v1 protocol \"UNKNOWNX\" is not TCP4, TCP6 or UNKNOWN"),
                bad("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY v1 protocol \"tcp4\" is not TCP4, TCP6 or UNKNOWN"),
                bad("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY v1 protocol \"\" is not TCP4, TCP6 or UNKNOWN"),
                bad("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
                        "PROXY v1 TCP4 line has 5 space-separated fields, not 6: \"PROXY TCP4 1.2.3.4 5.6.7.8 1\""),
                bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
                        "PROXY v1 TCP4 line has 7 space-separated fields, not 6: \"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \""),
                bad("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
                        "PROXY v1 TCP4 line has 7 space-separated fields, not 6: \"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\""),
                // v2
                bad(v2(0x11, 0x11, "0A010203 0A000001 C350 0015"), "PROXY v2 header has version 1, not 2"),
                bad(v2(0x22, 0x11, "0A010203 0A000001 C350 0015"), "PROXY v2 header has unknown command 2"),
                bad(v2(0x21, 0x41, "0A010203 0A000001 C350 0015"), "PROXY v2 header has unknown family 0x41"),
                bad(v2(0x21, 0x10, "0A010203 0A000001 C350 0015"), "PROXY v2 header has unknown family 0x10"),
                bad(v2(0x21, 0x13, "0A010203 0A000001 C350 0015"), "PROXY v2 header has unknown family 0x13"),
                bad(v2(0x21, 0x12, "0A010203 0A000001 C350 0015"),
                        "PROXY v2 header is for a datagram connection (family 0x12), not a stream"),
                bad(v2(0x21, 0x11, "0A010203 0A000001"), "PROXY v2 length 8 is too short for family 0x11, which needs 12"),
                bad(v2(0x21, 0x21, "0A010203 0A000001 C350 0015"), "PROXY v2 length 12 is too short for family 0x21, which needs 36"),
                bad(v2(0x21, 0x31, "0A010203 0A000001 C350 0015"), "PROXY v2 length 12 is too short for family 0x31, which needs 216"),
                // Only the 16 fixed bytes are there: the length must be refused before the block is read.
                bad(hex(SIGNATURE + "21 11 1001"), "PROXY v2 header length 4097 is over the limit of 4096"),
                bad(hex(SIGNATURE + "21 11 FFFF"), "PROXY v2 header length 65535 is over the limit of 4096"),
                bad(hex(SIGNATURE + "21 11 000C 0A010203 0A00"), "connection closed after 22 bytes, inside the PROXY header"),
                bad(hex(SIGNATURE + "21 11"), "connection closed after 14 bytes, inside the PROXY header"),
                bad(v2(0x21, 0x11, "0A010203 0A000001 C350 0015 0400"), "PROXY v2 TLV at offset 12 is truncated"),
                bad(v2(0x21, 0x11, "0A010203 0A000001 C350 0015 04 000A 0000"),
                        "PROXY v2 TLV type 0x04 at offset 12 has length 10, past the end of the header"),
                bad(v2(0x21, 0x11, "0A010203 0A000001 C350 0015 03 0003 000000"), "PROXY v2 CRC32C TLV has length 3, not 4"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("malformed")
    void malformedHeadersAreRefusedWithAClearMessage(String name, byte[] input, String message) {
        assertThatThrownBy(() -> readAll(input))
                .isInstanceOf(ProxyProtocolException.class)
                .hasMessage(message);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
            // ports (spec §2.1: decimal 0..65535, no heading zeroes)
            "PROXY TCP4 1.2.3.4 5.6.7.8 65536 21    | source port \"65536\" is not a decimal 0..65535",
            "PROXY TCP4 1.2.3.4 5.6.7.8 21 99999    | destination port \"99999\" is not a decimal 0..65535",
            "PROXY TCP4 1.2.3.4 5.6.7.8 -1 21       | source port \"-1\" is not a decimal 0..65535",
            "PROXY TCP4 1.2.3.4 5.6.7.8 +1 21       | source port \"+1\" is not a decimal 0..65535",
            "PROXY TCP4 1.2.3.4 5.6.7.8 021 21      | source port \"021\" is not a decimal 0..65535",
            "PROXY TCP4 1.2.3.4 5.6.7.8 00 21       | source port \"00\" is not a decimal 0..65535",
            "PROXY TCP4 1.2.3.4 5.6.7.8 0x15 21     | source port \"0x15\" is not a decimal 0..65535",
            "PROXY TCP4 1.2.3.4 5.6.7.8 21 1000000  | destination port \"1000000\" is not a decimal 0..65535",
            "PROXY TCP4 1.2.3.4 5.6.7.8 \u0662\u0661 21 | non-printable byte 0xd9",
            // IPv4 (spec §2.1: four decimals 0..255, no heading zeroes)
            "PROXY TCP4 01.2.3.4 5.6.7.8 1 2        | source address \"01.2.3.4\" is not an IPv4 literal",
            "PROXY TCP4 1.2.3.4 5.6.7.010 1 2       | destination address \"5.6.7.010\" is not an IPv4 literal",
            "PROXY TCP4 1.2.3.256 5.6.7.8 1 2       | source address \"1.2.3.256\" is not an IPv4 literal",
            "PROXY TCP4 1.2.3.1000 5.6.7.8 1 2      | source address \"1.2.3.1000\" is not an IPv4 literal",
            "PROXY TCP4 1.2.3 5.6.7.8 1 2           | source address \"1.2.3\" is not an IPv4 literal",
            "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2       | source address \"1.2.3.4.5\" is not an IPv4 literal",
            "PROXY TCP4 1.2..4 5.6.7.8 1 2          | source address \"1.2..4\" is not an IPv4 literal",
            "PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2      | source address \"0x7f.0.0.1\" is not an IPv4 literal",
            "PROXY TCP4 2130706433 5.6.7.8 1 2      | source address \"2130706433\" is not an IPv4 literal",
            // host names are never looked up
            "PROXY TCP4 localhost 5.6.7.8 1 2       | source address \"localhost\" is not an IPv4 literal",
            "PROXY TCP6 ::1 localhost 1 2           | destination address \"localhost\" is not an IPv6 literal",
            "PROXY TCP4 1.2.3.4 ftp.example.com 1 2 | destination address \"ftp.example.com\" is not an IPv4 literal",
            // mixed families: the announced family dictates the format
            "PROXY TCP4 ::1 127.0.0.1 1 2           | source address \"::1\" is not an IPv4 literal",
            "PROXY TCP4 127.0.0.1 ::ffff:1.2.3.4 1 2 | destination address \"::ffff:1.2.3.4\" is not an IPv4 literal",
            "PROXY TCP6 ::1 127.0.0.1 1 2           | destination address \"127.0.0.1\" is not an IPv6 literal",
            // IPv6
            "PROXY TCP6 [::1] ::1 1 2               | source address \"[::1]\" is not an IPv6 literal",
            "PROXY TCP6 fe80::1%eth0 ::1 1 2        | source address \"fe80::1%eth0\" is not an IPv6 literal",
            "PROXY TCP6 1::2::3 ::1 1 2             | source address \"1::2::3\" is not an IPv6 literal",
            "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2   | source address \"1:2:3:4:5:6:7:8:9\" is not an IPv6 literal",
            "PROXY TCP6 12345:: ::1 1 2             | source address \"12345::\" is not an IPv6 literal",
    })
    void v1AddressesAndPortsAreStrictLiterals(String line, String messageEnd) {
        assertThatThrownBy(() -> readAll((line + "\r\n").getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ProxyProtocolException.class)
                .hasMessageEndingWith(messageEnd);
    }

    @Test
    void decodedAddressesCarryNoHostName() throws Exception {
        // getByAddress leaves the host name unset; a lookup (or getByName on a name) would have set it.
        for (byte[] encoded : new byte[][] {
                ascii("PROXY TCP4 127.0.0.1 127.0.0.2 1 2\r\n"), ascii("PROXY TCP6 ::1 ::2 1 2\r\n"),
                ProxyProtocol.encodeV2(header("127.0.0.1", 1, "::1", 2))}) {
            ProxyHeader header = readAll(encoded);
            assertThat(header.source().getAddress().toString()).startsWith("/");
            assertThat(header.destination().getAddress().toString()).startsWith("/");
        }
    }

    @Test
    void aNonBlockingChannelIsAnIoErrorNotASpin() {
        ReadableByteChannel empty = new OneByteChannel(new byte[0]) {
            @Override
            public int read(ByteBuffer dst) {
                return 0;
            }
        };

        assertThatThrownBy(() -> ProxyProtocol.read(empty))
                .isInstanceOf(IOException.class)
                .hasMessage("channel returned no bytes: reading a PROXY header needs a blocking channel");
    }

    // ---- the record ---------------------------------------------------------------------------

    @Test
    void aHeaderHasBothAddressesOrNeither() {
        var address = new InetSocketAddress(ip("127.0.0.1"), 21);

        assertThatThrownBy(() -> new ProxyHeader(address, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ProxyHeader(null, address)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new ProxyHeader(null, null).isLocal()).isTrue();
        assertThat(new ProxyHeader(address, address).isLocal()).isFalse();
    }

    @Test
    void aHeaderRefusesUnresolvedHostNames() {
        var unresolved = InetSocketAddress.createUnresolved("ftp.example.com", 21);
        var address = new InetSocketAddress(ip("127.0.0.1"), 21);

        assertThatThrownBy(() -> new ProxyHeader(unresolved, address))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not host names");
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Reads a header from exactly these bytes, one byte per read, and checks nothing follows it. */
    private static ProxyHeader readAll(byte[] bytes) throws IOException, ProxyProtocolException {
        var in = new OneByteChannel(bytes);
        ProxyHeader header = ProxyProtocol.read(in);
        assertThat(in.unread()).isEmpty();
        return header;
    }

    private static Arguments bad(String input, String message) {
        return bad(input.getBytes(StandardCharsets.ISO_8859_1), message);
    }

    private static Arguments bad(byte[] input, String message) {
        String name = new String(input, StandardCharsets.ISO_8859_1).replaceAll("[^\\x20-\\x7e]", ".");
        return Arguments.of(name.length() > 40 ? name.substring(0, 40) + "..." : name, input, message);
    }

    private static ProxyHeader header(String source, int sourcePort, String destination, int destinationPort) {
        return new ProxyHeader(new InetSocketAddress(ip(source), sourcePort), new InetSocketAddress(ip(destination), destinationPort));
    }

    /** An IP literal; the brackets make the JDK refuse anything else rather than resolve it. */
    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal.contains(":") ? "[" + literal + "]" : literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] v2(int versionCommand, int family, String bodyHex) {
        byte[] body = hex(bodyHex);
        return concat(hex(SIGNATURE), new byte[] {(byte) versionCommand, (byte) family, (byte) (body.length >> 8), (byte) body.length},
                body);
    }

    /** Fills in the CRC32C TLV value at valueOffset as spec §2.2.3 says a sender does. */
    private static byte[] withCrc32c(byte[] header, int valueOffset) {
        CRC32C crc = new CRC32C();
        crc.update(header);
        ByteBuffer.wrap(header).putInt(valueOffset, (int) crc.getValue());
        return header;
    }

    private static byte[] hex(String text) {
        return HexFormat.of().parseHex(text.replace(" ", ""));
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        var out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** A blocking channel that hands out one byte per read, the worst fragmentation TCP allows. */
    private static class OneByteChannel implements ReadableByteChannel {
        private final ByteBuffer data;

        OneByteChannel(byte[] bytes) {
            this.data = ByteBuffer.wrap(bytes);
        }

        @Override
        public int read(ByteBuffer dst) {
            if (!data.hasRemaining()) {
                return -1;
            }
            if (!dst.hasRemaining()) {
                return 0;
            }
            dst.put(data.get());
            return 1;
        }

        byte[] unread() {
            byte[] rest = new byte[data.remaining()];
            data.duplicate().get(rest);
            return rest;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
