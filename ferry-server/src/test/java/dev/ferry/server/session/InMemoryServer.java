package dev.ferry.server.session;

import dev.ferry.runtime.limits.BanList;
import dev.ferry.runtime.limits.LocalBanList;
import dev.ferry.runtime.limits.LocalSessionLimits;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.PassiveAddressing;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.ServerContext;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.ServerSettings.Limits;
import dev.ferry.server.ServerSettings.LoginPolicy;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.auth.Authenticator;
import dev.ferry.server.data.PassivePorts;
import dev.ferry.server.fs.HomeStorage;
import dev.ferry.server.fs.StorageEngine;
import dev.ferry.server.fs.StorageEngines;
import dev.ferry.server.metrics.ServerMetrics;
import dev.ferry.testkit.PipeConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Sessions over {@link PipeConnection}s that share one {@link ServerContext}, built the way
 * FtpServer builds it. No listening socket: each {@link #connect()} starts a session on a virtual
 * thread, as the acceptor would.
 */
final class InMemoryServer implements AutoCloseable {

    static final InetSocketAddress SERVER_ADDRESS = socketAddress("127.0.0.1", 21);
    static final InetSocketAddress CLIENT_ADDRESS = socketAddress("127.0.0.1", 40000);

    static final String PASSWORD = "secret";
    // Cheap Argon2id parameters: these tests are about the session, not about hashing cost.
    static final String HASH = PasswordHasher.hash(PASSWORD.toCharArray(), 8, 1, 1);

    /** alice may write, reader may not, mallory is disabled; anonymous logins are on (read-only). */
    static ServerSettings settings(Path root) {
        List<UserAccount> users = List.of(
                new UserAccount("alice", HASH, null, true, true),
                new UserAccount("reader", HASH, null, false, true),
                new UserAccount("mallory", HASH, null, true, false));
        return ServerSettings.defaults(root)
                .withUsers(users, null)
                .withAnonymous(new Anonymous(true, null))
                .withLimits(new Limits(100, 10, Duration.ofSeconds(30), Duration.ofSeconds(10), 256,
                        Duration.ofSeconds(30)))
                .withLoginPolicy(new LoginPolicy(Duration.ZERO, 3, 0, Duration.ofMinutes(5),
                        Duration.ofMinutes(15), Duration.ofMinutes(15)));
    }

    final ServerSettings settings;
    final ServerContext context;
    private final List<ControlClient> clients = new ArrayList<>();

    InMemoryServer(ServerSettings settings) {
        this(settings, StorageEngines.of(new HomeStorage()));
    }

    /** With the homes' storage made by {@code storage} (a test's own engine). */
    InMemoryServer(ServerSettings settings, StorageEngine storage) {
        this(settings, StorageEngines.of(storage));
    }

    /** With these storage engines: the server's, and those of accounts with a storage of their own. */
    InMemoryServer(ServerSettings settings, StorageEngines storage) {
        this(settings, storage, new LocalSessionLimits(settings.node()));
    }

    /** With these session counts (a shared store's, or one that fails). */
    InMemoryServer(ServerSettings settings, StorageEngines storage, SessionLimits sessionLimits) {
        this(settings, storage, sessionLimits,
                new LocalBanList(settings.loginPolicy().banRules(), Clock.systemUTC(), settings.node()));
    }

    /** With these session counts and this ban list. */
    InMemoryServer(ServerSettings settings, StorageEngines storage, SessionLimits sessionLimits, BanList bans) {
        this.settings = settings;
        ServerSettings.Passive passive = settings.passive();
        PassivePorts passivePorts = new PassivePorts(passive.portLow(), passive.portHigh());
        SessionRegistry sessions = new SessionRegistry(settings.limits().maxSessions(), settings.limits().maxSessionsPerAddress());
        this.context = new ServerContext(settings,
                new Authenticator(settings.users(), settings.anonymous(), settings.loginPolicy().credentialCacheTtl()),
                bans,
                sessionLimits,
                new Watchdog("test-watchdog"),
                passivePorts,
                new PassiveAddressing(passive.publicAddress(), passive.networkAddresses()),
                new BufferPool(64 * 1024, 4),
                sessions,
                storage,
                null,   // no IdleParker: a pipe has no selectable channel, so sessions keep their thread
                new ServerMetrics(sessions::count, settings.limits().maxSessions(), bans, passivePorts),
                null);  // no TLS: a pipe cannot carry a handshake (FTPS is tested over sockets)
    }

    ControlClient connect() throws IOException {
        return connect(CLIENT_ADDRESS);
    }

    ControlClient connect(InetSocketAddress client) throws IOException {
        return connect(SERVER_ADDRESS, client);
    }

    /** A session whose control connection came in at {@code local} (a server address) from {@code client}. */
    ControlClient connect(InetSocketAddress local, InetSocketAddress client) throws IOException {
        PipeConnection connection = new PipeConnection(local, client);
        Session session = new Session(context, connection);
        Thread thread = Thread.ofVirtual().name("test-session-" + session.id()).start(session::run);
        ControlClient c = new ControlClient(session, thread, connection);
        clients.add(c);
        return c;
    }

    /**
     * A session relayed by a trusted proxy at {@code proxy} that named {@code client} (as after a PROXY header): the
     * connection's transport peer is the proxy.
     */
    ControlClient connectRelayed(InetSocketAddress client, InetSocketAddress proxy) throws IOException {
        PipeConnection pipe = new PipeConnection(SERVER_ADDRESS, client);
        Connection relayed = new Connection() {
            @Override public InetSocketAddress localAddress() { return pipe.localAddress(); }
            @Override public InetSocketAddress remoteAddress() { return pipe.remoteAddress(); }
            @Override public InetSocketAddress transportPeer() { return proxy; }
            @Override public void shutdownInput() { pipe.shutdownInput(); }
            @Override public boolean peerEnded() { return pipe.peerEnded(); }
            @Override public int read(java.nio.ByteBuffer dst) throws IOException { return pipe.read(dst); }
            @Override public int write(java.nio.ByteBuffer src) throws IOException { return pipe.write(src); }
            @Override public boolean isOpen() { return pipe.isOpen(); }
            @Override public void close() throws IOException { pipe.close(); }
        };
        Session session = new Session(context, relayed);
        Thread thread = Thread.ofVirtual().name("test-session-" + session.id()).start(session::run);
        ControlClient c = new ControlClient(session, thread, pipe);
        clients.add(c);
        return c;
    }

    /** A session past the greeting. */
    ControlClient greeted() throws IOException, InterruptedException {
        ControlClient c = connect();
        c.replyLine();
        return c;
    }

    /** A session logged in as {@code user}. */
    ControlClient loggedIn(String user) throws IOException, InterruptedException {
        ControlClient c = greeted();
        c.login(user, PASSWORD);
        return c;
    }

    @Override
    public void close() throws InterruptedException {
        try {
            for (ControlClient c : clients) {
                c.close();
            }
        } finally {
            context.watchdog().close();
        }
    }

    static InetSocketAddress socketAddress(String literal, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(literal), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
