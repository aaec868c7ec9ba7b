package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.PipeConnection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The client side of a {@link PipeConnection}: writes command lines and reads whole replies (RFC 959
 * §4.2 multi-line replies included) with bounded waits. A reader thread splits the server's output
 * at CRLF; a line ended by a bare LF is recorded with a marker so that exact assertions fail on it.
 */
final class ControlClient implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(5);
    private static final String END_OF_STREAM = "<end of stream>";

    final Session session;
    final Thread thread;
    private final PipeConnection connection;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Thread reader;

    ControlClient(Session session, Thread thread, PipeConnection connection) {
        this.session = session;
        this.thread = thread;
        this.connection = connection;
        this.reader = Thread.ofVirtual().name("test-client-reader").start(this::readLines);
    }

    private void readLines() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try {
            while (connection.clientInput().read(buf) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    if (b != '\n') {
                        line.write(b);
                        continue;
                    }
                    byte[] bytes = line.toByteArray();
                    line.reset();
                    boolean crlf = bytes.length > 0 && bytes[bytes.length - 1] == '\r';
                    String text = new String(bytes, 0, crlf ? bytes.length - 1 : bytes.length, StandardCharsets.UTF_8);
                    lines.add(crlf ? text : "<bare LF>" + text);
                }
                buf.clear();
            }
        } catch (IOException e) {
            // closed under us: same as end of stream for the test
        }
        if (line.size() > 0) {
            lines.add("<unterminated>" + line.toString(StandardCharsets.UTF_8));
        }
        lines.add(END_OF_STREAM);
    }

    void send(String line) throws IOException {
        sendRaw((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    void sendRaw(byte[] bytes) throws IOException {
        WritableByteChannel out = connection.clientOutput();
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    private String nextLine() throws InterruptedException {
        String line = lines.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(line).as("a reply line within %s", WAIT).isNotNull();
        assertThat(line).as("the server closed the connection instead of replying").isNotEqualTo(END_OF_STREAM);
        return line;
    }

    /** One whole reply, every line as sent without CRLF. */
    List<String> reply() throws InterruptedException {
        List<String> reply = new ArrayList<>();
        String first = nextLine();
        reply.add(first);
        if (first.length() >= 4 && first.charAt(3) == '-') {
            String end = first.substring(0, 3) + " ";
            String line;
            do {
                line = nextLine();
                reply.add(line);
            } while (!line.startsWith(end));
        }
        return reply;
    }

    /** A reply that must be a single line. */
    String replyLine() throws InterruptedException {
        List<String> reply = reply();
        assertThat(reply).as("a single-line reply").hasSize(1);
        return reply.get(0);
    }

    /** Sends a command and returns its single-line reply. */
    String command(String line) throws IOException, InterruptedException {
        send(line);
        return replyLine();
    }

    /** Sends a command and returns its reply, all lines. */
    List<String> commandLines(String line) throws IOException, InterruptedException {
        send(line);
        return reply();
    }

    /** USER and PASS, asserting both steps. */
    void login(String user, String password) throws IOException, InterruptedException {
        assertThat(command("USER " + user)).startsWith("331 ");
        assertThat(command("PASS " + password)).startsWith("230 ");
    }

    /** What the session learns when it asks whether the client ended the control connection (see PipeConnection). */
    void peerEnded(java.util.function.BooleanSupplier answer) {
        connection.peerEnded(answer);
    }

    /** True when the server closed the connection with no further reply and the session thread ended. */
    boolean closedByServer() throws InterruptedException {
        String line = lines.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(line).as("no further reply before the close").isEqualTo(END_OF_STREAM);
        return thread.join(WAIT);
    }

    /** The client closes its ends; true when the session thread ended in reply. */
    boolean hangUp() throws InterruptedException {
        connection.closeClientEnds();
        return thread.join(WAIT);
    }

    @Override
    public void close() throws InterruptedException {
        session.close();
        connection.closeClientEnds();
        boolean ended = thread.join(WAIT);
        reader.join(WAIT);
        assertThat(ended).as("the session thread ends once its connection is closed").isTrue();
    }
}
