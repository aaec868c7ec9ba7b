package dev.ferry.balancer.proxy;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.balancer.policy.BalancePolicy;
import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.PassiveAddressing;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.testkit.PipeConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * One {@link ProxySession} driven in memory: the client is a {@link PipeConnection} the test writes commands to
 * and reads replies from; the backend is a {@link ScriptedBackend} behind the session's {@link BackendDialer}.
 * Data connections, where a test needs them, are real loopback sockets (the balancer's {@link DataPorts} and a
 * listener of the scripted backend's).
 */
final class ProxyHarness implements AutoCloseable {

    static final InetSocketAddress CLIENT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 50000);
    static final InetSocketAddress BALANCER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 21);

    final ScriptedBackend backend;
    final Backend backendEntry;
    final BalancerContext ctx;
    final DataPorts dataPorts;
    final PipeConnection client;
    final ProxySession session;
    private final Watchdog watchdog = new Watchdog("proxy-harness-watchdog");
    private final Thread sessionThread;
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024).flip();

    ProxyHarness(ScriptedBackend backend) throws IOException {
        this(backend, s -> s);
    }

    ProxyHarness(ScriptedBackend backend, UnaryOperator<BalancerSettings> configure) throws IOException {
        this.backend = backend;
        BalancerSettings settings = configure.apply(BalancerSettings.defaults()
                .withBackends(List.of(new BalancerSettings.BackendSpec("s1", backend.address(), 1)))
                .withPassivePorts(0, 0));
        this.backendEntry = new Backend(settings.backends().getFirst(), 1, 1);
        this.dataPorts = new DataPorts(InetAddress.getLoopbackAddress(), 0, 0);
        Admission admission = new Admission(settings.maxSessions(), settings.queue().size(), settings.queue().timeout());
        List<Backend> backends = List.of(backendEntry);
        this.ctx = new BalancerContext(settings, backends, BalancePolicy.of(settings.balance()), watchdog, dataPorts,
                new PassiveAddressing(settings.publicAddress(), settings.networkAddresses()), new BufferPool(16 * 1024, 8),
                admission, new AtomicLong(), ConcurrentHashMap.newKeySet(), null,
                new BalancerMetrics(() -> backends, admission, dataPorts, settings.maxSessions(), settings::maxSessionsPerAddress),
                null, new dev.ferry.runtime.limits.LocalBanList(settings.bans(), java.time.Clock.systemUTC(), "test"),
                new dev.ferry.runtime.limits.LocalSessionLimits("test"));
        this.client = new PipeConnection(BALANCER, CLIENT);
        this.session = new ProxySession(ctx, client, false, backend);
        this.sessionThread = Thread.ofVirtual().start(session);
        assertReply("220 " + settings.greeting());
    }

    /** Sends one or more command lines, as a client that does not wait for replies (pipelining). */
    void send(String... lines) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String l : lines) {
            b.append(l).append("\r\n");
        }
        ByteBuffer out = ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            client.clientOutput().write(out);
        }
    }

    /** The next reply line the client reads (a multi-line reply is several). */
    String line() throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        ReadableByteChannel ch = client.clientInput();
        while (true) {
            if (!in.hasRemaining()) {
                in.clear();
                int n = ch.read(in);
                in.flip();
                if (n < 0) {
                    return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
                }
                continue;
            }
            byte c = in.get();
            if (c == '\n') {
                String s = b.toString(StandardCharsets.UTF_8);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
    }

    /** The next reply, whole: its lines joined by '|'. */
    String reply() throws IOException {
        String first = line();
        if (first == null || first.length() < 4 || first.charAt(3) != '-') {
            return first;
        }
        StringBuilder b = new StringBuilder(first);
        String end = first.substring(0, 3) + " ";
        while (true) {
            String l = line();
            b.append('|').append(l);
            if (l == null || l.startsWith(end)) {
                return b.toString();
            }
        }
    }

    void assertReply(String expected) throws IOException {
        String got = reply();
        if (!expected.equals(got)) {
            throw new AssertionError("expected reply <" + expected + "> but got <" + got + ">");
        }
    }

    /** Sends {@code line} and checks the reply. */
    void command(String line, String expected) throws IOException {
        send(line);
        assertReply(expected);
    }

    /** USER and PASS, both answered by the backend. */
    void login() throws IOException {
        command("USER alice", "331 Password required for alice.");
        command("PASS secret", "230 User alice logged in.");
    }

    /** Waits until the session has ended (both pumps). */
    void awaitEnd() throws InterruptedException {
        if (!sessionThread.join(java.time.Duration.ofSeconds(10))) {
            throw new AssertionError("the session's first thread did not end");
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ctx.live().contains(session) && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        if (ctx.live().contains(session)) {
            throw new AssertionError("the session did not finish");
        }
    }

    @Override
    public void close() {
        client.closeClientEnds();
        backend.close();
        dataPorts.close();
        watchdog.close();
    }
}
