package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.BalancerSettings.ProxyProtocol;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.server.session.Session;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The balancer's {@code source} (HAProxy's): every connection to a backend comes from it, control, data and
 * checks alike, so a server trusts that one address. The balancer listens on 127.0.0.5, the servers on
 * 127.0.0.2 and 127.0.0.3, and the source is 127.0.0.9, which routing would never pick (it picks 127.0.0.1).
 */
class BalancerSourceTest {

    private static final String SOURCE = "127.0.0.9";

    private BalancerCluster cluster;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
    }

    private void start(ProxyProtocol version, List<String> trusted) throws IOException {
        BalancerProxyMistakeTest.assumeBindable("127.0.0.5", "127.0.0.2", "127.0.0.3", SOURCE);
        InetAddress source = InetAddress.getByName(SOURCE);
        cluster = BalancerCluster.start(BalancerCluster.Addresses.SEPARATE, (index, s) -> s.withTrustedProxies(trusted),
                b -> b.withProxyProtocol(version).withSource(source));
    }

    @Test
    void aSourceThatIsNotThisHostsStopsTheStartNamingTheSetting() throws Exception {
        // 198.18.0.1 (RFC 2544's benchmarking range) is no address of this host: binding it fails, nothing is sent.
        InetAddress elsewhere = InetAddress.getByName("198.18.0.1");
        assertThatThrownBy(() -> BalancerCluster.start(b -> b.withSource(elsewhere)))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("balancer.source 198.18.0.1 (--source) cannot be used: ")
                .hasMessageContaining("give one of this host's addresses, or leave it out");
    }

    @Test
    void serversSeeTheSourceAddressForSessionsAndData() throws Exception {
        start(ProxyProtocol.OFF, List.of());
        Files.writeString(cluster.root().resolve("hello.txt"), "hello\n");

        try (RawFtp ftp = RawFtp.connect(InetAddress.getByName("127.0.0.1"), InetAddress.getByName(cluster.host()),
                cluster.port())) {
            ftp.expect(220);
            ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
            assertThat(loggedIn().clientAddress()).isEqualTo(InetAddress.getByName(SOURCE));
            // The balancer's data connection to the server comes from the source too, or the server, which
            // takes data connections only from its control connection's peer, would refuse it.
            assertThat(retrieve(ftp, "hello.txt")).isEqualTo("hello\n");
        }
    }

    @Test
    void withThePROXYProtocolTheServerTrustsTheSourceOnlyAndChecksPass() throws Exception {
        InetAddress client = InetAddress.getByName("127.0.0.1");
        start(ProxyProtocol.V2, List.of(SOURCE + "/32"));
        Files.writeString(cluster.root().resolve("hello.txt"), "hello\n");

        // The ftp checks come from 127.0.0.9 too: from 127.0.0.1 the servers would refuse their header.
        for (int i = 0; i < 2; i++) {
            Backend backend = cluster.backend(i);
            TestData.await(backend.name() + " checked", () -> backend.lastCheck() != null);
            assertThat(backend.lastCheck().ok()).as(backend.lastCheck().detail()).isTrue();
            assertThat(backend.checkState()).isEqualTo(CheckState.UP);
        }
        try (RawFtp ftp = RawFtp.connect(client, InetAddress.getByName(cluster.host()), cluster.port())) {
            ftp.expect(220);
            ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
            Session session = loggedIn();
            assertThat(session.clientAddress()).isEqualTo(client);
            assertThat(session.via().getAddress()).isEqualTo(InetAddress.getByName(SOURCE));
            assertThat(retrieve(ftp, "hello.txt")).isEqualTo("hello\n");
        }
        assertThat(cluster.logLines()).noneMatch(l -> l.contains("event=proxy-header-untrusted"));
    }

    private Session loggedIn() {
        List<Session> sessions = new ArrayList<>(cluster.server(0).context().sessions().sessions());
        sessions.addAll(cluster.server(1).context().sessions().sessions());
        return sessions.stream().filter(s -> s.user() != null).findFirst().orElseThrow();
    }

    private static String retrieve(RawFtp ftp, String name) throws IOException {
        int port = ftp.epsv();
        try (Socket data = new Socket(ftp.socket().getInetAddress(), port)) {
            ftp.command("RETR " + name, 150);
            InputStream in = data.getInputStream();
            String content = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            ftp.expect(226);
            return content;
        }
    }
}
