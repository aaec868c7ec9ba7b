package dev.ferry.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Runs one in-process {@code ferry server} per test, on 127.0.0.1 port 0, serving a fresh temporary
 * directory. Register it with {@code @RegisterExtension}; {@link #configure} changes the settings of
 * every test in the class, {@link #restart} those of one test.
 *
 * <p>Design: the settings start from {@link #defaults(Path)} (fast failed-login delay, no address
 * bans, a short passive accept timeout) so that tests stay fast and independent; a test that is about
 * one of those settings sets it explicitly. The temporary directory holds {@code root/} (what the
 * server serves) and {@code client/} (where external clients read and write their local files).
 *
 * <p>After each test the extension fails the test if the server logged a session ending by an
 * internal error: a client must never be able to provoke a bug, whatever the test asserted.
 */
public final class FerryServerExtension implements BeforeEachCallback, AfterEachCallback, AutoCloseable, FtpService {

    public static final String USER = "alice";
    public static final String PASSWORD = "secret";
    /** A read-only account. */
    public static final String READER = "reader";
    public static final String READER_PASSWORD = "reader-secret";

    /** Failed logins answered after 10 ms, 3 attempts per session, banning off. */
    public static final ServerSettings.LoginPolicy FAST_LOGIN_POLICY = new ServerSettings.LoginPolicy(
            Duration.ofMillis(10), 3, 0, Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofMinutes(15));

    private UnaryOperator<ServerSettings> classConfiguration = UnaryOperator.identity();
    private ObjectStoreFixture objectStore;
    private Path base;
    private Path root;
    private Path clientDir;
    private ServerSettings settings;
    private FtpServer server;
    private ListAppender<ILoggingEvent> problems;
    private ListAppender<ILoggingEvent> sessionLines;

    /** Changes the settings of every test in the class (applied after {@link #defaults}). */
    public FerryServerExtension configure(UnaryOperator<ServerSettings> configuration) {
        this.classConfiguration = configuration;
        return this;
    }

    /**
     * Serves the root from S3 ({@link Shape#OBJECT_STORE}): a fresh prefix of {@code store} per test, whose
     * directory in the store's bucket directory is {@link #root()}, so the test reads and writes the files as on
     * local storage while the server reaches them only over S3. Every (re)start keeps it.
     */
    FerryServerExtension onObjectStore(ObjectStoreFixture store) {
        this.objectStore = store;
        return this;
    }

    /**
     * The test defaults: users {@value #USER} (read-write) and {@value #READER} (read-only), any passive
     * port, a passive accept timeout of 5 s, {@link #FAST_LOGIN_POLICY}.
     */
    public static ServerSettings defaults(Path root) {
        return ServerSettings.defaults(root)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withUsers(List.of(
                        new ServerSettings.UserAccount(USER, Hashes.USER, null, true, true),
                        new ServerSettings.UserAccount(READER, Hashes.READER, null, false, true)), null)
                .withPassive(passiveAcceptTimeout(ServerSettings.Passive.DEFAULTS.withPorts(0, 0), Duration.ofSeconds(5)))
                .withLoginPolicy(FAST_LOGIN_POLICY);
    }

    /** A hashed password, computed once per JVM (Argon2id is deliberately slow). */
    public static String hash(String password) {
        return switch (password) {
            case PASSWORD -> Hashes.USER;
            case READER_PASSWORD -> Hashes.READER;
            default -> PasswordHasher.hash(password.toCharArray());
        };
    }

    public static ServerSettings.Passive passiveAcceptTimeout(ServerSettings.Passive p, Duration timeout) {
        return new ServerSettings.Passive(p.portLow(), p.portHigh(), p.publicAddress(), p.networkAddresses(), timeout);
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        open();
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
    }

    /**
     * What runs before each test: a fresh directory, the log capture and a started server. For a holder
     * that runs the server itself ({@link Shape#DIRECT}); {@link #close} undoes it.
     */
    public void open() throws IOException {
        base = Files.createTempDirectory("ferry-it-");
        root = objectStore == null ? Files.createDirectories(base.resolve("root")) : objectStore.newRoot();
        clientDir = Files.createDirectories(base.resolve("client"));
        problems = new ListAppender<>();
        problems.start();
        ((Logger) LoggerFactory.getLogger("ferry")).addAppender(problems);
        sessionLines = new ListAppender<>();
        sessionLines.start();
        Logger sessionLog = (Logger) LoggerFactory.getLogger("ferry.session");
        sessionLog.setLevel(Level.INFO);
        sessionLog.setAdditive(false);
        sessionLog.addAppender(sessionLines);
        sessionLog.addAppender(problems);
        start(classConfiguration);
    }

    /** Stops the server, removes the directory, and fails if the server logged an internal error. */
    @Override
    public void close() throws IOException {
        try {
            stop();
            List<String> bugs = new ArrayList<>();
            List<ILoggingEvent> logged;
            synchronized (problems) {
                // Sessions still ending may log meanwhile: Logback appends under the appender's lock.
                logged = List.copyOf(problems.list);
            }
            for (ILoggingEvent e : logged) {
                if (e.getLevel().isGreaterOrEqual(Level.WARN) && e.getFormattedMessage().contains("internal error")) {
                    bugs.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : ": " + e.getThrowableProxy().getMessage()));
                }
            }
            if (!bugs.isEmpty()) {
                throw new AssertionError("the server logged internal errors during the test: " + bugs);
            }
        } finally {
            ((Logger) LoggerFactory.getLogger("ferry")).detachAppender(problems);
            Logger sessionLog = (Logger) LoggerFactory.getLogger("ferry.session");
            sessionLog.detachAppender(sessionLines);
            sessionLog.detachAppender(problems);
            sessionLog.setLevel(null);
            sessionLog.setAdditive(true);
            deleteTree(base);
            if (objectStore != null) {
                deleteTree(root);
            }
        }
    }

    /** Stops the server and starts a new one on the same root with {@code configuration} applied to the defaults. */
    public void restart(UnaryOperator<ServerSettings> configuration) throws IOException {
        stop();
        start(configuration);
    }

    private void start(UnaryOperator<ServerSettings> configuration) throws IOException {
        ServerSettings initial = defaults(root);
        if (objectStore != null) {
            // The local root is an empty directory apart from the store's files: were the server to serve the
            // users from local disk instead of S3, the tests' fixture files would be missing and their uploads
            // absent from root(), so every OBJECT_STORE test would fail rather than pass without S3.
            initial = defaults(Files.createDirectories(base.resolve("local-root")))
                    .withObjectStore(objectStore.storeFor(root));
        }
        settings = configuration.apply(initial);
        server = FtpServer.start(settings);
    }

    private void stop() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @Override
    public int port() {
        return server.port();
    }

    /** 127.0.0.1 */
    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public String user() {
        return USER;
    }

    @Override
    public String password() {
        return PASSWORD;
    }

    public FtpServer server() {
        return server;
    }

    public ServerSettings settings() {
        return settings;
    }

    /**
     * The session log lines so far (ferry.session at INFO, as formatted messages). Session INFO lines are
     * captured here instead of printed, so test output stays quiet.
     */
    public List<String> logLines() {
        // Logback appends under the appender's lock while sessions still run: copy under the same lock.
        synchronized (sessionLines) {
            return sessionLines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** The directory served as "/". */
    @Override
    public Path root() {
        return root;
    }

    /** A directory for external clients' local files. */
    @Override
    public Path clientDir() {
        return clientDir;
    }

    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                p.toFile().setWritable(true);
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static final class Hashes {
        static final String USER = PasswordHasher.hash(PASSWORD.toCharArray());
        static final String READER = PasswordHasher.hash(READER_PASSWORD.toCharArray());
    }
}
