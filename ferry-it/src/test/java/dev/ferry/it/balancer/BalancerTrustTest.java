package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The balancer's own trust checks on data connections, which backends cannot make because they only
 * see the balancer: no FTP bounce through PORT/EPRT (RFC 2577 §3), no theft of a passive port by
 * another address (RFC 2577 §6).
 */
class BalancerTrustTest {

    private BalancerCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = BalancerCluster.start(s -> s);
    }

    @AfterEach
    void stop() throws IOException {
        cluster.close();
    }

    @Test
    void activeModeToAThirdPartyAddressIsRefusedAndNotForwarded() throws Exception {
        try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            assertThat(ftp.command("PORT 127,0,0,2,195,80", 501).text()).contains("your own address");
            assertThat(ftp.command("EPRT |1|127.0.0.2|50000|", 501).text()).contains("your own address");
            // Had either gone to the backend, its reply would now arrive ahead of this one.
            ftp.command("NOOP", 200);
            ftp.command("TYPE I", 200);
        }
    }

    @Test
    void aDataConnectionFromAnotherAddressIsClosedAndTheClientStillGetsItsData() throws Exception {
        InetAddress thiefAddress = TestData.secondLoopback();
        byte[] content = TestData.randomFile(cluster.root().resolve("secret.bin"), 300_000, 7);
        try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            ftp.command("TYPE I", 200);
            InetSocketAddress advertised = ftp.pasv();

            assertThat(stealFrom(advertised, thiefAddress)).as("bytes the thief got").isEmpty();

            try (Socket data = new Socket()) {
                data.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
                data.connect(advertised, 5_000);
                data.setSoTimeout(10_000);
                ftp.command("RETR secret.bin", 150);
                byte[] got = data.getInputStream().readAllBytes();
                ftp.expect(226);
                assertThat(TestData.sha256(got)).isEqualTo(TestData.sha256(content));
            }
        }
    }

    /**
     * What a connection from {@code from} gets before the balancer closes it. A reset counts as closed,
     * even one that arrives while connect() is still checking the handshake (the balancer resets at once,
     * so on a busy machine connect() itself can report it); a silent open socket fails.
     */
    private static byte[] stealFrom(InetSocketAddress advertised, InetAddress from) throws IOException {
        try (Socket thief = new Socket()) {
            thief.bind(new InetSocketAddress(from, 0));
            thief.connect(advertised, 5_000);
            thief.setSoTimeout(5_000);
            return thief.getInputStream().readAllBytes();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection from the foreign address was left open", e);
        } catch (SocketException reset) {
            return new byte[0];
        }
    }
}
