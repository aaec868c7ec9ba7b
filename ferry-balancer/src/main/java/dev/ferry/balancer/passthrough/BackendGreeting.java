package dev.ferry.balancer.passthrough;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A backend's greeting, read before anything is relayed. Explicit FTPS begins in clear text
 * (RFC 4217 §4: the server greets, the client then sends AUTH TLS), so in passthrough too the
 * balancer can see whether a backend is willing (220) before the client is committed to it, and
 * try another backend when it is not (421, garbage, nothing within the connect timeout).
 *
 * <p>The bytes are kept exactly as read and passed on to the client as they are: the balancer never
 * rewrites anything in passthrough. A backend sends nothing after its greeting until the client
 * speaks, so nothing read here belongs to what follows.
 */
final class BackendGreeting {

    /** Longer than any greeting worth waiting for (ferry server's and vsftpd's are one line). */
    static final int MAX_BYTES = 8192;

    /** The reply code of a whole greeting in {@code bytes}; {@link #INCOMPLETE}; or {@link #MALFORMED}. */
    static final int INCOMPLETE = -1;
    static final int MALFORMED = -2;

    private BackendGreeting() {}

    /**
     * Reads a whole greeting (blocking; the caller bounds the time by closing the channel) and returns
     * its bytes.
     *
     * @throws IOException when the backend closes, sends more than {@link #MAX_BYTES} or breaks the
     *     reply grammar
     */
    static byte[] read(SocketChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(MAX_BYTES);
        while (true) {
            if (channel.read(buffer) < 0) {
                throw new IOException("closed before its greeting ended");
            }
            byte[] sofar = Arrays.copyOf(buffer.array(), buffer.position());
            int code = code(sofar);
            if (code == MALFORMED) {
                throw new IOException("malformed greeting");
            }
            if (code != INCOMPLETE) {
                return sofar;
            }
            if (!buffer.hasRemaining()) {
                throw new IOException("greeting longer than " + MAX_BYTES + " bytes");
            }
        }
    }

    /**
     * The code of the reply in {@code bytes} once its last line has arrived (RFC 959 §4.2: "ddd text",
     * or "ddd-text" ... "ddd text"), else {@link #INCOMPLETE} or {@link #MALFORMED}.
     */
    static int code(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        if (text.length() >= 3 && !isCode(text.substring(0, 3))) {
            return MALFORMED;
        }
        if (text.length() >= 4 && text.charAt(3) != ' ' && text.charAt(3) != '-' && text.charAt(3) != '\r') {
            return MALFORMED;
        }
        int lineStart = 0;
        while (true) {
            int end = text.indexOf('\n', lineStart);
            if (end < 0) {
                return INCOMPLETE;
            }
            String line = text.substring(lineStart, end);
            if (lineStart == 0 && line.length() < 3) {
                return MALFORMED;
            }
            boolean last = lineStart == 0
                    ? line.length() < 4 || line.charAt(3) != '-'
                    : line.startsWith(text.substring(0, 3) + " ");
            if (last) {
                return Integer.parseInt(text.substring(0, 3));
            }
            lineStart = end + 1;
        }
    }

    private static boolean isCode(String s) {
        return s.chars().allMatch(c -> c >= '0' && c <= '9') && s.charAt(0) >= '1' && s.charAt(0) <= '5';
    }
}
