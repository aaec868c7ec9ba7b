package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.it.FtpsClients;
import dev.ferry.it.Renegotiation;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A balancer that terminates TLS refuses a client's renegotiation as ferry server does (its client side is
 * ferry server's TLS): the connection fails with handshake_failure, before and after login, and the balancer
 * goes on serving other clients.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BalancerTlsRenegotiationTest {

    private BalancerCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = BalancerCluster.start(s -> s.withTls(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.TERMINATE)));
        Files.writeString(cluster.root().resolve("hello.txt"), "hello\n");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    @ParameterizedTest(name = "after login: {0}")
    @ValueSource(booleans = {false, true})
    void opensslAndJdkRenegotiationsAreRefused(boolean login) throws Exception {
        Renegotiation.Outcome openssl = Renegotiation.openssl(cluster.clientDir(), cluster.port(), login);
        Renegotiation.Outcome jdk = Renegotiation.jdk(cluster.port(), login);

        assertThat(openssl.accepted()).as(openssl.transcript()).isFalse();
        assertThat(openssl.transcript()).contains("RENEGOTIATING", "alert handshake failure");
        assertThat(jdk.accepted()).as(jdk.transcript()).isFalse();
        assertThat(jdk.transcript()).contains("handshake_failure");
        assertThat(FtpsClients.curl(cluster.clientDir(), "--ssl-reqd", "-k", cluster.url() + "/hello.txt")
                .assertSuccess().stdout()).isEqualTo("hello\n");
    }
}
