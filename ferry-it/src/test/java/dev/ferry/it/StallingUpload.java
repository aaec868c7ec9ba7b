package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Python ftplib process in the middle of an upload: it logs in, sends {@code command} (STOR, APPE, STOU;
 * REST first when asked), writes {@code first} bytes on the data connection, says so, and then does what
 * the test chose: waits to be killed (kill -9: its kernel ends the data and the control connection at
 * once), resets the data connection (SO_LINGER 0) and reads the reply, or, told {@link #go}, writes
 * {@code rest} more bytes, closes the data connection and reads the reply. The bytes are {@link #content}.
 */
public final class StallingUpload implements AutoCloseable {

    /** What the process does after its first bytes. */
    public enum Then { WAIT, RESET, FINISH }

    private static final String SCRIPT = """
            import ftplib, signal, socket, struct, sys
            signal.alarm(120)  # never outlive the test
            host, port, user, password, command, rest, first, more, then = sys.argv[1:10]
            pattern = bytes(range(256)) * 4096
            def send(conn, start, count):
                sent = 0
                while sent < count:
                    offset = (start + sent) % len(pattern)
                    n = min(len(pattern) - offset, count - sent)
                    conn.sendall(pattern[offset:offset + n])
                    sent += n
            def reply():
                try:
                    return ftp.getresp()
                except ftplib.Error as e:
                    return str(e)
            ftp = ftplib.FTP(timeout=60)
            ftp.connect(host, int(port))
            ftp.login(user, password)
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd(command, rest=None if rest == "-" else int(rest))
            send(conn, 0, int(first))
            print("sent\\t" + first, flush=True)
            if then == "WAIT":
                sys.stdin.read()
            elif then == "RESET":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                print("reply\\t" + reply(), flush=True)
            else:
                sys.stdin.readline()
                send(conn, int(first), int(more))
                conn.close()
                print("reply\\t" + reply(), flush=True)
            """;

    private final Process process;
    private final BlockingQueue<String> lines;

    private StallingUpload(Process process) {
        this.process = process;
        this.lines = ExternalCommand.stdoutLines(process);
    }

    /**
     * Starts the upload from {@code dir} to {@code host:port} and returns once its first {@code first} bytes
     * are written to the data connection ({@code rest}: a REST offset, or -1 for none).
     */
    public static StallingUpload start(Path dir, String host, int port, String command, long rest, long first, long more,
                                       Then then) throws Exception {
        ExternalCommand.requireInstalled("python3");
        Path script = dir.resolve("stalling-upload.py");
        Files.writeString(script, SCRIPT);
        Process p = new ProcessBuilder(List.of("python3", script.toString(), host, Integer.toString(port),
                FerryServerExtension.USER, FerryServerExtension.PASSWORD, command, rest < 0 ? "-" : Long.toString(rest),
                Long.toString(first), Long.toString(more), then.name()))
                .directory(dir.toFile()).redirectError(dir.resolve("stalling-upload.err").toFile()).start();
        StallingUpload upload = new StallingUpload(p);
        String sent = upload.line();
        assertThat(sent).as("the uploader's first bytes (stderr: %s)", upload.stderr(dir)).isEqualTo("sent\t" + first);
        return upload;
    }

    /** kill -9: the process dies with its connections open, and its kernel ends them. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }

    /** FINISH: the rest of the bytes, then the end of the data connection. */
    public void go() throws IOException {
        OutputStream in = process.getOutputStream();
        in.write('\n');
        in.flush();
    }

    /** The reply the client read after its data connection ended (RESET, FINISH). */
    public String reply() throws InterruptedException {
        String line = line();
        assertThat(line).startsWith("reply\t");
        return line.substring("reply\t".length());
    }

    /** The bytes an upload of {@code count} bytes from {@code start} sends (a 256-byte ramp, repeated). */
    public static byte[] content(long start, int count) {
        byte[] bytes = new byte[count];
        for (int i = 0; i < count; i++) {
            bytes[i] = (byte) (start + i);
        }
        return bytes;
    }

    private String line() throws InterruptedException {
        String line = lines.poll(60, TimeUnit.SECONDS);
        assertThat(line).as("a line from the uploader within 60 s").isNotNull();
        return line;
    }

    private String stderr(Path dir) {
        try {
            return Files.readString(dir.resolve("stalling-upload.err"));
        } catch (IOException e) {
            return "(none)";
        }
    }

    @Override
    public void close() throws InterruptedException {
        ExternalCommand.kill(process);
    }
}
