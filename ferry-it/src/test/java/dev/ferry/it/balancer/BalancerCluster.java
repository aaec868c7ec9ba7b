package dev.ferry.it.balancer;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.it.FerryServerExtension;
import dev.ferry.it.TestData;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import org.slf4j.LoggerFactory;

/**
 * Two in-process servers (s1, s2) sharing one root, with an in-process balancer in front, all on
 * 127.0.0.1 unless {@link Addresses} say otherwise. Servers use {@link FerryServerExtension#defaults}
 * (users alice/reader, 10 ms failed-login delay). A server can be stopped and started again on the same
 * port, for failover tests. Closing fails if anything under the "ferry" logger reported an internal
 * error (a bug a client provoked).
 */
public final class BalancerCluster implements AutoCloseable {

    /** Where the balancer and the servers s1 and s2 listen (port 0 each). */
    public record Addresses(String balancer, String s1, String s2) {
        /** Everything on 127.0.0.1. */
        public static final Addresses LOOPBACK = new Addresses("127.0.0.1", "127.0.0.1", "127.0.0.1");
        /**
         * Each part on its own address, none the client's (127.0.0.1): what a server does with the address
         * a connection reached, or leaves from, shows ({@link dev.ferry.it.Shape#BALANCED}).
         */
        public static final Addresses SEPARATE = new Addresses("127.0.0.5", "127.0.0.2", "127.0.0.3");

        String server(int index) {
            return index == 0 ? s1 : s2;
        }
    }

    static final String USER = FerryServerExtension.USER;
    static final String PASSWORD = FerryServerExtension.PASSWORD;

    /** Fast checks: inter 200 ms, timeout 500 ms, rise 2, fall 2. */
    static final BalancerSettings.Check FAST_CHECK = new BalancerSettings.Check(BalancerSettings.CheckType.FTP,
            Duration.ofMillis(200), Duration.ofMillis(500), 2, 2, null, null);

    private static final List<String> EVENT_LOGGERS = List.of("ferry.balancer", "ferry.session");

    private final Path base;
    private final Path root;
    private final Path clientDir;
    private final FtpServer[] servers = new FtpServer[2];
    private final InetSocketAddress[] addresses = new InetSocketAddress[2];
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Addresses listen;
    /** Server s1's (index 0) or s2's (index 1) settings from the test defaults. */
    private final BiFunction<Integer, ServerSettings, ServerSettings> serverSettings;
    private FtpBalancer balancer;

    private BalancerCluster(Addresses listen, BiFunction<Integer, ServerSettings, ServerSettings> serverSettings)
            throws IOException {
        this.listen = listen;
        this.serverSettings = serverSettings;
        log.start();
        ((Logger) LoggerFactory.getLogger("ferry")).addAppender(log);
        // Session and balancer events (INFO) are kept for logLines(), not printed.
        for (String name : EVENT_LOGGERS) {
            Logger events = (Logger) LoggerFactory.getLogger(name);
            events.setLevel(Level.INFO);
            events.setAdditive(false);
            events.addAppender(log);
        }
        base = Files.createTempDirectory("ferry-it-lb-");
        root = Files.createDirectories(base.resolve("root"));
        clientDir = Files.createDirectories(base.resolve("client"));
    }

    /** Two servers and a balancer with {@code configure} applied to the test's balancer settings. */
    static BalancerCluster start(UnaryOperator<BalancerSettings> configure) throws IOException {
        return start(s -> s, configure);
    }

    /** As {@link #start(UnaryOperator)}, with {@code server} applied to both servers' settings too. */
    static BalancerCluster start(UnaryOperator<ServerSettings> server, UnaryOperator<BalancerSettings> configure)
            throws IOException {
        return startEach((index, s) -> server.apply(s), configure);
    }

    /** As {@link #start(UnaryOperator, UnaryOperator)}, with settings of its own for each server (by index). */
    static BalancerCluster startEach(BiFunction<Integer, ServerSettings, ServerSettings> server,
                                     UnaryOperator<BalancerSettings> configure) throws IOException {
        return start(Addresses.LOOPBACK, server, configure);
    }

    /** As {@link #startEach}, each part listening on its address of {@code listen}. */
    public static BalancerCluster start(Addresses listen, BiFunction<Integer, ServerSettings, ServerSettings> server,
                                        UnaryOperator<BalancerSettings> configure) throws IOException {
        BalancerCluster c = new BalancerCluster(listen, server);
        try {
            for (int i = 0; i < 2; i++) {
                // Named as the balancer names them (and as `ferry cluster` does), so that a test tells the
                // servers' lines from the balancer's by node=.
                ServerSettings defaults = FerryServerExtension.defaults(c.root)
                        .withListen(new InetSocketAddress(listen.server(i), 0))
                        .withNode("s" + (i + 1));
                c.servers[i] = FtpServer.start(server.apply(i, defaults));
                c.addresses[i] = c.servers[i].address();
            }
            BalancerSettings settings = BalancerSettings.defaults()
                    .withListen(new InetSocketAddress(listen.balancer(), 0))
                    .withBackends(List.of(new BalancerSettings.BackendSpec("s1", c.addresses[0], 1),
                            new BalancerSettings.BackendSpec("s2", c.addresses[1], 1)))
                    .withPassivePorts(0, 0)
                    .withCheck(FAST_CHECK)
                    .withNode("lb");
            c.balancer = FtpBalancer.start(configure.apply(settings));
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public int port() {
        return balancer.port();
    }

    /** The balancer's address, where clients connect. */
    public String host() {
        return listen.balancer();
    }

    public String url() {
        return "ftp://" + host() + ":" + port();
    }

    public FtpBalancer balancer() {
        return balancer;
    }

    /** Server s1 (index 0) or s2 (index 1); null while stopped. */
    FtpServer server(int index) {
        return servers[index];
    }

    /** Backend s1 (index 0) or s2 (index 1). */
    Backend backend(int index) {
        return balancer.status().backends().get(index);
    }

    public Path root() {
        return root;
    }

    public Path clientDir() {
        return clientDir;
    }

    /** What the servers and the balancer logged so far (under the "ferry" logger), formatted. */
    public List<String> logLines() {
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** The servers' transfer lines of {@code verb} (node s1, s2), not the balancer's own (node lb). */
    public List<String> serverTransferLines(String verb) {
        return logLines().stream().filter(l -> l.startsWith("node=s") && l.contains(" event=transfer ")
                && l.contains(" cmd=" + verb + " ")).toList();
    }

    void stopServer(int index) {
        servers[index].close();
        servers[index] = null;
    }

    /** Starts server {@code index} again on its old port; the port may linger briefly, so binding is retried for 10 s. */
    void restartServer(int index) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                servers[index] = FtpServer.start(serverSettings.apply(index, FerryServerExtension.defaults(root)
                        .withNode("s" + (index + 1))).withListen(addresses[index]));
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("cannot bind " + addresses[index] + " again", e);
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * {@code count} consecutive ports free on 127.0.0.1 right now, from a random base in 24000-32000, below the kernel's ephemeral range (32768+) so no outgoing connection can take one meanwhile
     * (a few tries: another process may hold some).
     */
    static int freePortRange(int count) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int low = ThreadLocalRandom.current().nextInt(24_000, 32_000 - count);
            if (allFree(low, count)) {
                return low;
            }
        }
        throw new IOException("no " + count + " consecutive free ports in 24000-32000");
    }

    private static boolean allFree(int low, int count) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int p = low; p < low + count; p++) {
                ServerSocket s = new ServerSocket();
                held.add(s);
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), p));
            }
            return true;
        } catch (BindException e) {
            return false;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (balancer != null) {
            balancer.close();
        }
        for (int i = 0; i < 2; i++) {
            if (servers[i] != null) {
                servers[i].close();
            }
        }
        ((Logger) LoggerFactory.getLogger("ferry")).detachAppender(log);
        for (String name : EVENT_LOGGERS) {
            Logger events = (Logger) LoggerFactory.getLogger(name);
            events.detachAppender(log);
            events.setLevel(null);
            events.setAdditive(true);
        }
        TestData.deleteTree(base);
        List<String> bugs = List.copyOf(log.list).stream()
                .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN) && e.getFormattedMessage().contains("internal error"))
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
        if (!bugs.isEmpty()) {
            throw new AssertionError("internal errors were logged during the test: " + bugs);
        }
    }
}
