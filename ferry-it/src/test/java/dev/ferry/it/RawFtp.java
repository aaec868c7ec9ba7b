package dev.ferry.it;

import dev.ferry.testkit.TestCertificates;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * A control connection driven byte by byte, for the tests real clients cannot express: raw bytes,
 * pipelining, Telnet sequences, connections from a chosen local address.
 *
 * <p>The reply reader is strict on purpose and independent of the server's own code: every line must
 * end in CRLF and be valid UTF-8; a reply starts with three digits and a space or hyphen; a multi-line
 * reply ends at the first line that starts with the same code and a space (RFC 959 §4.2). Anything
 * else fails the test with {@link ProtocolViolation}.
 */
public final class RawFtp implements AutoCloseable {

    /** One reply: its code and its lines as sent (without CRLF). */
    public record Reply(int code, List<String> lines) {
        public boolean isMultiLine() {
            return lines.size() > 1;
        }

        /** The first line's text after the code. */
        public String text() {
            return lines.get(0).substring(4);
        }

        @Override
        public String toString() {
            return String.join("\\r\\n", lines);
        }
    }

    /** The server broke the reply grammar. */
    public static final class ProtocolViolation extends AssertionError {
        ProtocolViolation(String message) {
            super(message);
        }
    }

    private static final int MAX_REPLY_LINE = 1 << 20;
    private static final Pattern PASV = Pattern.compile("\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)");
    private static final Pattern EPSV = Pattern.compile("\\(\\|\\|\\|(\\d+)\\|\\)");

    private final Socket socket;
    private InputStream in;
    private OutputStream out;

    private RawFtp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Connects from 127.0.0.1 with a 10 s read timeout; the greeting is not read. */
    public static RawFtp connect(int port) throws IOException {
        return connect(InetAddress.getLoopbackAddress(), InetAddress.getByName("127.0.0.1"), port);
    }

    /** Connects to {@code server}:{@code port} from {@code local} (e.g. 127.0.0.2); the greeting is not read. */
    public static RawFtp connect(InetAddress local, InetAddress server, int port) throws IOException {
        Socket s = new Socket();
        try {
            s.bind(new InetSocketAddress(local, 0));
            s.connect(new InetSocketAddress(server, port), 5_000);
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true);
            return new RawFtp(s);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** Connects and checks the 220 greeting. */
    public static RawFtp greeted(int port) throws IOException {
        RawFtp ftp = connect(port);
        ftp.expect(220);
        return ftp;
    }

    /** Connects, reads the greeting and logs in. */
    public static RawFtp loggedIn(int port, String user, String password) throws IOException {
        RawFtp ftp = greeted(port);
        ftp.login(user, password);
        return ftp;
    }

    /** Connects from 127.0.0.1 to the service, reads the greeting and logs in as its user. */
    public static RawFtp loggedIn(FtpService ftp) throws IOException {
        RawFtp raw = connect(InetAddress.getLoopbackAddress(), InetAddress.getByName(ftp.host()), ftp.port());
        raw.expect(220);
        raw.login(ftp.user(), ftp.password());
        return raw;
    }

    public Socket socket() {
        return socket;
    }

    /** Sends AUTH TLS, expects 234 and switches to TLS (trusting any certificate); the session goes on encrypted. */
    public RawFtp authTls() throws IOException {
        command("AUTH TLS", 234);
        startTls();
        return this;
    }

    /** Runs a TLS client handshake on the connection now (after a 234, or first thing on the implicit listener). */
    public SSLSession startTls() throws IOException {
        SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory().createSocket(socket, "127.0.0.1", socket.getPort(), true);
        tls.setUseClientMode(true);
        tls.startHandshake();
        in = new BufferedInputStream(tls.getInputStream());
        out = tls.getOutputStream();
        return tls.getSession();
    }

    public void timeout(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    /** Sends one command line with CRLF. */
    public void send(String line) throws IOException {
        sendRaw((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Sends bytes exactly as given, in one write. */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public Reply command(String line) throws IOException {
        send(line);
        return reply();
    }

    /** Sends a command and fails unless the reply has {@code code}. */
    public Reply command(String line, int code) throws IOException {
        send(line);
        return expect(code);
    }

    public Reply expect(int code) throws IOException {
        Reply r = reply();
        if (r.code() != code) {
            throw new AssertionError("expected a " + code + " reply, got: " + r);
        }
        return r;
    }

    public void login(String user, String password) throws IOException {
        command("USER " + user, 331);
        command("PASS " + password, 230);
    }

    /** PASV, returning the advertised data address. */
    public InetSocketAddress pasv() throws IOException {
        Reply r = command("PASV", 227);
        Matcher m = PASV.matcher(r.text());
        if (!m.find()) {
            throw new AssertionError("unparsable 227 reply: " + r);
        }
        String host = m.group(1) + "." + m.group(2) + "." + m.group(3) + "." + m.group(4);
        return new InetSocketAddress(host, Integer.parseInt(m.group(5)) * 256 + Integer.parseInt(m.group(6)));
    }

    /** EPSV, returning the data port. */
    public int epsv() throws IOException {
        Reply r = command("EPSV", 229);
        Matcher m = EPSV.matcher(r.text());
        if (!m.find()) {
            throw new AssertionError("unparsable 229 reply: " + r);
        }
        return Integer.parseInt(m.group(1));
    }

    /** Reads one complete reply; EOFException if the server closed the connection before one started. */
    public Reply reply() throws IOException {
        String first = line();
        if (first == null) {
            throw new EOFException("connection closed by the server");
        }
        if (first.length() < 4 || !first.substring(0, 3).chars().allMatch(Character::isDigit)
                || (first.charAt(3) != ' ' && first.charAt(3) != '-')) {
            throw new ProtocolViolation("not a reply line: '" + first + "'");
        }
        int code = Integer.parseInt(first.substring(0, 3));
        if (code < 100 || code > 599) {
            throw new ProtocolViolation("reply code out of range: '" + first + "'");
        }
        List<String> lines = new ArrayList<>();
        lines.add(first);
        if (first.charAt(3) == '-') {
            String end = first.substring(0, 3) + " ";
            while (true) {
                String next = line();
                if (next == null) {
                    throw new ProtocolViolation("connection closed inside a multi-line reply: " + lines);
                }
                lines.add(next);
                if (next.startsWith(end)) {
                    break;
                }
            }
        }
        return new Reply(code, List.copyOf(lines));
    }

    /** True when the server closes the connection within the read timeout with no further bytes. */
    public boolean closedByServer() throws IOException {
        try {
            int b = in.read();
            if (b >= 0) {
                throw new AssertionError("expected the connection to close, got more data starting with " + b);
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    /** One CRLF-terminated line, or null at end of stream before any byte. */
    private String line() throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(128);
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (buffer.size() == 0) {
                    return null;
                }
                throw new ProtocolViolation("connection closed inside a reply line: '" + buffer.toString(StandardCharsets.UTF_8) + "'");
            }
            if (b == '\n') {
                if (previous != '\r') {
                    throw new ProtocolViolation("reply line ended by a bare LF: '" + buffer.toString(StandardCharsets.UTF_8) + "'");
                }
                byte[] bytes = buffer.toByteArray();
                return decode(bytes, bytes.length - 1);
            }
            if (previous == '\r') {
                throw new ProtocolViolation("bare CR inside a reply line: '" + buffer.toString(StandardCharsets.UTF_8) + "'");
            }
            if (buffer.size() == MAX_REPLY_LINE) {
                throw new ProtocolViolation("reply line longer than " + MAX_REPLY_LINE + " bytes");
            }
            buffer.write(b);
            previous = b;
        }
    }

    private static String decode(byte[] bytes, int length) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolViolation("reply line is not valid UTF-8");
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
