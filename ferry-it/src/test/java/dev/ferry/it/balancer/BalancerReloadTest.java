package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.reload.ReloadPlan;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A configuration reload on a running balancer: backends added, retired (drained, then gone) and
 * re-weighted while sessions are open; sessions in flight are never dropped.
 */
class BalancerReloadTest {

    private BalancerCluster cluster;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
    }

    private BackendSpec s1() {
        return new BackendSpec("s1", cluster.server(0).address(), 1);
    }

    private BackendSpec s2(int weight) {
        return new BackendSpec("s2", cluster.server(1).address(), weight);
    }

    @Test
    void aRetiredBackendKeepsItsSessionsWhileNewOnesGoToTheAddedOne() throws Exception {
        cluster = BalancerCluster.start(s -> s);
        BalancerSettings started = cluster.balancer().status().settings();
        cluster.balancer().reload(started.withBackends(List.of(s1())));
        assertThat(cluster.balancer().status().backends()).extracting(Backend::name).containsExactly("s1");
        Backend first = cluster.balancer().status().backends().getFirst();

        try (RawFtp old = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            assertThat(first.activeSessions()).isEqualTo(1);

            ReloadPlan plan = cluster.balancer().reload(started.withBackends(List.of(s2(1))));

            assertThat(plan.added()).extracting(BackendSpec::name).containsExactly("s2");
            assertThat(plan.retired()).containsExactly(first);
            assertThat(first.adminState()).isEqualTo(AdminState.DRAIN);
            assertThat(cluster.balancer().status().retiringBackends()).containsExactly(first);
            Backend second = cluster.balancer().status().backends().getFirst();
            assertThat(second.name()).isEqualTo("s2");
            // The session on the retired backend goes on as if nothing happened.
            old.command("NOOP", 200);
            old.command("PWD", 257);
            try (RawFtp fresh = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
                fresh.command("NOOP", 200);
                assertThat(second.activeSessions()).isEqualTo(1);
                assertThat(first.totalSessions()).isEqualTo(1);
            }
            old.command("QUIT", 221);
        }
        TestData.within(Duration.ofSeconds(5), "the retired backend leaves", () -> cluster.balancer().status().retiringBackends().isEmpty());
        assertThat(first.activeSessions()).isZero();
    }

    @Test
    void weightsChangeInPlaceAndWhatNeedsARestartIsNamed() throws Exception {
        cluster = BalancerCluster.start(s -> s);
        BalancerSettings started = cluster.balancer().status().settings();
        Backend s2 = cluster.backend(1);

        ReloadPlan plan = cluster.balancer().reload(started.withBackends(List.of(s1(), s2(5)))
                .withPassivePorts(41000, 41010).withRetries(1));

        assertThat(plan.reweighted()).containsEntry(s2, 5);
        assertThat(plan.added()).isEmpty();
        assertThat(plan.retired()).isEmpty();
        assertThat(plan.needRestart()).containsExactly("passive-ports");
        assertThat(cluster.backend(1)).isSameAs(s2);
        assertThat(s2.weight()).isEqualTo(5);
        // Applied for new sessions; the passive range keeps its running value.
        assertThat(cluster.balancer().status().settings().retries()).isEqualTo(1);
        assertThat(cluster.balancer().status().settings().passiveLow()).isEqualTo(started.passiveLow());
        try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            ftp.command("NOOP", 200);
        }
    }

    @Test
    void checksGoOnForKeptAndAddedBackendsAfterAReload() throws Exception {
        cluster = BalancerCluster.start(s -> s);
        BalancerSettings started = cluster.balancer().status().settings();
        cluster.balancer().reload(started.withBackends(List.of(s1())));
        Backend s1 = cluster.backend(0);

        cluster.balancer().reload(started.withBackends(List.of(s1(), s2(1))));
        Backend s2 = cluster.backend(1);
        // Checked again after the reload: both get a fresh result.
        long s1Checked = s1.lastCheck() == null ? 0 : s1.lastCheck().at().toEpochMilli();
        TestData.within(Duration.ofSeconds(5), "both backends checked after the reload",
                () -> s2.lastCheck() != null && s1.lastCheck() != null && s1.lastCheck().at().toEpochMilli() > s1Checked);
        cluster.stopServer(1);
        TestData.within(Duration.ofSeconds(5), "the added backend is checked down", () -> !s2.eligible());
    }

}
