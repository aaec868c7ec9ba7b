package dev.ferry.balancer.reload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.protocol.ftps.TlsPolicy;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReloadPlanTest {

    private static BackendSpec spec(String name, int port, int weight) {
        return new BackendSpec(name, new InetSocketAddress("127.0.0.1", port), weight);
    }

    private static BalancerSettings settings(BackendSpec... specs) {
        return BalancerSettings.defaults().withBackends(List.of(specs));
    }

    private static List<Backend> running(BalancerSettings s) {
        return s.backends().stream().map(spec -> new Backend(spec, 2, 2)).toList();
    }

    @Test
    void theSameFileChangesNothing() {
        BalancerSettings s = settings(spec("a", 21, 1), spec("b", 22, 1));
        ReloadPlan plan = ReloadPlan.between(running(s), s, s);
        assertThat(plan.backendsUnchanged()).isTrue();
        assertThat(plan.needRestart()).isEmpty();
    }

    @Test
    void addsNewNamesRetiresMissingOnesAndReweightsInPlace() {
        BalancerSettings before = settings(spec("a", 21, 1), spec("b", 22, 1), spec("c", 23, 1));
        List<Backend> running = running(before);
        BalancerSettings after = settings(spec("a", 21, 3), spec("c", 23, 1), spec("d", 24, 1));

        ReloadPlan plan = ReloadPlan.between(running, before, after);

        assertThat(plan.added()).containsExactly(spec("d", 24, 1));
        assertThat(plan.retired()).extracting(Backend::name).containsExactly("b");
        assertThat(plan.reweighted()).isEqualTo(Map.of(running.get(0), 3));
        assertThat(plan.needRestart()).isEmpty();
    }

    @Test
    void aBackendThatMovedIsRetiredAndReplacedUnderItsName() {
        BalancerSettings before = settings(spec("a", 21, 1));
        List<Backend> running = running(before);
        BalancerSettings after = settings(spec("a", 2121, 1));

        ReloadPlan plan = ReloadPlan.between(running, before, after);

        assertThat(plan.retired()).containsExactly(running.getFirst());
        assertThat(plan.added()).containsExactly(spec("a", 2121, 1));
    }

    @Test
    void aNewMaxConnectingReplacesTheBackend() {
        BalancerSettings before = settings(spec("a", 21, 1));
        List<Backend> running = running(before);
        BalancerSettings after = settings(new BackendSpec("a", new InetSocketAddress("127.0.0.1", 21), 1, 4));

        ReloadPlan plan = ReloadPlan.between(running, before, after);

        assertThat(plan.retired()).containsExactly(running.getFirst());
        assertThat(plan.added()).extracting(BackendSpec::maxConnecting).containsExactly(4);
    }

    @Test
    void aNewPassiveRangeReplacesTheBackendSoItsSessionsKeepTheirPorts() {
        BalancerSettings before = settings(spec("a", 21, 1).withPassivePorts(40000, 40049));
        List<Backend> running = running(before);
        BalancerSettings after = settings(spec("a", 21, 1).withPassivePorts(40100, 40149));

        ReloadPlan plan = ReloadPlan.between(running, before, after);

        assertThat(plan.retired()).containsExactly(running.getFirst());
        assertThat(plan.added()).extracting(BackendSpec::passiveLow).containsExactly(40100);
    }

    @Test
    void listsWhatOnlyARestartCanChange() {
        BalancerSettings before = settings(spec("a", 21, 1));
        BalancerSettings after = before.withListen(new InetSocketAddress("127.0.0.1", 2200))
                .withPassivePorts(40000, 40010)
                .withPublicAddress("203.0.113.7")
                .withMaxSessions(10);

        ReloadPlan plan = ReloadPlan.between(running(before), before, after);

        assertThat(plan.needRestart()).containsExactly("listen", "passive-ports", "public-address", "max-sessions/queue");
        assertThat(plan.backendsUnchanged()).isTrue();
    }

    @Test
    void tlsModeImplicitListenerAndBackendProtocolNeedARestartButCertificatesDoNot() {
        BalancerSettings before = settings(spec("a", 21, 1));
        BalancerSettings.Tls tls = before.tls().withMode(BalancerSettings.TlsMode.TERMINATE)
                .withImplicitListen(new InetSocketAddress("127.0.0.1", 990))
                .withBackends(new BalancerSettings.BackendTls(true, null));
        BalancerSettings newCertificate = before.withTls(before.tls().withCertificate(java.nio.file.Path.of("new.pem"), null)
                .withRequire(dev.ferry.protocol.ftps.TlsPolicy.REQUIRED));

        assertThat(ReloadPlan.between(running(before), before, before.withTls(tls)).needRestart())
                .containsExactly("tls.mode", "tls.implicit-listen", "tls.backends");
        assertThat(ReloadPlan.between(running(before), before, newCertificate).needRestart()).isEmpty();
    }
}
