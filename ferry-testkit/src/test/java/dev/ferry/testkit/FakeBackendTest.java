package dev.ferry.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.proxy.ProxyProtocol;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fake's own script where the tests that use it do not reach: a first command that only looks like a
 * PROXY header, a v2 header (whose signature holds "QUIT\n"), the record kept until the peer closes, and
 * the upload record.
 */
@Timeout(30)
class FakeBackendTest {

    @Test
    void aFirstCommandStartingWithPIsAnsweredAndRecorded() throws Exception {
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.NONE)) {
            try (Client c = new Client(fake.address())) {
                assertThat(c.line()).startsWith("220 ");
                assertThat(c.command("PWD")).isEqualTo("200 OK.");
                assertThat(c.command("QUIT")).startsWith("221 ");
                assertThat(c.line()).as("the backend's end after 221").isNull();
                c.send("after the end\r\n".getBytes(StandardCharsets.US_ASCII));
            }

            FakeBackend.Session s = fake.awaitSessions(1).get(0);
            assertThat(new String(s.sent(), StandardCharsets.US_ASCII)).as("until the client closed")
                    .isEqualTo("PWD\r\nQUIT\r\nafter the end\r\n");
            assertThat(s.proxyHeader()).isNull();
        }
    }

    @Test
    void aV2HeaderIsReadAndKeptAndItsSignatureIsNoQuit() throws Exception {
        ProxyHeader header = new ProxyHeader(new InetSocketAddress("192.0.2.1", 50001), new InetSocketAddress("127.0.0.1", 2121));
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.NONE)) {
            try (Client c = new Client(fake.address())) {
                c.send(ProxyProtocol.encodeV2(header));
                assertThat(c.line()).startsWith("220 ");
                assertThat(c.command("USER a")).startsWith("331 ");
                assertThat(c.command("QUIT")).startsWith("221 ");
            }

            assertThat(fake.awaitSessions(1).get(0).proxyHeader()).isEqualTo(header);
        }
    }

    @Test
    void eachUploadEndIsRecorded() throws Exception {
        try (FakeBackend fake = new FakeBackend(FakeBackend.Fault.NONE); Client c = new Client(fake.address())) {
            assertThat(c.line()).startsWith("220 ");
            for (boolean reset : new boolean[] {false, true}) {
                String pasv = c.command("PASV");
                String[] n = pasv.substring(pasv.indexOf('(') + 1, pasv.indexOf(')')).split(",");
                try (Socket data = new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(n[4]) * 256 + Integer.parseInt(n[5]))) {
                    assertThat(c.command("STOR f")).startsWith("150 ");
                    data.getOutputStream().write(new byte[1000]);
                    if (reset) {
                        data.setSoLinger(true, 0);
                    }
                }
                assertThat(c.line()).startsWith(reset ? "426 " : "226 ");
            }
            assertThat(fake.uploadEnds()).containsExactly(FakeBackend.UploadEnd.END, FakeBackend.UploadEnd.RESET);
        }
    }

    /** A control connection read line by line. */
    private static final class Client implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final OutputStream out;

        Client(InetSocketAddress to) throws IOException {
            socket = new Socket(to.getAddress(), to.getPort());
            socket.setSoTimeout(10_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
        }

        void send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        String line() throws IOException {
            return in.readLine();
        }

        String command(String line) throws IOException {
            send((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            return line();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
