package dev.ferry.balancer.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackendTest {

    static Backend backend(String name, int weight) {
        return new Backend(new BalancerSettings.BackendSpec(name, new InetSocketAddress("127.0.0.1", 2121), weight), 2, 2);
    }

    static CheckResult result(boolean ok) {
        return new CheckResult(ok, ok ? "220 ready" : "connect refused", Duration.ofMillis(3), Instant.now());
    }

    @Test
    void opensAtMostMaxConnectingConnectionsAtOnceAndCountsThemAsLoad() throws Exception {
        Backend b = new Backend(new BalancerSettings.BackendSpec("b1", new InetSocketAddress("127.0.0.1", 2121), 1, 2), 2, 2);
        assertThat(b.beginOpening(Duration.ZERO)).isTrue();
        assertThat(b.beginOpening(Duration.ZERO)).isTrue();
        assertThat(b.beginOpening(Duration.ofMillis(20))).as("a third opening waits, then gives up").isFalse();
        assertThat(b.openingConnections()).isEqualTo(2);
        assertThat(b.load()).isEqualTo(2);
        b.sessionStarted();
        b.endOpening();
        assertThat(b.load()).as("one session, one opening").isEqualTo(2);
        assertThat(b.beginOpening(Duration.ZERO)).isTrue();
        assertThat(b.load()).isEqualTo(3);
    }

    @Test
    void theOperatorChangesTheWeightWithinItsRange() {
        Backend b = backend("b1", 1);
        b.setWeight(7);
        assertThat(b.weight()).isEqualTo(7);
        b.setWeight(0);
        assertThat(b.eligible()).as("weight 0 takes no new sessions").isFalse();
        b.setWeight(Backend.MAX_WEIGHT);
        assertThat(b.eligible()).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.setWeight(Backend.MAX_WEIGHT + 1))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.setWeight(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(b.weight()).isEqualTo(Backend.MAX_WEIGHT);
    }

    @Test
    void startsUpReadyWithoutACheck() {
        Backend b = backend("b1", 1);
        assertThat(b.checkState()).isEqualTo(CheckState.UP);
        assertThat(b.adminState()).isEqualTo(AdminState.READY);
        assertThat(b.lastCheck()).isNull();
        assertThat(b.eligible()).isTrue();
        assertThat(b.name()).isEqualTo("b1");
        assertThat(b.weight()).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0} {1} weight={2} -> eligible={3}")
    @CsvSource({
            "UP,   READY, 1, true",
            "UP,   DRAIN, 1, false",
            "UP,   MAINT, 1, false",
            "DOWN, READY, 1, false",
            "DOWN, MAINT, 1, false",
            "UP,   READY, 0, false",
    })
    void eligibleOnlyWhenUpReadyAndWeighted(CheckState check, AdminState admin, int weight, boolean eligible) {
        Backend b = backend("b1", weight);
        if (check == CheckState.DOWN) {
            b.recordCheck(result(false));
            b.recordCheck(result(false));
        }
        b.setAdminState(admin);
        assertThat(b.checkState()).isEqualTo(check);
        assertThat(b.adminState()).isEqualTo(admin);
        assertThat(b.eligible()).isEqualTo(eligible);
    }

    @Test
    void checkAndAdminStatesAreIndependent() {
        Backend b = backend("b1", 1);
        b.setAdminState(AdminState.MAINT);
        b.recordCheck(result(false));
        b.recordCheck(result(false));
        assertThat(b.checkState()).isEqualTo(CheckState.DOWN);
        b.setAdminState(AdminState.READY);
        assertThat(b.checkState()).isEqualTo(CheckState.DOWN);
        b.recordCheck(result(true));
        b.recordCheck(result(true));
        assertThat(b.checkState()).isEqualTo(CheckState.UP);
        assertThat(b.adminState()).isEqualTo(AdminState.READY);
    }

    @Test
    void recordCheckKeepsTheLastResultAndMovesStateSinceOnAFlip() {
        Backend b = backend("b1", 1);
        Instant before = b.stateSince();
        CheckResult first = result(false);
        b.recordCheck(first);
        assertThat(b.lastCheck()).isSameAs(first);
        assertThat(b.stateSince()).isEqualTo(before);
        CheckResult second = new CheckResult(false, "timeout", Duration.ofSeconds(2), before.plusSeconds(60));
        b.recordCheck(second);
        assertThat(b.checkState()).isEqualTo(CheckState.DOWN);
        assertThat(b.lastCheck()).isSameAs(second);
        assertThat(b.stateSince()).isEqualTo(second.at());
    }

    @Test
    void connectFailuresCountAsErrorsButOnlyChecksMarkABackendDown() {
        Backend b = backend("b1", 1);
        for (int i = 0; i < 10; i++) {
            b.countConnectFailure();
        }
        assertThat(b.errors()).isEqualTo(10);
        assertThat(b.checkState()).isEqualTo(CheckState.UP);
        assertThat(b.lastCheck()).isNull();
    }

    @Test
    void countsSessionsTrafficAndRetries() {
        Backend b = backend("b1", 1);
        b.sessionStarted();
        b.sessionStarted();
        b.sessionEnded();
        assertThat(b.activeSessions()).isEqualTo(1);
        assertThat(b.totalSessions()).isEqualTo(2);
        b.sessionEnded();
        b.sessionEnded();   // one too many must not go negative
        assertThat(b.activeSessions()).isZero();
        b.addBytes(10, 200);
        b.addBytes(5, 0);
        b.countTransfer();
        b.countRetry();
        assertThat(b.bytesUp()).isEqualTo(15);
        assertThat(b.bytesDown()).isEqualTo(200);
        assertThat(b.transfers()).isEqualTo(1);
        assertThat(b.retries()).isEqualTo(1);
    }
}
