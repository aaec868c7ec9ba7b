package dev.ferry.server.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.testkit.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Real listeners on 127.0.0.1, in a port range that was free when the test started. */
@Timeout(10)
class PassivePortsTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private PassiveListener open(PassivePorts ports) throws IOException {
        PassiveListener listener = ports.open(LOOPBACK);
        if (listener != null) {
            toClose.add(listener);
        }
        return listener;
    }

    @Test
    void portsAreHandedOutRoundRobinSoAReleasedPortIsReusedLast() throws IOException {
        int base = FreePorts.range(3);
        PassivePorts ports = new PassivePorts(base, base + 2);

        PassiveListener first = open(ports);
        PassiveListener second = open(ports);
        first.close();
        PassiveListener third = open(ports);
        PassiveListener fourth = open(ports);

        assertThat(first.port()).isEqualTo(base);
        assertThat(second.port()).isEqualTo(base + 1);
        assertThat(third.port()).as("the released first port is not reused before the rest").isEqualTo(base + 2);
        assertThat(fourth.port()).as("wraps around to the released port").isEqualTo(base);
        assertThat(ports.inUse()).isEqualTo(3);
        assertThat(ports.size()).isEqualTo(3);
    }

    /** A listener that served its connection, as a finished passive transfer leaves it. */
    private static PassiveListener served(PassiveListener listener) throws IOException {
        try (SocketChannel client = SocketChannel.open(new InetSocketAddress(LOOPBACK, listener.port()));
             SocketChannel accepted = listener.accept(LOOPBACK, 5_000, refused -> { })) {
            assertThat(accepted).isNotNull();
        }
        return listener;
    }

    @Test
    void aFullRangeTakesKeptListenersBackOldestFirst() throws IOException {
        int base = FreePorts.range(4);
        PassivePorts ports = new PassivePorts(base, base + 3);
        PassiveListener older = served(open(ports));
        PassiveListener newer = served(open(ports));
        assertThat(older.isOpen()).as("kept while half the range is free").isTrue();
        assertThat(newer.isOpen()).isTrue();
        open(ports);
        open(ports);

        PassiveListener fifth = open(ports);

        assertThat(fifth).as("a kept port is given to a new PASV rather than refusing it").isNotNull();
        assertThat(fifth.port()).isEqualTo(older.port());
        assertThat(older.isOpen()).isFalse();
        assertThat(older.reuse()).as("its session opens a new one").isFalse();
        assertThat(newer.reuse()).isTrue();
        assertThat(open(ports)).as("none kept any more: exhausted").isNull();
    }

    @Test
    void aServedListenerIsNotKeptWhenMoreThanHalfTheRangeIsInUse() throws IOException {
        int base = FreePorts.range(2);
        PassivePorts ports = new PassivePorts(base, base + 1);
        PassiveListener other = open(ports);
        PassiveListener listener = served(open(ports));

        assertThat(listener.isOpen()).isFalse();
        assertThat(ports.inUse()).isEqualTo(1);
        assertThat(other.isOpen()).isTrue();
    }

    @Test
    void exhaustionReturnsNullAtOnce() throws IOException {
        int base = FreePorts.range(2);
        PassivePorts ports = new PassivePorts(base, base + 1);
        open(ports);
        open(ports);

        assertThat(open(ports)).isNull();
        assertThat(open(ports)).isNull();
        assertThat(ports.inUse()).isEqualTo(2);
    }

    @Test
    void closingAListenerReleasesItsPort() throws IOException {
        int base = FreePorts.range(1);
        PassivePorts ports = new PassivePorts(base, base);
        PassiveListener listener = open(ports);
        assertThat(open(ports)).isNull();

        listener.close();

        assertThat(listener.isOpen()).isFalse();
        assertThat(ports.inUse()).isZero();
        PassiveListener again = open(ports);
        assertThat(again.port()).isEqualTo(base);
    }

    @Test
    void closingTwiceDoesNotReleaseAPortThatWasHandedOutAgain() throws IOException {
        int base = FreePorts.range(1);
        PassivePorts ports = new PassivePorts(base, base);
        PassiveListener old = open(ports);
        old.close();
        PassiveListener current = open(ports);

        old.close();

        assertThat(current.isOpen()).isTrue();
        assertThat(ports.inUse()).isEqualTo(1);
        assertThat(open(ports)).isNull();
    }

    @Test
    void aPortHeldByAnotherSocketIsSkipped() throws IOException {
        int base = FreePorts.range(3);
        ServerSocketChannel stranger = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, base + 1));
        toClose.add(stranger);
        PassivePorts ports = new PassivePorts(base, base + 2);

        PassiveListener first = open(ports);
        PassiveListener second = open(ports);

        assertThat(first.port()).isEqualTo(base);
        assertThat(second.port()).isEqualTo(base + 2);
        assertThat(ports.inUse()).as("the port that failed to bind is not kept reserved").isEqualTo(2);
        assertThat(open(ports)).isNull();
        assertThat(ports.inUse()).isEqualTo(2);
    }

    @Test
    void zeroToZeroMeansAnyEphemeralPort() throws IOException {
        PassivePorts ports = new PassivePorts(0, 0);

        PassiveListener a = open(ports);
        PassiveListener b = open(ports);

        assertThat(ports.isEphemeral()).isTrue();
        assertThat(ports.size()).isZero();
        assertThat(a.port()).isPositive().isNotEqualTo(b.port());
        assertThat(ports.inUse()).as("listeners on kernel-chosen ports are counted too").isEqualTo(2);
        a.close();
        a.close();
        assertThat(ports.inUse()).as("a listener closed twice is released once").isEqualTo(1);
        b.close();
        assertThat(ports.inUse()).isZero();
    }

    @ParameterizedTest
    @CsvSource({"0,5", "5,0", "10,5", "-1,5", "1,65536"})
    void invalidRangesAreRefused(int low, int high) {
        assertThatThrownBy(() -> new PassivePorts(low, high))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("invalid passive port range " + low + "-" + high);
    }
}
