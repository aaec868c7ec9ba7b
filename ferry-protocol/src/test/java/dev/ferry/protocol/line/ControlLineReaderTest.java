package dev.ferry.protocol.line;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.protocol.proxy.ProxyProtocol;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every input is read both one byte per read (so each Telnet sequence and each CRLF is split across
 * reads) and in chunks larger than the reader's buffer.
 */
class ControlLineReaderTest {

    private static final int IAC = 0xFF;
    private static final int WILL = 251;
    private static final int WONT = 252;
    private static final int DO = 253;
    private static final int DONT = 254;
    private static final int IP = 244;
    private static final int DM = 242;

    /** Chunk sizes: one byte per read, a few bytes, more than the 256-byte buffer holds. */
    private static final int[] CHUNKS = {1, 3, 7, 1000};

    /** A channel that hands out its bytes at most {@code chunk} at a time, then end-of-stream. */
    static final class ChunkedChannel implements ReadableByteChannel {
        private final ByteBuffer data;
        private final int chunk;
        int reads;

        ChunkedChannel(byte[] bytes, int chunk) {
            this.data = ByteBuffer.wrap(bytes);
            this.chunk = chunk;
        }

        @Override
        public int read(ByteBuffer dst) {
            reads++;
            if (!data.hasRemaining()) {
                return -1;
            }
            int n = Math.min(chunk, Math.min(dst.remaining(), data.remaining()));
            ByteBuffer slice = data.slice(data.position(), n);
            dst.put(slice);
            data.position(data.position() + n);
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /** Bytes from a mix of strings (UTF-8), and ints and chars (single raw bytes). */
    static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            } else if (p instanceof Character c) {
                out.write(c);
            } else {
                out.write((Integer) p);
            }
        }
        return out.toByteArray();
    }

    /** Reads every line of {@code input} until end-of-stream. */
    private static List<ControlLine> readAll(byte[] input, int chunk, int maxLength) throws IOException {
        ControlLineReader reader = new ControlLineReader(new ChunkedChannel(input, chunk), maxLength);
        List<ControlLine> lines = new ArrayList<>();
        while (true) {
            try {
                lines.add(reader.readLine());
            } catch (EOFException e) {
                return lines;
            }
        }
    }

    private static ControlLine.Text text(String s) {
        return new ControlLine.Text(s);
    }

    static Stream<Arguments> lines() {
        return Stream.of(
                Arguments.of("CRLF", bytes("NOOP\r\n"), List.of(text("NOOP"))),
                Arguments.of("bare LF", bytes("NOOP\n"), List.of(text("NOOP"))),
                Arguments.of("two lines, mixed ends", bytes("USER a\r\nPASS b\n"), List.of(text("USER a"), text("PASS b"))),
                Arguments.of("empty line", bytes("\r\n"), List.of(text(""))),
                Arguments.of("CR inside a line is kept", bytes("CWD a\rb\r\n"), List.of(text("CWD a\rb"))),
                Arguments.of("only the CR right before LF goes", bytes("CWD a\r\r\n"), List.of(text("CWD a\r"))),
                Arguments.of("trailing spaces are kept", bytes("PASS pw  \r\n"), List.of(text("PASS pw  "))),
                Arguments.of("IAC IAC is a literal 0xFF, which is never UTF-8",
                        bytes("CWD a", IAC, IAC, "b\r\n"), List.of(new ControlLine.BadEncoding())),
                Arguments.of("IAC WILL x is stripped", bytes("NO", IAC, WILL, 1, "OP\r\n"), List.of(text("NOOP"))),
                Arguments.of("IAC WONT x is stripped", bytes("NO", IAC, WONT, 3, "OP\r\n"), List.of(text("NOOP"))),
                Arguments.of("IAC DO x is stripped", bytes("NO", IAC, DO, 24, "OP\r\n"), List.of(text("NOOP"))),
                Arguments.of("IAC DONT x is stripped", bytes("NO", IAC, DONT, 31, "OP\r\n"), List.of(text("NOOP"))),
                Arguments.of("option byte LF is part of the negotiation, not a line end",
                        bytes("NO", IAC, DO, '\n', "OP\r\n"), List.of(text("NOOP"))),
                Arguments.of("option byte IAC is part of the negotiation",
                        bytes("NO", IAC, WILL, IAC, "OP\r\n"), List.of(text("NOOP"))),
                // RFC 959 §4.1.3: a client sends IAC IP, IAC DM (urgent) before ABOR.
                Arguments.of("IAC IP IAC DM before ABOR", bytes(IAC, IP, IAC, DM, "ABOR\r\n"), List.of(text("ABOR"))),
                Arguments.of("Telnet commands between CR and LF", bytes("STAT\r", IAC, IP, "\n"), List.of(text("STAT"))),
                Arguments.of("UTF-8 path", bytes("STOR café.txt\r\n"), List.of(text("STOR café.txt"))),
                Arguments.of("CJK and astral characters", bytes("MKD 日本語 𝄞\r\n"), List.of(text("MKD 日本語 𝄞"))),
                Arguments.of("invalid UTF-8 (lone continuation byte)",
                        bytes("CWD ", 0x80, "\r\nNOOP\r\n"), List.of(new ControlLine.BadEncoding(), text("NOOP"))),
                Arguments.of("invalid UTF-8 (overlong encoding of '/')",
                        bytes("CWD ", 0xC0, 0xAF, "\r\n"), List.of(new ControlLine.BadEncoding())),
                Arguments.of("invalid UTF-8 (truncated sequence)",
                        bytes("CWD ", 0xE6, 0x97, "\r\n"), List.of(new ControlLine.BadEncoding())),
                Arguments.of("invalid UTF-8 (encoded surrogate)",
                        bytes("CWD ", 0xED, 0xA0, 0x80, "\r\n"), List.of(new ControlLine.BadEncoding())),
                Arguments.of("Latin-1 is not UTF-8", bytes("CWD caf", 0xE9, "\r\n"), List.of(new ControlLine.BadEncoding())),
                Arguments.of("partial last line is dropped at end of stream", bytes("NOOP\r\nQU"), List.of(text("NOOP"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lines")
    void readsLinesWhateverTheChunking(String description, byte[] input, List<ControlLine> expected) throws IOException {
        for (int chunk : CHUNKS) {
            assertThat(readAll(input, chunk, 64)).as("chunk %d", chunk).isEqualTo(expected);
        }
    }

    @Test
    void aLineOfExactlyTheLimitIsAccepted() throws IOException {
        String limit = "X".repeat(32);
        for (int chunk : CHUNKS) {
            assertThat(readAll(bytes(limit, "\n"), chunk, 32)).as("LF, chunk %d", chunk).containsExactly(text(limit));
            assertThat(readAll(bytes(limit, "\r\n"), chunk, 32)).as("CRLF, chunk %d", chunk).containsExactly(text(limit));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"\r\r\n", "\rY\n", "Y\r\n", "Y\n"})
    void oneByteOverTheLimitIsTooLongWhateverTheLineEnd(String tail) throws IOException {
        // The room kept for a CRLF's CR is never room for content: "X..X\r" is 33 bytes of line.
        for (int chunk : CHUNKS) {
            assertThat(readAll(bytes("X".repeat(32), tail, "NOOP\r\n"), chunk, 32)).as("chunk %d", chunk)
                    .containsExactly(new ControlLine.TooLong(32), text("NOOP"));
        }
    }

    @Test
    void aLineOverTheLimitIsTooLongAndTheNextLineIsReadCorrectly() throws IOException {
        byte[] input = bytes("STOR ", "x".repeat(1000), "\r\nNOOP\r\n", "Y".repeat(33), "\nQUIT\r\n");
        for (int chunk : CHUNKS) {
            assertThat(readAll(input, chunk, 32)).as("chunk %d", chunk).containsExactly(
                    new ControlLine.TooLong(32), text("NOOP"), new ControlLine.TooLong(32), text("QUIT"));
        }
    }

    @Test
    void telnetCommandsDoNotCountTowardsTheLimit() throws IOException {
        List<Object> parts = new ArrayList<>();
        parts.add("A".repeat(16));
        for (int i = 0; i < 40; i++) {
            parts.add(IAC);
            parts.add(DO);
            parts.add(1);
        }
        parts.add("B".repeat(16));
        parts.add("\n");
        assertThat(readAll(bytes(parts.toArray()), 1, 32)).containsExactly(text("A".repeat(16) + "B".repeat(16)));
    }

    @Test
    void aLongLineDoesNotKeepItsBufferForTheNextLines() throws IOException {
        // Growing and shrinking back must leave later lines intact.
        String big = "M".repeat(3000);
        byte[] input = bytes("MKD ", big, "\r\nMKD b\r\nMKD ", big, "\r\n");
        assertThat(readAll(input, 1000, 4096)).containsExactly(text("MKD " + big), text("MKD b"), text("MKD " + big));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 1000})
    void endOfStreamInTheMiddleOfALineIsEof(int chunk) throws IOException {
        ControlLineReader reader = new ControlLineReader(new ChunkedChannel(bytes("NOOP\r\nUSER al"), chunk), 64);

        assertThat(reader.readLine()).isEqualTo(text("NOOP"));
        assertThatThrownBy(reader::readLine).isInstanceOf(EOFException.class);
    }

    @Test
    void endOfStreamWithNothingPendingIsEof() {
        ControlLineReader reader = new ControlLineReader(new ChunkedChannel(new byte[0], 1), 64);

        assertThatThrownBy(reader::readLine).isInstanceOf(EOFException.class);
    }

    @Test
    void pipelinedLinesAreReportedAsBuffered() throws IOException {
        ControlLineReader reader = new ControlLineReader(new ChunkedChannel(bytes("TYPE I\r\nPASV\r\n"), 1000), 64);

        assertThat(reader.readLine()).isEqualTo(text("TYPE I"));
        assertThat(reader.hasBufferedInput()).isTrue();
        assertThat(reader.readLine()).isEqualTo(text("PASV"));
        assertThat(reader.hasBufferedInput()).isFalse();
    }

    @Test
    void aSmallReadBufferStillAssemblesLongLines() throws IOException {
        String line = "RETR " + "é".repeat(100);
        ChunkedChannel channel = new ChunkedChannel(bytes(line, "\r\n"), 1000);
        ControlLineReader reader = new ControlLineReader(channel, 4096, 16);

        assertThat(reader.readLine()).isEqualTo(text(line));
        assertThat(channel.reads).isGreaterThan(10);
    }

    @Test
    void limitsBelowSixteenAreRefused() {
        assertThatThrownBy(() -> new ControlLineReader(new ChunkedChannel(new byte[0], 1), 15))
                .isInstanceOf(IllegalArgumentException.class);
    }

    static Stream<Arguments> proxySignatures() {
        byte[] v2 = bytes("\r\n\r\n", 0, "\r\nQUIT\n", 0x21, 0x11, 0, 12);
        return Stream.of(
                Arguments.of("a v1 header", bytes("PROXY TCP4 10.0.0.1 10.0.0.2 1000 21\r\n"), ProxyProtocol.Signature.V1),
                Arguments.of("a v2 header", v2, ProxyProtocol.Signature.V2),
                Arguments.of("a command", bytes("USER alice\r\n"), ProxyProtocol.Signature.NONE),
                Arguments.of("a command starting like v1", bytes("PASV\r\n"), ProxyProtocol.Signature.NONE),
                Arguments.of("PROXY as a verb alone", bytes("PROXY\r\n"), ProxyProtocol.Signature.NONE),
                Arguments.of("a short command (fewer bytes than a signature)", bytes("PWD\r\n"), ProxyProtocol.Signature.NONE),
                Arguments.of("two empty lines, then a command", bytes("\r\n\r\nNOOP\r\n"), ProxyProtocol.Signature.NONE),
                Arguments.of("the v2 signature cut short by the end", bytes("\r\n\r\n", 0), ProxyProtocol.Signature.NONE),
                Arguments.of("nothing", new byte[0], ProxyProtocol.Signature.NONE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("proxySignatures")
    void recognisesAPROXYHeaderSignatureAheadAndKeepsTheBytes(String what, byte[] input, ProxyProtocol.Signature expected)
            throws IOException {
        for (int chunk : new int[] {1, 5, 1000}) {
            ControlLineReader reader = new ControlLineReader(new ChunkedChannel(input, chunk), 64, 16);

            assertThat(reader.proxySignatureAhead()).as("chunk %d", chunk).isEqualTo(expected);
            List<ControlLine> lines = new ArrayList<>();
            try {
                while (true) {
                    lines.add(reader.readLine());
                }
            } catch (EOFException end) {
                // all read
            }
            assertThat(lines).as("chunk %d", chunk).isEqualTo(readAll(input, 1000, 64));
        }
    }

    @Test
    void aCommandDoesNotWaitForASignaturesLength() throws IOException {
        // A client that sent one short line and waits for its reply: no second read may be needed.
        ChunkedChannel once = new ChunkedChannel(bytes("PWD\r\n"), 1000);
        ControlLineReader reader = new ControlLineReader(once, 64);

        assertThat(reader.proxySignatureAhead()).isEqualTo(ProxyProtocol.Signature.NONE);
        assertThat(once.reads).isEqualTo(1);
        assertThat(reader.readLine()).isEqualTo(text("PWD"));
    }

    @Test
    void afterTheFirstLineNoSignatureIsLookedFor() throws IOException {
        ControlLineReader reader = new ControlLineReader(new ChunkedChannel(bytes("NOOP\r\nPROXY TCP4\r\n"), 1000), 64);

        reader.readLine();
        assertThat(reader.proxySignatureAhead()).isEqualTo(ProxyProtocol.Signature.NONE);
        assertThat(reader.readLine()).isEqualTo(text("PROXY TCP4"));
    }
}
