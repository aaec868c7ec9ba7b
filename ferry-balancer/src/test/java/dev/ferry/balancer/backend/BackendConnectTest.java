package dev.ferry.balancer.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.log.SessionLog;
import dev.ferry.runtime.net.Watchdog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The choice of a backend and the opening of its connection are two steps; an operator's drain may
 * come between them. The rolling restart of docs/balancer.md stops a server once its
 * {@code sessions_now} is 0, so a session that was chosen before the drain must either be counted
 * from that moment or go elsewhere.
 */
class BackendConnectTest {

    private final Watchdog watchdog = new Watchdog("backend-connect-test");
    private final SessionLog log = new EventLog(LoggerFactory.getLogger("ferry.balancer"), "test")
            .session("s1", "127.0.0.9");

    @AfterEach
    void stop() {
        watchdog.close();
    }

    @Test
    void aBackendDrainedAfterItWasChosenIsNotOpenedAndTheSessionGoesToAnother() throws Exception {
        Backend s1 = BackendTest.backend("s1", 1);
        Backend s2 = BackendTest.backend("s2", 1);
        // s1 is chosen first, and drained right after the choice, before its connection opens.
        Terms terms = new Terms(List.of(s1, s2), 2, chosen -> {
            if (chosen == s1) {
                s1.setAdminState(AdminState.DRAIN);
            }
        });
        List<String> opened = new ArrayList<>();

        BackendConnect.Opened<String> result = BackendConnect.firstThatOpens(terms, log,
                new InetSocketAddress("127.0.0.9", 40000), "alice", (b, timeout) -> {
                    opened.add(b.name());
                    return "connection to " + b.name();
                });

        assertThat(opened).as("backends whose connection was opened").containsExactly("s2");
        assertThat(result.backend()).isSameAs(s2);
        assertThat(s1.activeSessions()).isZero();
        assertThat(s1.totalSessions()).isZero();
        assertThat(s1.retries()).as("skipping a drained backend is not a retry").isZero();
        assertThat(s2.retries()).as("nor is the one attempt made").isZero();
        assertThat(s2.activeSessions()).isEqualTo(1);
    }

    @Test
    void aDrainAfterTheSecondLookStillSeesTheSessionBeingOpened() throws Exception {
        Backend s1 = BackendTest.backend("s1", 1);
        Terms terms = new Terms(List.of(s1), 1, chosen -> { });
        int[] seenByOperator = new int[1];

        BackendConnect.Opened<String> result = BackendConnect.firstThatOpens(terms, log,
                new InetSocketAddress("127.0.0.9", 40000), "alice", (b, timeout) -> {
                    // The operator drains while the connection is being opened, then reads the count.
                    b.setAdminState(AdminState.DRAIN);
                    seenByOperator[0] = b.activeSessions();
                    return "connection";
                });

        assertThat(result.backend()).isSameAs(s1);
        assertThat(seenByOperator[0]).as("sessions_now while the session's connection opens").isEqualTo(1);
        assertThat(s1.activeSessions()).as("after it opened").isEqualTo(1);
        s1.sessionEnded();
        assertThat(s1.activeSessions()).isZero();
    }

    @Test
    void aBackendTriedAfterOneThatFailedCountsARetryAndTheDrainedSkipDoesNot() throws Exception {
        Backend s1 = BackendTest.backend("s1", 1);
        Backend s2 = BackendTest.backend("s2", 1);
        Backend s3 = BackendTest.backend("s3", 1);
        // s1 refuses; s2 is drained right after it is chosen; s3 takes the session. Two attempts, not three.
        Terms terms = new Terms(List.of(s1, s2, s3), 2, chosen -> {
            if (chosen == s2) {
                s2.setAdminState(AdminState.DRAIN);
            }
        });

        BackendConnect.Opened<String> result = BackendConnect.firstThatOpens(terms, log,
                new InetSocketAddress("127.0.0.9", 40000), null, (b, timeout) -> {
                    if (b == s1) {
                        throw new java.io.IOException("connect refused");
                    }
                    return "connection to " + b.name();
                });

        assertThat(result).as("the drained skip used none of the 2 attempts").isNotNull();
        assertThat(result.backend()).isSameAs(s3);
        assertThat(s1.errors()).isEqualTo(1);
        assertThat(s2.errors()).isZero();
        assertThat(s2.retries()).isZero();
        assertThat(s3.retries()).isEqualTo(1);
    }

    @Test
    void aFailedOpeningLeavesNoSessionCounted() throws Exception {
        Backend s1 = BackendTest.backend("s1", 1);
        Terms terms = new Terms(List.of(s1), 1, chosen -> { });

        BackendConnect.Opened<String> result = BackendConnect.firstThatOpens(terms, log,
                new InetSocketAddress("127.0.0.9", 40000), null, (b, timeout) -> {
                    throw new java.io.IOException("connect refused");
                });

        assertThat(result).isNull();
        assertThat(s1.activeSessions()).isZero();
        assertThat(s1.openingConnections()).isZero();
    }

    /** Chooses the first eligible backend not tried; {@code onChoice} runs right after a choice. */
    private final class Terms implements BackendConnect.Terms {
        private final List<Backend> backends;
        private final int retries;
        private final Consumer<Backend> onChoice;

        Terms(List<Backend> backends, int retries, Consumer<Backend> onChoice) {
            this.backends = backends;
            this.retries = retries;
            this.onChoice = onChoice;
        }

        @Override public Watchdog watchdog() { return watchdog; }
        @Override public Duration connectTimeout() { return Duration.ofSeconds(2); }
        @Override public int retries() { return retries; }
        @Override public BalancerSettings.ProxyProtocol proxyProtocol() { return BalancerSettings.ProxyProtocol.OFF; }
        @Override public InetAddress source() { return null; }

        @Override
        public Backend choose(InetAddress client, String user, Set<Backend> tried) {
            for (Backend b : backends) {
                if (b.eligible() && !tried.contains(b)) {
                    onChoice.accept(b);
                    return b;
                }
            }
            return null;
        }
    }
}
