package dev.ferry.it;

import dev.ferry.testkit.TestCertificates;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.SSLSocket;

/**
 * A client asking for TLS renegotiation on an FTPS control connection (explicit, AUTH TLS; TLS 1.2, since
 * TLS 1.3 has none), before or after login, with the two clients that can: {@code openssl s_client}, whose
 * {@code R} command renegotiates, and the JDK's SSLSocket, whose second {@code startHandshake()} does. Either
 * way a NOOP follows: its 200 means the renegotiation was accepted and the session goes on.
 */
public final class Renegotiation {

    private static final Duration STEP = Duration.ofSeconds(10);

    private Renegotiation() {}

    /** What a renegotiating client saw: {@code accepted} when the NOOP after it was answered 200. */
    public record Outcome(boolean accepted, String transcript) {}

    /** {@code openssl s_client -starttls ftp -tls1_2}, then (after login if {@code login}) R and NOOP. */
    public static Outcome openssl(Path dir, int port, boolean login) throws IOException, InterruptedException {
        ExternalCommand.requireInstalled("openssl");
        Path out = Files.createTempFile(dir, "s_client-out-", ".txt");
        Path err = Files.createTempFile(dir, "s_client-err-", ".txt");
        Process p = new ProcessBuilder("openssl", "s_client", "-starttls", "ftp", "-tls1_2", "-crlf",
                "-connect", "127.0.0.1:" + port)
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try (Writer in = new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.US_ASCII)) {
            await(p, out, text -> text.contains("Verify return code"));
            if (login) {
                in.write("USER " + FerryServerExtension.USER + "\nPASS " + FerryServerExtension.PASSWORD + "\n");
                in.flush();
                await(p, out, text -> text.contains("\n230 "));
            }
            // s_client reads the line "R" as its command to renegotiate (not sent to the server).
            in.write("R\n");
            in.flush();
            await(p, err, text -> text.contains("RENEGOTIATING"));
            Thread.sleep(300);
            if (p.isAlive()) {
                in.write("NOOP\n");
                in.flush();
            }
            await(p, out, text -> text.contains("\n200 NOOP"));
        } catch (IOException closedByServer) {
            // s_client ended while being written to: the connection failed
        } finally {
            ExternalCommand.kill(p);
        }
        String stdout = Files.readString(out);
        String transcript = stdout + "\n--- stderr ---\n" + Files.readString(err);
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        return new Outcome(stdout.contains("\n200 NOOP"), transcript);
    }

    /** The JDK's SSLSocket (TLS 1.2): a second {@code startHandshake()} (after login if {@code login}), then NOOP. */
    public static Outcome jdk(int port, boolean login) throws IOException {
        StringBuilder transcript = new StringBuilder();
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            plain.setSoTimeout((int) STEP.toMillis());
            BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = plain.getOutputStream();
            transcript.append(in.readLine()).append('\n');
            out.write("AUTH TLS\r\n".getBytes(StandardCharsets.US_ASCII));
            transcript.append(in.readLine()).append('\n');
            SSLSocket tls = (SSLSocket) TestCertificates.trustAll().getSocketFactory()
                    .createSocket(plain, "127.0.0.1", port, true);
            tls.setUseClientMode(true);
            tls.setEnabledProtocols(new String[] {"TLSv1.2"});
            tls.startHandshake();
            BufferedReader tin = new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream tout = tls.getOutputStream();
            if (login) {
                for (String line : List.of("USER " + FerryServerExtension.USER, "PASS " + FerryServerExtension.PASSWORD)) {
                    tout.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    transcript.append(tin.readLine()).append('\n');
                }
            }
            try {
                tls.startHandshake();   // on an established TLS 1.2 connection: a client-initiated renegotiation
                tout.write("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
                tout.flush();
                String reply = tin.readLine();
                transcript.append(reply).append('\n');
                return new Outcome(reply != null && reply.startsWith("200 "), transcript.toString());
            } catch (IOException refused) {
                transcript.append(refused).append('\n');
                return new Outcome(false, transcript.toString());
            }
        }
    }

    /** Waits (bounded) until {@code file} satisfies {@code done} or the process has ended. */
    private static void await(Process p, Path file, Predicate<String> done) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (System.nanoTime() < deadline) {
            if (done.test(Files.readString(file)) || !p.isAlive()) {
                return;
            }
            Thread.sleep(20);
        }
    }
}
