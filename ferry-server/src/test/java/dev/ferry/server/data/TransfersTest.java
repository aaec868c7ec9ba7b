package dev.ferry.server.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ASCII line-end conversions of RFC 959 §3.1.1.1, fed in pieces the way the copy loops feed
 * them: {@link #toCrlfInPieces} mirrors {@link Transfers#send}, {@link #fromCrlfInPieces} mirrors
 * {@link Transfers#receive}. The loops themselves run over real sockets in {@link AsciiTransferTest}.
 */
class TransfersTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** LF to CRLF with input pieces of {@code piece} bytes and an output buffer of {@code outSize}. */
    static byte[] toCrlfInPieces(byte[] input, int piece, int outSize) {
        ByteArrayOutputStream result = new ByteArrayOutputStream();
        ByteBuffer out = ByteBuffer.allocate(outSize);
        boolean lastWasCr = false;
        for (int at = 0; at < input.length; at += piece) {
            ByteBuffer in = ByteBuffer.wrap(input, at, Math.min(piece, input.length - at));
            while (in.hasRemaining()) {
                out.clear();
                lastWasCr = Transfers.toCrlf(in, out, lastWasCr);
                out.flip();
                result.write(out.array(), 0, out.limit());
            }
        }
        return result.toByteArray();
    }

    /** CRLF to LF with input pieces of {@code piece} bytes, holding a trailing CR as receive does. */
    static byte[] fromCrlfInPieces(byte[] input, int piece) {
        ByteArrayOutputStream result = new ByteArrayOutputStream();
        boolean pendingCr = false;
        for (int at = 0; at < input.length; at += piece) {
            ByteBuffer buf = ByteBuffer.wrap(Arrays.copyOfRange(input, at, Math.min(input.length, at + piece)));
            if (pendingCr && buf.get(buf.position()) != '\n') {
                result.write('\r');
            }
            pendingCr = Transfers.fromCrlf(buf);
            result.write(buf.array(), buf.position(), buf.remaining());
        }
        if (pendingCr) {
            result.write('\r');
        }
        return result.toByteArray();
    }

    static Stream<Arguments> toCrlfCases() {
        return Stream.of(
                Arguments.of("", ""),
                Arguments.of("abc", "abc"),
                Arguments.of("\n", "\r\n"),
                Arguments.of("a\nb\n", "a\r\nb\r\n"),
                Arguments.of("\n\n\n", "\r\n\r\n\r\n"),
                Arguments.of("a\r\nb", "a\r\nb"),
                Arguments.of("\r\n\r\n", "\r\n\r\n"),
                Arguments.of("a\rb", "a\rb"),
                Arguments.of("\r", "\r"),
                Arguments.of("\r\r\n", "\r\r\n"),
                Arguments.of("\n\r", "\r\n\r"),
                Arguments.of("a\r\n\nb", "a\r\n\r\nb"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("toCrlfCases")
    void toCrlfAddsCrOnlyBeforeABareLf(String input, String expected) {
        for (int piece = 1; piece <= Math.max(1, input.length()); piece++) {
            for (int outSize : new int[] {2, 3, 64}) {
                assertThat(s(toCrlfInPieces(b(input), piece, outSize)))
                        .as("piece %d, out %d", piece, outSize).isEqualTo(expected);
            }
        }
    }

    @Test
    void toCrlfCarriesTheCrOfACrlfSplitAcrossBuffers() {
        ByteBuffer out = ByteBuffer.allocate(16);

        boolean lastWasCr = Transfers.toCrlf(ByteBuffer.wrap(b("a\r")), out, false);
        assertThat(lastWasCr).isTrue();
        lastWasCr = Transfers.toCrlf(ByteBuffer.wrap(b("\nb")), out, lastWasCr);

        assertThat(lastWasCr).isFalse();
        assertThat(s(Arrays.copyOf(out.array(), out.position()))).isEqualTo("a\r\nb");
    }

    @Test
    void toCrlfStopsWhileTheOutputHasRoomForTwoBytes() {
        ByteBuffer in = ByteBuffer.wrap(b("\n\n\n\n"));
        ByteBuffer out = ByteBuffer.allocate(5);

        Transfers.toCrlf(in, out, false);

        assertThat(in.position()).isEqualTo(2);
        assertThat(out.position()).isEqualTo(4);
    }

    static Stream<Arguments> fromCrlfCases() {
        return Stream.of(
                Arguments.of("", ""),
                Arguments.of("abc", "abc"),
                Arguments.of("a\r\nb\r\n", "a\nb\n"),
                Arguments.of("\r\n\r\n", "\n\n"),
                Arguments.of("a\nb", "a\nb"),
                Arguments.of("a\rb", "a\rb"),
                Arguments.of("\r", "\r"),
                Arguments.of("a\r", "a\r"),
                Arguments.of("\r\r\n", "\r\n"),
                Arguments.of("\r\r", "\r\r"),
                Arguments.of("\n\r", "\n\r"),
                Arguments.of("a\r\r\nb\r", "a\r\nb\r"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("fromCrlfCases")
    void fromCrlfDropsCrOnlyBeforeLf(String input, String expected) {
        for (int piece = 1; piece <= Math.max(1, input.length()); piece++) {
            assertThat(s(fromCrlfInPieces(b(input), piece))).as("piece %d", piece).isEqualTo(expected);
        }
    }

    @Test
    void fromCrlfHoldsBackACrAtTheEndOfTheBuffer() {
        ByteBuffer buf = ByteBuffer.wrap(b("ab\r"));

        boolean held = Transfers.fromCrlf(buf);

        assertThat(held).isTrue();
        assertThat(buf.remaining()).isEqualTo(2);
        assertThat(buf.get(0)).isEqualTo((byte) 'a');
        assertThat(buf.get(1)).isEqualTo((byte) 'b');
    }

    @Test
    void fromCrlfWorksInPlaceFromTheBuffersPosition() {
        ByteBuffer buf = ByteBuffer.wrap(b("XXa\r\nb\r\nc"));
        buf.position(2);

        assertThat(Transfers.fromCrlf(buf)).isFalse();

        assertThat(buf.position()).isEqualTo(2);
        byte[] rest = new byte[buf.remaining()];
        buf.get(rest);
        assertThat(s(rest)).isEqualTo("a\nb\nc");
    }

    // Property: for text without CR, converting to the wire form and back gives the text again,
    // however the stream is cut.
    @Test
    void roundTripOfRandomTextIsTheIdentity() {
        Random random = new Random(959);
        byte[] alphabet = b("ab\n\n ");
        for (int run = 0; run < 500; run++) {
            byte[] text = new byte[random.nextInt(300)];
            for (int i = 0; i < text.length; i++) {
                text[i] = alphabet[random.nextInt(alphabet.length)];
            }
            int piece = 1 + random.nextInt(40);
            int outSize = 2 + random.nextInt(40);
            byte[] wire = toCrlfInPieces(text, piece, outSize);

            assertThat(s(wire)).doesNotContain("\r\r").doesNotMatch("(?s).*[^\r]\n.*").doesNotStartWith("\n");
            assertThat(fromCrlfInPieces(wire, 1 + random.nextInt(40))).as("run %d", run).isEqualTo(text);
        }
    }

    // Property: for any bytes, the result does not depend on how the stream is cut.
    @Test
    void resultOfRandomBytesDoesNotDependOnTheCuts() {
        Random random = new Random(2640);
        byte[] alphabet = {'\r', '\n', 'x', 0, (byte) 0xFF};
        for (int run = 0; run < 500; run++) {
            byte[] data = new byte[random.nextInt(200)];
            for (int i = 0; i < data.length; i++) {
                data[i] = alphabet[random.nextInt(alphabet.length)];
            }
            byte[] wholeTo = toCrlfInPieces(data, Math.max(1, data.length), data.length * 2 + 2);
            byte[] wholeFrom = fromCrlfInPieces(data, Math.max(1, data.length));

            assertThat(toCrlfInPieces(data, 1 + random.nextInt(20), 2 + random.nextInt(20))).isEqualTo(wholeTo);
            assertThat(fromCrlfInPieces(data, 1 + random.nextInt(20))).isEqualTo(wholeFrom);
            // Every LF leaves as CRLF; only CRLF pairs lose their CR on the way in.
            assertThat(wholeTo.length).isEqualTo(data.length + count(data, '\n') - countCrlf(data));
            assertThat(wholeFrom.length).isEqualTo(data.length - countCrlf(data));
        }
    }

    private static int count(byte[] data, char c) {
        int n = 0;
        for (byte x : data) {
            if (x == c) {
                n++;
            }
        }
        return n;
    }

    private static int countCrlf(byte[] data) {
        int n = 0;
        for (int i = 1; i < data.length; i++) {
            if (data[i - 1] == '\r' && data[i] == '\n') {
                n++;
            }
        }
        return n;
    }
}
