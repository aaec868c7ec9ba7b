package dev.ferry.balancer.passthrough;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PassiveRangesTest {

    private static BackendSpec backend(String name, int low, int high) {
        return new BackendSpec(name, new InetSocketAddress("127.0.0.2", 2121), 1).withPassivePorts(low, high);
    }

    private static final List<BackendSpec> THREE = List.of(backend("b3", 50000, 50000), backend("b1", 40000, 40049),
            backend("b2", 40050, 40099));

    @ParameterizedTest(name = "port {0} -> {1}")
    @CsvSource(nullValues = "-", value = {
            "39999, -", "40000, b1", "40025, b1", "40049, b1", "40050, b2", "40099, b2", "40100, -",
            "49999, -", "50000, b3", "50001, -", "1, -", "65535, -"})
    void eachPortBelongsToTheBackendWhoseRangeHoldsIt(int port, String owner) {
        assertThat(PassiveRanges.of(THREE).owner(port)).isEqualTo(owner);
    }

    @Test
    void rangesAreListedLowestFirstAndCounted() {
        PassiveRanges ranges = PassiveRanges.of(THREE);

        assertThat(ranges.ranges()).extracting(PassiveRanges.Range::backend).containsExactly("b1", "b2", "b3");
        assertThat(ranges.portCount()).isEqualTo(101);
        assertThat(ranges).hasToString("b1:40000-40049,b2:40050-40099,b3:50000-50000");
    }

    @Test
    void adjacentRangesAreFine() {
        assertThat(PassiveRanges.problems(THREE)).isEmpty();
    }

    @Test
    void aBackendWithoutARangeIsNamed() {
        List<BackendSpec> backends = List.of(backend("b1", 40000, 40049), new BackendSpec("b2",
                new InetSocketAddress("127.0.0.3", 2121), 1));

        assertThat(PassiveRanges.problems(backends)).containsExactly("backend b2 has no passive-ports: in TLS passthrough every "
                + "backend needs its own range (--backend b2=HOST:PORT,passive-ports=LOW-HIGH, or passive-ports: LOW-HIGH in the file)");
        assertThat(PassiveRanges.of(backends).owner(40000)).isEqualTo("b1");
    }

    @ParameterizedTest(name = "{0}-{1} against 40000-40049")
    @CsvSource({"40049, 40100", "39000, 40000", "40010, 40020", "39000, 41000", "40000, 40049"})
    void overlappingRangesAreNamedWithBothRanges(int low, int high) {
        List<BackendSpec> backends = List.of(backend("b1", 40000, 40049), backend("b2", low, high));

        assertThat(PassiveRanges.problems(backends)).singleElement().asString()
                .startsWith("the passive-ports of backends ").contains("b1 (40000-40049)", "b2 (" + low + "-" + high + ")")
                .endsWith("overlap: in TLS passthrough a data port must name exactly one backend");
    }

    @Test
    void everyOverlappingPairIsReportedNotOnlyNeighbours() {
        List<BackendSpec> backends = List.of(backend("wide", 40000, 40999), backend("a", 40100, 40199),
                backend("b", 40500, 40599));

        assertThat(PassiveRanges.problems(backends)).hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("wide (40000-40999) and a (40100-40199)"))
                .anySatisfy(p -> assertThat(p).contains("wide (40000-40999) and b (40500-40599)"));
    }

    // ---- the whole settings -----------------------------------------------------------------

    private static BalancerSettings passthrough(List<BackendSpec> backends) {
        return BalancerSettings.defaults().withListen(new InetSocketAddress("127.0.0.1", 2121)).withBackends(backends)
                .withTls(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.PASSTHROUGH));
    }

    @ParameterizedTest(name = "balance {0}")
    @CsvSource({"LEASTCONN", "ROUNDROBIN", "SOURCE"})
    void policiesThatNeedNoUserNameAreFine(BalancerSettings.Balance balance) {
        assertThat(Passthrough.problems(passthrough(THREE).withBalance(balance))).isEmpty();
    }

    @Test
    void balancingByUserIsRefusedBecauseTheUserNameIsEncrypted() {
        assertThat(Passthrough.problems(passthrough(THREE).withBalance(BalancerSettings.Balance.USER)))
                .singleElement().asString().startsWith("balance user is impossible in TLS passthrough: the user name travels inside TLS");
    }

    @Test
    void aCertificateOrAnImplicitListenerIsRefusedSinceTheBalancerHoldsNoKey() {
        BalancerSettings s = passthrough(THREE);
        s = s.withTls(s.tls().withCertificate(Path.of("cert.pem"), Path.of("key.pem"))
                .withImplicitListen(new InetSocketAddress("127.0.0.1", 990)));

        assertThat(Passthrough.problems(s)).hasSize(2)
                .anySatisfy(p -> assertThat(p).startsWith("a TLS certificate is given, but in TLS passthrough the balancer holds no key"))
                .anySatisfy(p -> assertThat(p).startsWith("an implicit-FTPS listener is not available in TLS passthrough"));
    }

    @Test
    void aRangeHoldingTheBalancersListenPortIsRefused() {
        BalancerSettings s = passthrough(List.of(backend("b1", 2100, 2199)));

        assertThat(Passthrough.problems(s))
                .containsExactly("the passive-ports of backend b1 (2100-2199) include the balancer's own listen port 2121");
    }

    @Test
    void checkStatesEveryProblemInOneMessage() {
        BalancerSettings s = passthrough(List.of(backend("b1", 40000, 40049), backend("b2", 40040, 40089),
                new BackendSpec("b3", new InetSocketAddress("127.0.0.4", 21), 1))).withBalance(BalancerSettings.Balance.USER);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Passthrough.check(s))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageStartingWith("TLS passthrough: balance user is impossible")
                .hasMessageContaining("; backend b3 has no passive-ports")
                .hasMessageContaining("; the passive-ports of backends b1 (40000-40049) and b2 (40040-40089) overlap");
    }
}
