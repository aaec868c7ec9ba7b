package dev.ferry.cli;

import dev.ferry.cli.log.LogOutput;
import dev.ferry.config.ConfigException;
import dev.ferry.config.LogSettings;
import dev.ferry.config.ServerConfigFile;
import dev.ferry.config.Setting;
import dev.ferry.config.StateDirectory;
import dev.ferry.config.UsersFile;
import dev.ferry.config.Values;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.password.GeneratedPassword;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings.Tls;
import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ferry server}: a standalone FTP server. Command-line options override the config file. */
@Command(name = "server", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, abbreviateSynopsis = true,
        description = {"Run an FTP server.",
                "With no options it serves ./ftp-root on 127.0.0.1:2121 to one user, ferry, whose random password it prints.",
                "Options override the --config file, which overrides the built-in defaults.",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {"  ferry server --root /srv/ftp --user alice:secret",
                "  ferry server --config /etc/ferry/ferry.yaml",
                "  ferry server --storage s3://ferry/srv --s3-endpoint http://minio:9000 \\",
                "               --s3-path-style --users-file /etc/ferry/users.yaml",
                "  ferry server --listen :21 --root /srv/ftp --users-file /etc/ferry/users.yaml \\",
                "               --passive-ports 40000-40100 --public-address ftp.example.com",
                "",
                "Durations: 500ms, 30s, 5m, 1h, 1d.",
                "SIGHUP (systemctl reload) applies new accounts and certificates.",
                "Every option and YAML key: docs/configuration.md"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"1:could not start (address in use, root missing, bucket unusable, ...)",
                "2:invalid option, configuration file (FILE:LINE:COL) or state directory",
                "130:stopped with Ctrl-C",
                "143:stopped by SIGTERM (kill, systemctl stop)"})
public final class ServerCommand implements Callable<Started> {

    static final Path DEFAULT_ROOT = Path.of("ftp-root");

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file with a server: section.")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Address of the control connection (default 127.0.0.1:2121; :21 listens on every address).")
    String listen;

    @Option(names = "--root", paramLabel = "DIR",
            description = "Directory served as / (default ./ftp-root, created if missing). With --storage s3://... it only names "
                    + "what homes are relative to (default /).")
    Path root;

    @Mixin
    StorageOptions storageOptions = new StorageOptions();

    @Option(names = "--user", paramLabel = "NAME:PASSWORD",
            description = "A read-write user (repeatable), for trials: other local users can see the password in the process list, "
                    + "so use --users-file for real accounts.")
    List<String> users = new ArrayList<>();

    @Option(names = "--users-file", paramLabel = "FILE",
            description = "YAML users file: names, password hashes made by 'ferry passwd', homes, access.")
    Path usersFile;

    @Option(names = "--anonymous", description = "Allow anonymous read-only login (as anonymous or ftp, any password).")
    boolean anonymous;

    @Option(names = "--passive-ports", paramLabel = "LOW-HIGH",
            description = "Ports for passive data connections, e.g. 40000-40100; open them in the firewall (default: any free port).")
    String passivePorts;

    @Option(names = "--public-address", paramLabel = "ADDRESS",
            description = "Address told to PASV clients, an IPv4 address or a host name: set it when they reach the server through NAT "
                    + "(default: the address the client connected to).")
    String publicAddress;

    @Option(names = "--max-sessions", paramLabel = "N",
            description = "Concurrent sessions; more are refused with 421 (default 1000).")
    String maxSessions;

    @Option(names = "--max-sessions-per-address", paramLabel = "N",
            description = "Concurrent sessions from one client address; more are refused with 421 (default 50).")
    String maxSessionsPerAddress;

    @Option(names = "--idle-timeout", paramLabel = "DURATION",
            description = "A session that sends no command for this long is closed with 421 (default 5m).")
    String idleTimeout;

    @Option(names = "--max-upload-rate", paramLabel = "SIZE",
            description = "Bytes per second for all uploads to this server together, e.g. 100MiB; a user's own limit "
                    + "applies as well (default 0: no limit; docs/policy.md).")
    String maxUploadRate;

    @Option(names = "--max-download-rate", paramLabel = "SIZE",
            description = "Bytes per second for all downloads from this server together, e.g. 100MiB (default 0: no limit).")
    String maxDownloadRate;

    @Option(names = "--proxy-protocol-from", paramLabel = "NETWORK",
            description = "Trusted balancer network, e.g. 10.0.1.10/32: its connections must start with a PROXY protocol "
                    + "header (v1 or v2) naming the real client (repeatable; replaces the file's list). Default: off.")
    List<String> proxyProtocolFrom = new ArrayList<>();

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics. No authentication: bind it to loopback "
                    + "or a private network (see docs/metrics.md). Default: off.")
    String metrics;

    @Option(names = "--node", paramLabel = "NAME",
            description = "Name that tags every log line (node=NAME), as HAProxy's node (default: the host name).")
    String node;

    @Option(names = "--umask", paramLabel = "OCTAL",
            description = "Permission bits taken away from the files (0666) and directories (0777) users create: uploads, MKD "
                    + "(default 022: 0644 and 0755; 027 keeps them from other accounts). Set on each file whatever the process umask is.")
    String umask;

    @Option(names = StateDirectory.FLAG, paramLabel = "DIR",
            description = "Where the server keeps what it generates: its self-signed certificate when none is given "
                    + "(default: $STATE_DIRECTORY, which systemd's StateDirectory= sets, else the config file's directory, "
                    + "else the root's parent).")
    Path stateDir;

    @Mixin
    TlsOptions tlsOptions = new TlsOptions();

    @Mixin
    EventOptions eventOptions = new EventOptions();

    @Mixin
    LogOptions logOptions = new LogOptions();

    @Option(names = "--xferlog", paramLabel = "FILE",
            description = "Append one xferlog line per transfer (RETR, STOR, APPE, STOU) to FILE, as wu-ftpd and vsftpd do; "
                    + "rotate it with logrotate's copytruncate (docs/logging.md). Default: none.")
    Path xferlog;

    /** The state directory the last {@link #settings()} chose, and what chose it (for the start's message). */
    private StateDirectory state;

    @Option(names = "--no-tls", description = "Do not offer FTPS (AUTH TLS is answered 502).")
    boolean noTls;

    @Option(names = "--allow-ccc",
            description = "Accept CCC after login: the control connection goes on in clear text (for firewalls that must read it); "
                    + "data stays as PROT says. Refused (534) by default.")
    boolean allowCcc;

    @Option(names = CheckConfig.FLAG, description = CheckConfig.DESCRIPTION)
    boolean checkConfig;

    @Override
    public Started call() {
        ServerSettings settings;
        String generatedPassword = null;
        try {
            // Logging first: the start's own lines already have the chosen shape.
            LogSettings log = logOptions.settings(config, xferlog);
            if (checkConfig) {
                LogOutput.check(log, xferlog != null ? "--xferlog" : "log.xferlog");
            } else {
                LogOutput.apply(log, xferlog != null ? "--xferlog" : "log.xferlog");
            }
            settings = settings();
            // The default ./ftp-root is made at start; a check only says that it would be. An object store has no root
            // directory to make.
            boolean rootMadeAtStart = root == null && config == null && settings.objectStore() == null;
            if (rootMadeAtStart && !checkConfig) {
                Files.createDirectories(settings.root());
            }
            Tls tls = settings.tls();
            if (tls.enabled() && tls.certificate() == null) {
                state.requireWritableForSelfSigned(tls.selfSignedDirectory(),
                        "server.tls.self-signed-directory", "server", "server.tls.cert");
            }
            if (checkConfig) {
                FtpServer.check(settings, rootMadeAtStart);
                CheckConfig.storage(settings);
                CheckConfig.database(settings);
                return CheckConfig.ok("server", config);
            }
            // users: ldap / hook check logins elsewhere: no generated account beside them.
            if (settings.users().isEmpty() && !settings.anonymous().enabled() && settings.accountSource() == null) {
                generatedPassword = GeneratedPassword.next();
                // Random and printed at start, never stored: its in-memory hash need not be costly (hashInMemoryOnly).
                settings = settings.withUsers(List.of(new ServerSettings.UserAccount("ferry",
                        PasswordHasher.hashInMemoryOnly(generatedPassword.toCharArray()), null, true, true)), null);
            }
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("ferry server: " + e.getMessage());
            return Started.failed(2);
        } catch (StateDirectory.Unusable e) {
            System.err.println("ferry server: " + e.getMessage());
            return Started.failed(2);
        } catch (IOException e) {
            System.err.println("ferry server: " + e.getMessage());
            return Started.failed(checkConfig ? CheckConfig.INVALID : 1);
        }

        FtpServer server;
        try {
            server = FtpServer.start(settings);
        } catch (IOException e) {
            System.err.println("ferry server: " + e.getMessage());
            return Started.failed(1);
        }
        Started started = Started.running(server::close);
        ServerSettings first = settings;
        ReloadSignal.install("ferry.server", () -> reload(server, first));
        new Banner(System.out).server(server, settings, generatedPassword);
        return started;
    }

    /** The settings from the defaults, the config file and the flags; read at start and again at each reload. */
    ServerSettings settings() throws ConfigException {
        ServerSettings settings = ServerSettings.defaults(DEFAULT_ROOT.toAbsolutePath());
        if (config != null) {
            settings = ServerConfigFile.load(config, settings);
        }
        settings = applyOptions(settings);
        state = stateDirectory(settings);
        settings = settings.withStateDirectory(state.path());
        return settings.withTls(applyTlsOptions(settings.tls(), state.path()));
    }

    /** --state-dir, server.state-directory, systemd's $STATE_DIRECTORY, else where a run by hand always kept it. */
    private StateDirectory stateDirectory(ServerSettings s) {
        // Beside the root, never inside it, where users could download the key. On an object store the root is no
        // local directory: the current one, where ./ftp-root would have been.
        boolean local = s.objectStore() == null;
        Path fallback = config != null ? config.toAbsolutePath().getParent()
                : local ? s.root().toAbsolutePath().getParent() : Path.of("").toAbsolutePath();
        return StateDirectory.choose("server", stateDir, s.stateDirectory(),
                System.getenv(StateDirectory.VARIABLE), fallback,
                config != null ? "the config file's directory" : local ? "the root's parent directory" : "the current directory");
    }

    /**
     * SIGHUP: the config file, users file and flags are read again; the server applies the accounts and the
     * certificate (see FtpServer.reload). The generated account of a run without users stays.
     */
    private List<String> reload(FtpServer server, ServerSettings running) throws ConfigException, IOException {
        ServerSettings next = settings();
        if (next.users().isEmpty() && !next.anonymous().enabled() && next.accountSource() == null) {
            next = next.withUsers(running.users(), null);
        }
        return server.reload(next);
    }

    private ServerSettings applyOptions(ServerSettings s) throws ConfigException {
        if (listen != null) {
            s = s.withListen(Flags.parse("--listen", listen, Values::hostPort));
        }
        s = s.withObjectStore(storageOptions.apply(s.objectStore()));
        if (root != null) {
            s = s.withRoot(root.toAbsolutePath().normalize());
        } else if (s.objectStore() != null && s.root().equals(DEFAULT_ROOT.toAbsolutePath())) {
            // On an object store the root only names what homes are relative to: "/" unless given.
            s = s.withRoot(Path.of("/"));
        }
        if (usersFile != null) {
            // Replaces the file's accounts, whatever their source (users: database, ldap or hook included).
            s = s.withUsers(UsersFile.load(usersFile, s.root(), s.objectStore()), usersFile).withAccountSource(null);
        }
        if (!users.isEmpty() && s.accountSource() != null) {
            throw new IllegalArgumentException("--user: the config file checks logins with users: "
                    + s.accountSource().kind() + ", which --user accounts cannot join (--users-file replaces it"
                    + (s.accountSource().kind().equals("database") ? "; add accounts with 'ferry users add --config FILE'" : "")
                    + ")");
        }
        if (!users.isEmpty()) {
            List<ServerSettings.UserAccount> accounts = new ArrayList<>(s.users());
            for (String spec : users) {
                ServerSettings.UserAccount account = Flags.parse("--user", spec, Values::serverUser);
                if (accounts.stream().anyMatch(a -> a.name().equals(account.name()))) {
                    throw new IllegalArgumentException("--user " + account.name() + ": user defined twice");
                }
                accounts.add(account);
            }
            s = s.withUsers(accounts, s.usersFile());
        }
        if (anonymous) {
            s = s.withAnonymous(new ServerSettings.Anonymous(true, s.anonymous().home(), s.anonymous().uploadDirectory()));
        }
        if (passivePorts != null) {
            int[] range = Flags.parse("--passive-ports", passivePorts, Values::portRange);
            s = s.withPassive(s.passive().withPorts(range[0], range[1]));
        }
        if (publicAddress != null) {
            s = s.withPassive(s.passive().withPublicAddress(Flags.parse("--public-address", publicAddress, Values::publicAddress)));
        }
        if (metrics != null) {
            s = s.withMetricsListen(Flags.parse("--metrics", metrics, Values::hostPort));
        }
        if (!proxyProtocolFrom.isEmpty()) {
            List<String> trusted = new ArrayList<>();
            for (String network : proxyProtocolFrom) {
                trusted.add(Flags.parse("--proxy-protocol-from", network, Values::cidr));
            }
            s = s.withTrustedProxies(trusted);
        }
        ServerSettings.Limits limits = s.limits();
        if (maxSessions != null) {
            limits = limits.withMaxSessions(Flags.value(Setting.SERVER_MAX_SESSIONS, maxSessions));
        }
        if (maxSessionsPerAddress != null) {
            limits = limits.withMaxSessionsPerAddress(Flags.value(Setting.SERVER_MAX_SESSIONS_PER_ADDRESS, maxSessionsPerAddress));
        }
        if (idleTimeout != null) {
            limits = limits.withIdleTimeout(Flags.value(Setting.SERVER_IDLE_TIMEOUT, idleTimeout));
        }
        limits = BandwidthFlags.apply(limits, maxUploadRate, maxDownloadRate);
        if (umask != null) {
            s = s.withUmask(Flags.value(Setting.SERVER_UMASK, umask));
        }
        if (node != null) {
            s = s.withNode(Flags.parse("--node", node, Values::nodeName));
        }
        s = s.withEvents(eventOptions.apply(s.events()));
        String homes = ServerConfigFile.objectStoreHomeProblem(s);
        if (homes != null) {
            throw new IllegalArgumentException(homes);
        }
        return s.withLimits(limits);
    }

    private Tls applyTlsOptions(Tls tls, Path stateDirectory) {
        if (allowCcc) {
            tls = tls.withAllowCcc(true);
        }
        if (noTls) {
            tls = tls.withEnabled(false);
        }
        Path certificate = tlsOptions.certificate();
        if (certificate != null) {
            tls = tls.withCertificate(certificate, tlsOptions.key());
        }
        if (tlsOptions.passwordFile() != null) {
            tls = tls.withPasswordFile(tlsOptions.passwordFile());
        }
        if (tlsOptions.required()) {
            tls = tls.withPolicy(TlsPolicy.REQUIRED);
        }
        if (tlsOptions.reuse() != null) {
            tls = tls.withReuse(tlsOptions.reuse());
        }
        if (tlsOptions.implicitListen() != null) {
            tls = tls.withImplicitListen(tlsOptions.implicitListen());
        }
        if (tls.selfSignedDirectory() == null) {
            // server.tls.self-signed-directory, the older and narrower key, still wins over the state directory.
            tls = tls.withSelfSignedDirectory(stateDirectory);
        }
        return tls;
    }
}
