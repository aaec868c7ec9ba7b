package dev.ferry.cli;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.cli.log.LogOutput;
import dev.ferry.config.ConfigException;
import dev.ferry.config.LogSettings;
import dev.ferry.config.Values;
import dev.ferry.runtime.password.GeneratedPassword;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.events.EventSettings;
import dev.ferry.server.fs.ObjectStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ferry cluster}: a balancer and several servers on this machine, sharing one root, with
 * health checks on: the embedded default, ready for any FTP client.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Run a balancer on 127.0.0.1:2121 and N FTP servers behind it, sharing one root directory (or, with",
                "--storage s3://BUCKET[/PREFIX], one object store).",
                "All in this one process, for trials: it prints a user and a random password, the stats page's address",
                "with a password of its own, and stays up until Ctrl-C.",
                "Clients may use FTPS: the balancer terminates TLS (a self-signed certificate kept beside the root, or --tls-cert)",
                "and speaks plain FTP to the servers.",
                ""})
public final class ClusterCommand implements Callable<Started> {

    private static final Values.Range BACKENDS = new Values.Range(1, 16);

    /** The servers listen on 127.0.0.1, so the balancer reaches them from there. */
    private static final String BALANCER_SOURCE = "127.0.0.1/32";
    private static final String ADMIN_USER = "admin";

    @Option(names = "--backends", paramLabel = "N",
            description = "Number of FTP servers behind the balancer, 1 to 16 (default 2).")
    String backends = "2";

    @Option(names = "--root", paramLabel = "DIR",
            description = "Directory the servers share (default ./ftp-root, created if missing). With --storage the servers "
                    + "share the object store instead, and the self-signed certificate is kept in the current directory.")
    Path root;

    /** The servers share one store, as they share one root: each opens its own client to it. */
    @Mixin
    StorageOptions storageOptions = new StorageOptions();

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Client-facing address of the balancer (default 127.0.0.1:2121).")
    String listen;

    @Option(names = "--admin", paramLabel = "HOST:PORT",
            description = "Stats page and admin API (default 127.0.0.1:8080; 'off' for none). User admin, with a password generated for this run.")
    String admin = "127.0.0.1:8080";

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "The balancer's FTPS certificate: a PEM chain with --tls-key, or a PKCS#12 keystore. Default: a self-signed "
                    + "certificate made on the first start beside the root and reused (its SHA-256 fingerprint is printed).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--max-upload-rate", paramLabel = "SIZE",
            description = "Bytes per second for all uploads to each server together, e.g. 100MiB (default 0: no limit).")
    String maxUploadRate;

    @Option(names = "--max-download-rate", paramLabel = "SIZE",
            description = "Bytes per second for all downloads from each server together, e.g. 100MiB (default 0: no limit).")
    String maxDownloadRate;
    /** Every server of the cluster reports the uploads, deletes and renames it serves. */
    @Mixin
    EventOptions eventOptions = new EventOptions();

    @Mixin
    LogOptions logOptions = new LogOptions();

    @Option(names = "--xferlog", paramLabel = "FILE",
            description = "Append one xferlog line per transfer of every server to FILE (docs/logging.md). Default: none.")
    Path xferlog;

    @Override
    public Started call() {
        int count;
        LogSettings log;
        ObjectStore store;
        ServerSettings.Limits limits;
        EventSettings events;
        try {
            count = Flags.parse("--backends", backends, BACKENDS::parse);
            limits = BandwidthFlags.apply(ServerSettings.Limits.DEFAULTS, maxUploadRate, maxDownloadRate);
            store = storageOptions.apply(null);
            events = eventOptions.apply(EventSettings.OFF);
            log = logOptions.settings(null, xferlog);
        } catch (IllegalArgumentException | ConfigException e) {
            System.err.println("ferry cluster: " + e.getMessage());
            return Started.failed(2);
        }
        try {
            LogOutput.apply(log, "--xferlog");
        } catch (IOException e) {
            System.err.println("ferry cluster: " + e.getMessage());
            return Started.failed(1);
        }
        List<FtpServer> servers = new ArrayList<>();
        try {
            Path dir = (root == null ? Path.of("ftp-root") : root).toAbsolutePath().normalize();
            // On an object store there is no directory to make: homes are key prefixes (the root is "/" unless given).
            Path serverRoot = store == null ? dir : root == null ? Path.of("/") : dir;
            if (store == null) {
                Files.createDirectories(dir);
            }
            String password = GeneratedPassword.next();
            // Random and printed at start, never stored: its in-memory hash need not be costly (hashInMemoryOnly).
            ServerSettings.UserAccount user = new ServerSettings.UserAccount("ferry",
                    PasswordHasher.hashInMemoryOnly(password.toCharArray()), null, true, true);
            List<BalancerSettings.BackendSpec> specs = new ArrayList<>();
            for (int i = 1; i <= count; i++) {
                // The balancer tells each server who the client is (PROXY protocol v2, trusted from
                // loopback only, where the balancer connects from): per-address limits and bans then
                // apply to clients, not to the balancer, whose address every session would share.
                ServerSettings s = ServerSettings.defaults(serverRoot)
                        .withObjectStore(store)
                        .withLimits(limits)
                        .withListen(new InetSocketAddress("127.0.0.1", 0))
                        .withUsers(List.of(user), null)
                        .withTrustedProxies(List.of(BALANCER_SOURCE))
                        // Plain FTP behind the balancer, which terminates TLS for the clients.
                        .withTls(ServerSettings.Tls.DEFAULTS.withEnabled(false))
                        // Named as the balancer names it, so that its log lines, the stats page and the
                        // balancer's backend= fields all say the same.
                        .withNode("s" + i)
                        .withEvents(events);
                FtpServer server = FtpServer.start(s);
                servers.add(server);
                specs.add(new BalancerSettings.BackendSpec("s" + i, server.address(), 1));
            }
            BalancerSettings b = BalancerSettings.defaults()
                    .withBackends(specs)
                    .withCheck(new BalancerSettings.Check(BalancerSettings.CheckType.FTP, Duration.ofSeconds(2),
                            Duration.ofSeconds(2), 2, 2, null, null))
                    .withProxyProtocol(BalancerSettings.ProxyProtocol.V2)
                    .withTls(tls(store == null || root != null ? dir : Path.of("").toAbsolutePath().resolve("ftp-root")))
                    .withNode("lb");
            if (listen != null) {
                b = b.withListen(Flags.parse("--listen", listen, Values::hostPort));
            }
            String adminPassword = null;
            if (!admin.equals("off")) {
                adminPassword = GeneratedPassword.next();
                b = b.withAdmin(new AdminSettings(adminAddress(), List.of(new AdminSettings.User(ADMIN_USER,
                        PasswordHasher.hash(adminPassword.toCharArray()), AdminSettings.Role.ADMIN))));
            }
            FtpBalancer balancer = FtpBalancer.start(b);
            AdminServer adminServer;
            try {
                adminServer = b.admin().enabled() ? AdminServer.start(balancer.status(), b.admin(), Map.of("/metrics", balancer.status().metrics().handler())) : null;
            } catch (IOException e) {
                balancer.close();
                throw new IOException(e.getMessage() + " (choose another address with --admin HOST:PORT, or --admin off)", e);
            } catch (RuntimeException e) {
                balancer.close();
                throw e;
            }
            Duration grace = b.timeouts().grace();
            Started started = Started.running(() -> {
                if (adminServer != null) {
                    adminServer.close();
                }
                balancer.stop(grace);
                servers.forEach(FtpServer::close);
            });
            awaitFirstChecks(balancer, b.check());
            new Banner(System.out).cluster(balancer, count, store == null ? dir : store.url(), password, b.tls(), adminServer, ADMIN_USER, adminPassword);
            return started;
        } catch (IOException | IllegalArgumentException e) {
            servers.forEach(FtpServer::close);
            System.err.println("ferry cluster: " + e.getMessage());
            return Started.failed(1);
        }
    }

    /**
     * Waits, within one interval and one timeout, until each server has been checked once: the start-up
     * lines (each server's features, a server found down) then come before the banner, which is the last
     * thing printed, the account and the commands to try readable at the bottom of the terminal.
     */
    private static void awaitFirstChecks(FtpBalancer balancer, BalancerSettings.Check check) {
        long deadline = System.nanoTime() + check.interval().plus(check.timeout()).toNanos();
        try {
            while (System.nanoTime() < deadline
                    && balancer.status().backends().stream().anyMatch(backend -> backend.lastCheck() == null)) {
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * TLS termination at the balancer: the given certificate, else a self-signed one kept beside the root
     * (never inside it, where users could download the key) and reused on the next start.
     */
    private BalancerSettings.Tls tls(Path root) {
        if (tlsKey != null && tlsCert == null) {
            throw new IllegalArgumentException("--tls-key needs --tls-cert (the certificate that goes with the key)");
        }
        BalancerSettings.Tls tls = BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.TERMINATE);
        if (tlsCert != null) {
            return tls.withCertificate(tlsCert.toAbsolutePath(), tlsKey == null ? null : tlsKey.toAbsolutePath());
        }
        Path beside = root.getParent() != null ? root.getParent() : root;
        return tls.withSelfSignedDirectory(beside);
    }

    private InetSocketAddress adminAddress() {
        try {
            return Values.hostPort(admin);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--admin: " + e.getMessage() + "; or off for no admin page", e);
        }
    }
}
