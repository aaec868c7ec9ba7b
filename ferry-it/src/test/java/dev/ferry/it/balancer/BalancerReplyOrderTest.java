package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.it.RawFtp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A transfer's final reply reaches the client only after the data and its end: a backend may send 226 as
 * soon as it has handed the last bytes to its socket (this one sends it before them), while the balancer
 * is still relaying them. A client that reads the 226 first may close the data connection early (curl in
 * active mode then fails the transfer). The balancer holds the final reply until the relay's
 * backend-to-client direction has ended. Without that, the 226 overtakes megabytes still in the relay
 * on every one of these transfers.
 */
class BalancerReplyOrderTest {

    private static final int SIZE = 4 * 1024 * 1024;
    private static final int TRANSFERS = 20;

    @Test
    void theFinalReplyFollowsTheWholeDownload() throws Exception {
        try (ReplyFirstBackend backend = new ReplyFirstBackend();
             FtpBalancer balancer = FtpBalancer.start(BalancerSettings.defaults()
                     .withListen(new InetSocketAddress("127.0.0.1", 0)).withPassivePorts(0, 0)
                     .withBackends(List.of(new BalancerSettings.BackendSpec("fake", backend.address(), 1))));
             RawFtp ftp = RawFtp.greeted(balancer.port())) {
            ftp.login("alice", "secret");
            for (int i = 0; i < TRANSFERS; i++) {
                int port = ftp.epsv();
                try (SocketChannel data = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
                    ftp.command("RETR f", 150);
                    Thread reader = Thread.ofVirtual().start(() -> drain(data));
                    ftp.expect(226);
                    // The balancer counts a byte once it has written it to the client: all of them by now.
                    long relayed = balancer.status().sessions().iterator().next().bytesDown();
                    assertThat(relayed).as("bytes relayed to the client before transfer %d's 226", i).isEqualTo((i + 1L) * SIZE);
                    reader.join();
                }
            }
        }
    }

    private static void drain(SocketChannel data) {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        try {
            while (data.read(b) >= 0) {
                b.clear();
            }
        } catch (IOException e) {
            // the test fails on its own assertion
        }
    }

    /** Logs anyone in; RETR answers 150 and 226 first, then sends the data on the passive connection and closes it. */
    private static final class ReplyFirstBackend implements AutoCloseable {
        private final ServerSocket control = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));

        ReplyFirstBackend() throws IOException {
            Thread.ofVirtual().start(this::acceptLoop);
        }

        InetSocketAddress address() {
            return (InetSocketAddress) control.getLocalSocketAddress();
        }

        private void acceptLoop() {
            while (!control.isClosed()) {
                try {
                    Socket c = control.accept();
                    Thread.ofVirtual().start(() -> serve(c));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket socket) {
            ServerSocket passive = null;
            try (socket) {
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
                OutputStream out = socket.getOutputStream();
                send(out, "220 ready");
                String line;
                while ((line = in.readLine()) != null) {
                    String verb = line.split(" ", 2)[0];
                    switch (verb) {
                        case "USER" -> send(out, "331 password please");
                        case "PASS" -> send(out, "230 logged in");
                        case "EPSV" -> {
                            passive = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                            send(out, "229 Entering Extended Passive Mode (|||" + passive.getLocalPort() + "|)");
                        }
                        case "RETR" -> {
                            try (Socket data = passive.accept()) {
                                send(out, "150 here it comes");
                                send(out, "226 done (before the data)");
                                data.getOutputStream().write(new byte[SIZE]);
                            }
                            passive.close();
                        }
                        case "QUIT" -> {
                            send(out, "221 bye");
                            return;
                        }
                        default -> send(out, "200 ok");
                    }
                }
            } catch (IOException e) {
                // the balancer went away
            } finally {
                if (passive != null) {
                    try {
                        passive.close();
                    } catch (IOException ignored) {
                        // closing
                    }
                }
            }
        }

        private static void send(OutputStream out, String reply) throws IOException {
            out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        @Override
        public void close() throws IOException {
            control.close();
        }
    }
}
