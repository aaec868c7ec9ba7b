package dev.ferry.server.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.events.EventSettings.Kind;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Webhook} against a loopback receiver that misbehaves after its status line. */
@Timeout(30)
class WebhookTest {

    private static FileEvent event() throws Exception {
        return new FileEvent(Kind.DELETE, "alice", VirtualPath.of("/a.txt"), null, 3, null, "127.0.0.5:40000", "s1",
                "c7", Instant.parse("2026-12-07T20:00:00Z"));
    }

    /** Reads a request's headers and its Content-Length body. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("request cut short");
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).strip());
            }
        }
        in.readNBytes(length);
    }

    /**
     * A receiver that answers 200 and then never finishes its body (a stuck proxy, a slowloris) must not hold the
     * delivery worker past the timeout: the status is the answer, the body is not waited for.
     */
    @Test
    void aBodyThatNeverEndsDoesNotHoldTheDeliveryPastTheTimeout() throws Exception {
        CountDownLatch answered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<HookAction.Attempt> attempt = new AtomicReference<>();
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread receiver = Thread.ofVirtual().start(() -> {
                try (Socket s = listener.accept()) {
                    readRequest(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    answered.countDown();
                    // the other 998 bytes never come; the connection stays open until the test ends
                    release.await(20, TimeUnit.SECONDS);
                } catch (IOException | InterruptedException e) {
                    // the test's assertions say what went wrong
                }
            });
            Webhook webhook = new Webhook(URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/hook"),
                    Duration.ofSeconds(1));
            try {
                long start = System.nanoTime();
                FileEvent event = event();
                Thread delivery = Thread.ofVirtual().start(() -> {
                    try {
                        attempt.set(webhook.deliver(event));
                    } catch (InterruptedException e) {
                        // no attempt: the assertions below say so
                    }
                });
                boolean done = delivery.join(Duration.ofSeconds(5));
                long ms = (System.nanoTime() - start) / 1_000_000L;
                assertThat(answered.await(0, TimeUnit.SECONDS)).as("the receiver answered").isTrue();
                assertThat(done).as("delivery ended within 5 s of a 1 s timeout (took %d ms)", ms).isTrue();
                // the receiver said 200: it has the event
                assertThat(attempt.get().delivered()).isTrue();
                assertThat(attempt.get().value()).isEqualTo("200");
            } finally {
                release.countDown();
                webhook.close();
                receiver.join(Duration.ofSeconds(5));
            }
        }
    }
}
