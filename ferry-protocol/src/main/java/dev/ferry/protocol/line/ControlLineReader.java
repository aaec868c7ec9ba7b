package dev.ferry.protocol.line;

import dev.ferry.protocol.proxy.ProxyProtocol;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads control-connection lines from a blocking channel.
 *
 * <p>Design: the control connection is a Telnet stream (RFC 959 §4.1.3, RFC 854). Telnet commands are
 * stripped here so that the parser only ever sees command text: {@code IAC IAC} is a literal 0xFF byte,
 * {@code IAC WILL/WONT/DO/DONT x} is an option negotiation we ignore (RFC 1123 §4.1.2.12 lets a server
 * refuse all options), and any other {@code IAC x} (such as the IP and DM a client sends before ABOR)
 * is dropped. Lines end at LF; a CR before it is removed. Lines are bounded: past {@code maxLength}
 * bytes (not counting the line end, so a line of exactly the limit is accepted with LF and with CRLF)
 * the rest of the line is discarded and {@link ControlLine.TooLong} is returned, so a client
 * cannot make the server buffer without limit.
 *
 * <p>Memory: a reading session holds a 256-byte input buffer and a 128-byte line buffer that grows
 * only for long lines and shrinks back afterwards; {@link #releaseBuffers()} drops both while the
 * session is idle, and they are allocated again on the next read.
 */
public final class ControlLineReader {

    private static final int IAC = 0xFF;
    private static final int WILL = 251;
    private static final int DONT = 254;
    private static final int INITIAL_LINE_CAPACITY = 128;

    private final ReadableByteChannel channel;
    private final int maxLength;
    private final int bufferSize;
    private ByteBuffer input;
    private byte[] line = new byte[INITIAL_LINE_CAPACITY];
    private boolean endOfStream;
    private int lineLength;
    private boolean overflow;
    private TelnetState telnet = TelnetState.DATA;
    private boolean started;

    private enum TelnetState { DATA, IAC, OPTION }

    public ControlLineReader(ReadableByteChannel channel, int maxLength) {
        this(channel, maxLength, 256);
    }

    ControlLineReader(ReadableByteChannel channel, int maxLength, int bufferSize) {
        if (maxLength < 16) {
            throw new IllegalArgumentException("maxLength too small: " + maxLength);
        }
        this.channel = channel;
        this.maxLength = maxLength;
        this.bufferSize = bufferSize;
        this.input = ByteBuffer.allocate(bufferSize).flip();
    }

    /**
     * Returns the next line, blocking until one is complete.
     *
     * @throws EOFException when the peer closed the connection (a partial last line is dropped)
     */
    public ControlLine readLine() throws IOException {
        ensureBuffers();
        started = true;
        while (true) {
            while (input.hasRemaining()) {
                int b = input.get() & 0xFF;
                ControlLine done = accept(b);
                if (done != null) {
                    return done;
                }
            }
            if (endOfStream) {
                throw new EOFException("control connection closed by peer");
            }
            input.clear();
            int n = channel.read(input);
            input.flip();
            if (n < 0) {
                throw new EOFException("control connection closed by peer");
            }
        }
    }

    /**
     * Before the first line is read: whether the connection starts with a PROXY protocol header's signature
     * (v1 or v2, {@link ProxyProtocol#signature}), so that a server can recognise a header it does not expect
     * instead of answering its pieces as commands (the v2 signature holds two empty lines and "QUIT"). Reads
     * ahead at most {@link ProxyProtocol#SIGNATURE_LENGTH} bytes, and only while what came so far is still a
     * prefix of a signature, so no command line ever waits: every line a client can send differs from both
     * signatures by its line end at the latest, except an empty one (the v2 signature starts with CRLF),
     * which waits for the next bytes. The bytes stay buffered for {@link #readLine()}. After the first line,
     * and at end of stream, answers {@link ProxyProtocol.Signature#NONE}.
     */
    public ProxyProtocol.Signature proxySignatureAhead() throws IOException {
        if (started) {
            return ProxyProtocol.Signature.NONE;
        }
        ensureBuffers();
        while (true) {
            int n = Math.min(input.remaining(), ProxyProtocol.SIGNATURE_LENGTH);
            byte[] ahead = new byte[n];
            input.get(input.position(), ahead);
            ProxyProtocol.Signature seen = ProxyProtocol.signature(ahead, n);
            if (seen != ProxyProtocol.Signature.UNDECIDED || n == ProxyProtocol.SIGNATURE_LENGTH || endOfStream) {
                return seen == ProxyProtocol.Signature.UNDECIDED ? ProxyProtocol.Signature.NONE : seen;
            }
            input.compact();
            int read = channel.read(input);
            input.flip();
            if (read < 0) {
                endOfStream = true;
            }
        }
    }

    /** True when bytes of a further line are already buffered (a pipelining client). */
    public boolean hasBufferedInput() {
        return input != null && input.hasRemaining();
    }

    /**
     * Waits at most {@code timeoutMillis} for input. Returns true when bytes (or end of stream) are
     * there for {@link #readLine()}, false when the wait timed out. Channels that cannot wait a
     * bounded time ({@link TimedReadable}) always answer true, and readLine then blocks.
     */
    public boolean awaitInput(long timeoutMillis) throws IOException {
        if (hasBufferedInput() || endOfStream || !(channel instanceof TimedReadable timed)) {
            return true;
        }
        ensureBuffers();
        input.compact();
        int n = timed.readWithin(input, timeoutMillis);
        input.flip();
        if (n < 0) {
            endOfStream = true;
        }
        return n != 0;
    }

    /**
     * Drops the buffers of an idle reader (nothing buffered, no partial line); returns whether it
     * did. They are allocated again by the next read.
     */
    public boolean releaseBuffers() {
        if (hasBufferedInput() || lineLength > 0 || overflow || telnet != TelnetState.DATA) {
            return false;
        }
        input = null;
        line = null;
        return true;
    }

    private void ensureBuffers() {
        if (input == null) {
            input = ByteBuffer.allocate(bufferSize).flip();
            line = new byte[INITIAL_LINE_CAPACITY];
        }
    }

    private ControlLine accept(int b) {
        switch (telnet) {
            case IAC -> {
                if (b == IAC) {
                    telnet = TelnetState.DATA;
                    append(b);
                } else if (b >= WILL && b <= DONT) {
                    telnet = TelnetState.OPTION;
                } else {
                    telnet = TelnetState.DATA;
                }
                return null;
            }
            case OPTION -> {
                telnet = TelnetState.DATA;
                return null;
            }
            case DATA -> {
                if (b == IAC) {
                    telnet = TelnetState.IAC;
                    return null;
                }
                if (b == '\n') {
                    return finishLine();
                }
                append(b);
                return null;
            }
        }
        throw new AssertionError(telnet);
    }

    private void append(int b) {
        if (overflow) {
            return;
        }
        // One byte of room past the limit, for the CR of a CRLF that ends a line of exactly the limit.
        if (lineLength > maxLength || (lineLength == maxLength && b != '\r')) {
            overflow = true;
            return;
        }
        if (lineLength == line.length) {
            line = Arrays.copyOf(line, Math.min(maxLength + 1, line.length * 2));
        }
        line[lineLength++] = (byte) b;
    }

    private ControlLine finishLine() {
        try {
            if (overflow) {
                return new ControlLine.TooLong(maxLength);
            }
            int length = lineLength;
            if (length > 0 && line[length - 1] == '\r') {
                length--;
            }
            return decode(length);
        } finally {
            lineLength = 0;
            overflow = false;
            if (line.length > INITIAL_LINE_CAPACITY) {
                line = new byte[INITIAL_LINE_CAPACITY];
            }
        }
    }

    private ControlLine decode(int length) {
        boolean ascii = true;
        for (int i = 0; i < length; i++) {
            if (line[i] < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new ControlLine.Text(new String(line, 0, length, StandardCharsets.ISO_8859_1));
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(line, 0, length));
            return new ControlLine.Text(chars.toString());
        } catch (CharacterCodingException e) {
            return new ControlLine.BadEncoding();
        }
    }
}
