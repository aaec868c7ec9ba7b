package dev.ferry.balancer.check;

import dev.ferry.protocol.Reply;
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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The checker's side of an FTP control connection: send a command, read a (possibly multi-line) reply,
 * each read bounded by the check's deadline and by size limits, so a broken or hostile backend can
 * neither hang a check nor fill memory. Timeouts name what was awaited ("timeout awaiting reply to
 * USER") by verb only, so no argument (a password) ever reaches a detail string.
 */
final class ControlConnection implements AutoCloseable {

    static final int MAX_LINE = 4096;
    static final int MAX_REPLY_LINES = 200;

    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private final Instant deadline;
    private String awaiting = "greeting";

    /** Connects from {@code source} (null: routing picks) and sends {@code header} (the backend reads it before it greets). */
    ControlConnection(InetSocketAddress backend, InetAddress source, Instant deadline, CheckHeader header) throws IOException {
        this.socket = Deadlines.connect(backend, source, deadline);
        this.deadline = deadline;
        try {
            header.sendOn(socket);
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends {@code verb} or {@code verb argument}, then reads the reply. */
    Reply command(String verb, String argument) throws IOException {
        String line = argument == null ? verb : verb + " " + argument;
        // Writes are small and the socket buffer takes them whole, so only reads need the deadline.
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        awaiting = "reply to " + verb;
        return read();
    }

    /** Reads one reply (RFC 959 §4.2: "ddd-" opens a multi-line reply, "ddd " with the same code closes it). */
    Reply read() throws IOException {
        String first = readLine();
        int code = codeOf(first);
        if (code < 0 || (first.length() > 3 && first.charAt(3) != ' ' && first.charAt(3) != '-')) {
            throw new IOException("malformed reply awaiting " + awaiting);
        }
        List<String> lines = new ArrayList<>();
        lines.add(textOf(first));
        if (first.length() > 3 && first.charAt(3) == '-') {
            String closing = first.substring(0, 3) + " ";
            while (true) {
                if (lines.size() >= MAX_REPLY_LINES) {
                    throw new IOException("reply too long awaiting " + awaiting);
                }
                String line = readLine();
                if (line.startsWith(closing) || line.equals(first.substring(0, 3))) {
                    lines.add(textOf(line));
                    break;
                }
                lines.add(line);
            }
        }
        return new Reply(code, lines);
    }

    /** After a 234 to AUTH TLS: the rest of the conversation is encrypted (the handshake is bounded by the deadline). */
    void startTls(dev.ferry.balancer.tls.BackendTlsClient tls, InetSocketAddress backend) throws IOException {
        socket.setSoTimeout(Deadlines.remainingMillis(deadline, "TLS handshake"));
        Socket encrypted = tls.socket(socket, backend);
        socket = encrypted;
        in = new BufferedInputStream(encrypted.getInputStream());
        out = encrypted.getOutputStream();
    }

    Instant deadline() {
        return deadline;
    }

    InetSocketAddress remote() {
        return (InetSocketAddress) socket.getRemoteSocketAddress();
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (true) {
            socket.setSoTimeout(Deadlines.remainingMillis(deadline, awaiting));
            int b;
            try {
                b = in.read();
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("timeout awaiting " + awaiting);
            }
            if (b < 0) {
                throw new EOFException("connection closed awaiting " + awaiting);
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.UTF_8);
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("reply line too long awaiting " + awaiting);
            }
            line.write(b);
        }
    }

    private static int codeOf(String line) {
        if (line.length() < 3) {
            return -1;
        }
        for (int i = 0; i < 3; i++) {
            if (line.charAt(i) < '0' || line.charAt(i) > '9') {
                return -1;
            }
        }
        int code = Integer.parseInt(line.substring(0, 3));
        return code >= 100 && code <= 659 ? code : -1;
    }

    private static String textOf(String line) {
        return line.length() > 4 ? line.substring(4) : "";
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing a check connection cannot fail in a way the check cares about.
        }
    }
}
