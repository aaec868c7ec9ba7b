package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings.ProxyProtocol;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A PROXY protocol mistake is not silent: the balancer (127.0.0.5, its backend connections from the address
 * routing picks, 127.0.0.1) sends headers to servers (127.0.0.2, 127.0.0.3) that trust only 127.0.0.7. The
 * servers used to answer the v2 signature's pieces as commands ("500 Empty command.", then a normal QUIT),
 * and the FTP checks stayed green. Now each server refuses the header with a 421 that names the problem, logs
 * one WARN per address a minute naming the setting, and the checks, which send the same header, go down.
 */
class BalancerProxyMistakeTest {

    private static final List<String> UNTRUSTING = List.of("127.0.0.7/32");

    private BalancerCluster cluster;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
    }

    private void start(ProxyProtocol version, BalancerSettings.CheckType check) throws IOException {
        assumeBindable("127.0.0.5", "127.0.0.2", "127.0.0.3");
        BalancerSettings.Check fast = BalancerCluster.FAST_CHECK;
        cluster = BalancerCluster.start(BalancerCluster.Addresses.SEPARATE,
                (index, s) -> s.withTrustedProxies(UNTRUSTING),
                b -> b.withProxyProtocol(version).withCheck(new BalancerSettings.Check(check, fast.interval(),
                        fast.timeout(), fast.rise(), fast.fall(), fast.user(), fast.password())));
    }

    @ParameterizedTest
    @EnumSource(value = ProxyProtocol.class, names = {"V1", "V2"})
    void ftpChecksGoDownNamingTheProblemAndEachServerWarnsOnce(ProxyProtocol version) throws Exception {
        start(version, BalancerSettings.CheckType.FTP);

        for (int i = 0; i < 2; i++) {
            Backend backend = cluster.backend(i);
            TestData.await(backend.name() + " down", () -> backend.checkState() == CheckState.DOWN);
            assertThat(backend.lastCheck().ok()).isFalse();
            assertThat(backend.lastCheck().detail()).contains("421", "PROXY protocol header refused",
                    "not a trusted proxy");
        }
        // Checks keep coming every 200 ms; the servers keep refusing them, and warn once a minute per address.
        Thread.sleep(1000);
        List<String> warnings = cluster.logLines().stream().filter(l -> l.contains("event=proxy-header-untrusted")).toList();
        assertThat(warnings).as("one WARN per server").hasSize(2);
        assertThat(warnings).allSatisfy(w -> assertThat(w).contains("setting=proxy-protocol.trusted",
                "flag=--proxy-protocol-from", "version=" + version.name().toLowerCase()));
        assertThat(cluster.logLines()).noneMatch(l -> l.contains("Empty command"));
    }

    @ParameterizedTest
    @EnumSource(value = ProxyProtocol.class, names = {"V1", "V2"})
    void aClientHearsTheServersReasonInsteadOfEmptyCommand(ProxyProtocol version) throws Exception {
        // TCP checks cannot see the mistake: the servers stay in service and the session meets it.
        start(version, BalancerSettings.CheckType.TCP);
        Backend first = cluster.backend(0);
        TestData.await("s1 checked", () -> first.lastCheck() != null);

        try (RawFtp ftp = RawFtp.connect(InetAddress.getByName("127.0.0.1"), InetAddress.getByName(cluster.host()),
                cluster.port())) {
            ftp.expect(220);
            RawFtp.Reply reply = ftp.command("USER " + BalancerCluster.USER);
            assertThat(reply.code()).as(reply.toString()).isEqualTo(421);
            assertThat(reply.text()).contains("PROXY protocol header refused", "not a trusted proxy")
                    .doesNotContain("Empty command");
        }
    }

    static void assumeBindable(String... addresses) throws IOException {
        for (String address : addresses) {
            try (Socket probe = new Socket()) {
                probe.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
            } catch (IOException e) {
                Assumptions.abort(address + " cannot be bound here: " + e.getMessage());
            }
        }
    }
}
