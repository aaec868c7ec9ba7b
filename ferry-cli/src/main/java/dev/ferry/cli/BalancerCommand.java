package dev.ferry.cli;

import dev.ferry.balancer.BalancerSettings.CheckType;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.balancer.admin.Reloader;
import dev.ferry.cli.log.LogOutput;
import dev.ferry.config.BalancerConfigFile;
import dev.ferry.config.ConfigException;
import dev.ferry.config.LogSettings;
import dev.ferry.config.Setting;
import dev.ferry.config.StateDirectory;
import dev.ferry.config.Values;
import dev.ferry.protocol.ftps.TlsPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ferry balancer}: an FTP-aware load balancer in front of FTP servers. Command-line options override the config file. */
@Command(name = "balancer", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, abbreviateSynopsis = true,
        description = {"Run an FTP-aware load balancer in front of FTP servers.",
                "It proxies control connections, rewrites PASV/EPSV/PORT/EPRT and relays every data connection to its own "
                        + "session's backend, so backends need no public address and no shared passive range.",
                "Options override the --config file, which overrides the built-in defaults.",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {"  ferry balancer --config /etc/ferry/balancer.yaml",
                "  ferry balancer --listen :21 --public-address ftp.example.com \\",
                "                 --passive-ports 40000-40100 --check ftp \\",
                "                 --backend ftp1=10.0.1.11:21 \\",
                "                 --backend ftp2=10.0.1.12:21,weight=2",
                "  ferry balancer --tls-cert /etc/ferry/tls.crt --tls-key /etc/ferry/tls.key \\",
                "                 --require-tls --backend ftp1=10.0.1.11:21 \\",
                "                 --backend ftp2=10.0.1.12:21",
                "",
                "Durations: 500ms, 30s, 5m, 1h, 1d.",
                "Every option and YAML key: docs/configuration.md",
                "How the balancer works: docs/balancer.md"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"1:could not start (the address is in use, ...)",
                "2:invalid option, configuration file (FILE:LINE:COL) or state directory",
                "130:stopped with Ctrl-C, after --grace",
                "143:stopped by SIGTERM (kill, systemctl stop), after --grace"})
public final class BalancerCommand implements Callable<Started> {

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML configuration file with a balancer: section.")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Client-facing address (default 127.0.0.1:2121; :21 listens on every address).")
    String listen;

    @Option(names = "--public-address", paramLabel = "ADDRESS",
            description = "Address told to PASV clients, an IPv4 address or a host name: set it when they reach the balancer through NAT "
                    + "(default: the address the client connected to).")
    String publicAddress;

    @Option(names = "--passive-ports", paramLabel = "LOW-HIGH",
            description = "The balancer's own passive ports, e.g. 40000-40100; open them in the firewall. One port serves many "
                    + "client addresses at once (default: any free port).")
    String passivePorts;

    @Option(names = "--backend", paramLabel = Values.BACKEND_FORM,
            description = "An FTP server behind the balancer (repeatable; replaces the file's backends; at least one, here or in the "
                    + "file). weight: 0..256, share of new sessions (default 1); max-connecting: connections being opened "
                    + "at once (default 32); passive-ports: the backend's own passive range, which TLS passthrough maps to it.")
    List<String> backends = new ArrayList<>();

    @Option(names = "--balance", paramLabel = "ALGORITHM",
            description = "How a backend is chosen: leastconn (default), roundrobin, source (by client address) or user (by user name).")
    String balance;

    @Option(names = "--check", paramLabel = "TYPE",
            description = "Health check: tcp (connect; default), ftp (expect the 220 greeting and a reply to FEAT) or ftp-login (log in and list).")
    String check;

    @Option(names = "--check-user", paramLabel = "NAME:PASSWORD",
            description = "Account for --check ftp-login; it must exist on every backend.")
    String checkUser;

    @Option(names = "--check-interval", paramLabel = "DURATION",
            description = "Time between two checks of one backend (default 10s).")
    String checkInterval;

    @Option(names = "--rise", paramLabel = "N", description = "Successes in a row that mark a backend up (default 2).")
    String rise;

    @Option(names = "--fall", paramLabel = "N", description = "Failures in a row that mark a backend down (default 2).")
    String fall;

    @Option(names = "--max-sessions", paramLabel = "N",
            description = "Concurrent client sessions; more wait in the --queue (default 2000).")
    String maxSessions;

    @Option(names = "--max-sessions-per-address", paramLabel = "N",
            description = "Connections from one client address, sessions and queued ones together; more are refused at once "
                    + "with 421 (default: half of --max-sessions, rounded up).")
    String maxSessionsPerAddress;

    @Option(names = "--login-timeout", paramLabel = "DURATION",
            description = "A client not logged in this long after its greeting is told 421 and closed; commands before the "
                    + "login do not extend it (default 1m).")
    String loginTimeout;

    @Option(names = "--queue", paramLabel = "N",
            description = "Clients over --max-sessions that wait, not yet greeted, for a session (default 200; 0 refuses them at once "
                    + "with 421).")
    String queue;

    @Option(names = StateDirectory.FLAG, paramLabel = "DIR",
            description = "Where the balancer keeps what it generates: a self-signed certificate for TLS termination "
                    + "without one (default: $STATE_DIRECTORY, which systemd's StateDirectory= sets, else the config "
                    + "file's directory, else the working directory).")
    Path stateDir;

    /** The state directory the last {@link #settings()} chose, and what chose it (for the start's message). */
    private StateDirectory state;

    @Option(names = "--grace", paramLabel = "DURATION",
            description = "On SIGTERM, how long sessions in progress may go on before the rest are told 421 and closed (default 30s).")
    String grace;

    @Option(names = "--proxy-protocol", paramLabel = "VERSION",
            description = "PROXY protocol header sent to backends: off (default), v1 or v2.")
    String proxyProtocol;

    @Option(names = "--source", paramLabel = "ADDRESS",
            description = "Local address the balancer's connections to backends come from (control, data, checks), as HAProxy's source; "
                    + "the address backends trust for the PROXY protocol (default: the one routing picks).")
    String source;

    @Option(names = "--node", paramLabel = "NAME",
            description = "Name that tags every log line (node=NAME) and heads the stats page, as HAProxy's node (default: the host name).")
    String node;

    @Option(names = "--admin", paramLabel = "HOST:PORT",
            description = "Listener of the stats page and admin API (default: off; 127.0.0.1:8080 when --admin-user is given).")
    String admin;

    @Mixin
    TlsOptions tlsOptions = new TlsOptions();

    @Option(names = "--tls-mode", paramLabel = "MODE",
            description = "terminate (the balancer holds the certificate and decrypts), passthrough (it never decrypts) or off "
                    + "(default: terminate when --tls-cert is given, else off; terminate without --tls-cert keeps a "
                    + "self-signed certificate beside the config file or in the working directory).")
    String tlsMode;

    @Option(names = "--backend-tls",
            description = "Speak FTPS to the backends too (AUTH TLS, PBSZ 0, PROT P on every session and data connection). "
                    + "Default: plain FTP to the backends.")
    boolean backendTls;

    @Option(names = "--backend-tls-ca", paramLabel = "FILE",
            description = "PEM certificates (the backends' own or their CA's) that --backend-tls checks the backends against. "
                    + "Default: not checked (encrypted, not authenticated; logged at start-up).")
    Path backendTlsCa;

    @Option(names = "--admin-user", paramLabel = Values.ADMIN_USER_FORM,
            description = {"A user of the admin page and API (repeatable; replaces the config file's admin users; role admin unless :read-only).",
                    "The password is hashed at start; prefer balancer.admin.users with a `ferry passwd` hash, which keeps it out of the process list."})
    List<String> adminUsers = new ArrayList<>();

    /** How the command line turns TLS termination on, in messages about combinations that need it. */
    private static final String HOW_TO_TERMINATE = "give --tls-cert (or --tls-mode terminate)";

    @Mixin
    LogOptions logOptions = new LogOptions();

    @Option(names = CheckConfig.FLAG, description = CheckConfig.DESCRIPTION)
    boolean checkConfig;

    @Override
    public Started call() {
        BalancerSettings settings;
        LogSettings log;
        try {
            // The balancer transfers no files of its own: a log.xferlog shared with the server is the server's.
            log = logOptions.settings(config, null).withXferlog(null);
            settings = settings();
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("ferry balancer: " + e.getMessage());
            return Started.failed(2);
        }
        FtpBalancer balancer = null;
        try {
            if (!checkConfig) {
                // Before the start's first line, so that it has the chosen shape too.
                LogOutput.apply(log, "log.xferlog");
            }
            BalancerSettings.Tls tls = settings.tls();
            if (tls.mode() == BalancerSettings.TlsMode.TERMINATE && tls.certificate() == null) {
                state.requireWritableForSelfSigned(tls.selfSignedDirectory(),
                        "balancer.tls.self-signed-directory", "balancer", "balancer.tls.certificate");
            }
            if (checkConfig) {
                FtpBalancer.check(settings);
                return CheckConfig.ok("balancer", config);
            }
            balancer = FtpBalancer.start(settings);
            AdminServer adminServer = settings.admin().enabled()
                    ? AdminServer.start(balancer.status(), settings.admin(), Map.of("/metrics", balancer.status().metrics().handler())) : null;
            FtpBalancer running = balancer;
            // SIGHUP and POST /api/reload read the file (and these flags) again; errors keep the running config.
            Reloader reloader = () -> running.reload(settings());
            if (adminServer != null) {
                adminServer.onReload(reloader);
            }
            ReloadSignal.install("ferry.balancer", () -> reloader.reload().needRestart());
            Started started = Started.running(() -> {
                if (adminServer != null) {
                    adminServer.close();
                }
                running.stop(running.status().settings().timeouts().grace());
            });
            new Banner(System.out).balancer(balancer, settings, adminServer);
            return started;
        } catch (IOException e) {
            if (balancer != null) {
                balancer.close();
            }
            System.err.println("ferry balancer: " + e.getMessage());
            return Started.failed(checkConfig || e instanceof StateDirectory.Unusable ? CheckConfig.INVALID : 1);
        }
    }

    /** The defaults, then the --config file, then the flags; read at start and again at each reload. */
    BalancerSettings settings() throws ConfigException {
        // systemd's state directory goes in as the base, so that the file's tls.mode terminate without a certificate
        // is accepted under the unit; the file's own state-directory overrides it.
        Path systemd = StateDirectory.fromSystemd(System.getenv(StateDirectory.VARIABLE));
        BalancerSettings s = BalancerSettings.defaults().withStateDirectory(systemd);
        if (config != null) {
            s = BalancerConfigFile.load(config, s);
        }
        if (listen != null) {
            s = s.withListen(Flags.parse("--listen", listen, Values::hostPort));
        }
        if (publicAddress != null) {
            s = s.withPublicAddress(Flags.parse("--public-address", publicAddress, Values::publicAddress));
        }
        if (passivePorts != null) {
            int[] r = Flags.parse("--passive-ports", passivePorts, Values::portRange);
            s = s.withPassivePorts(r[0], r[1]);
        }
        if (!backends.isEmpty()) {
            List<BalancerSettings.BackendSpec> specs = new ArrayList<>();
            for (String b : backends) {
                specs.add(backend(b, specs));
            }
            s = s.withBackends(specs);
        }
        if (s.backends().isEmpty()) {
            throw new IllegalArgumentException("no backend: give --backend NAME=HOST:PORT (repeatable)"
                    + (config == null ? " or --config FILE with balancer.backends" : " or list balancer.backends in " + config));
        }
        if (balance != null) {
            s = s.withBalance(Flags.choice("--balance", balance, BalancerSettings.Balance.values()));
        }
        s = s.withCheck(check(s.check()));
        if (maxSessions != null) {
            s = s.withMaxSessions(Flags.value(Setting.BALANCER_MAX_SESSIONS, maxSessions));
        }
        if (maxSessionsPerAddress != null) {
            s = s.withMaxSessionsPerAddress(Flags.value(Setting.BALANCER_MAX_SESSIONS_PER_ADDRESS, maxSessionsPerAddress));
        }
        if (loginTimeout != null) {
            s = s.withTimeouts(s.timeouts().withLogin(Flags.value(Setting.BALANCER_LOGIN_TIMEOUT, loginTimeout)));
        }
        if (queue != null) {
            s = s.withQueue(s.queue().withSize(Flags.value(Setting.QUEUE_SIZE, queue)));
        }
        if (grace != null) {
            s = s.withTimeouts(s.timeouts().withGrace(Flags.value(Setting.GRACE, grace)));
        }
        if (proxyProtocol != null) {
            s = s.withProxyProtocol(Flags.choice("--proxy-protocol", proxyProtocol, BalancerSettings.ProxyProtocol.values()));
        }
        if (source != null) {
            s = s.withSource(Flags.parse("--source", source, Values::sourceAddress));
        }
        if (node != null) {
            s = s.withNode(Flags.parse("--node", node, Values::nodeName));
        }
        state = stateDirectory(s);
        s = s.withStateDirectory(state.path());
        s = s.withTls(tlsSettings(s.tls(), state.path()));
        return s.withAdmin(adminSettings(s.admin()));
    }

    /** --state-dir, balancer.state-directory, systemd's $STATE_DIRECTORY, else where a run by hand always kept it. */
    private StateDirectory stateDirectory(BalancerSettings s) {
        Path configDirectory = config != null ? config.toAbsolutePath().getParent() : null;
        Path fromFile = s.stateDirectory() != null && !s.stateDirectory().equals(
                StateDirectory.fromSystemd(System.getenv(StateDirectory.VARIABLE))) ? s.stateDirectory() : null;
        return StateDirectory.choose("balancer", stateDir, fromFile,
                System.getenv(StateDirectory.VARIABLE),
                configDirectory != null ? configDirectory : Path.of("").toAbsolutePath(),
                configDirectory != null ? "the config file's directory" : "the working directory");
    }

    /** The --check flags over the file's balancer.check. */
    private BalancerSettings.Check check(BalancerSettings.Check c) {
        if (check != null) {
            c = c.withType(Flags.choice("--check", check, CheckType.values()));
        }
        if (checkUser != null) {
            String[] account = Flags.parse("--check-user", checkUser, Values::checkAccount);
            c = c.withUser(account[0]).withPassword(account[1]);
        }
        String problem = Values.checkAccountProblem(c);
        if (problem != null) {
            // The file refuses its own check without an account, so the type came from --check.
            throw new IllegalArgumentException("--check: " + problem);
        }
        if (checkInterval != null) {
            c = c.withInterval(Flags.value(Setting.CHECK_INTERVAL, checkInterval));
        }
        if (rise != null) {
            c = c.withRise(Flags.value(Setting.CHECK_RISE, rise));
        }
        if (fall != null) {
            c = c.withFall(Flags.value(Setting.CHECK_FALL, fall));
        }
        return c;
    }

    /** The --tls-* options over the file's balancer.tls; the combination is checked as the file's is. */
    private BalancerSettings.Tls tlsSettings(BalancerSettings.Tls tls, Path stateDirectory) {
        Path certificate = tlsOptions.certificate();
        if (certificate != null) {
            tls = tls.withCertificate(certificate, tlsOptions.key());
            if (tlsMode == null && tls.mode() == BalancerSettings.TlsMode.OFF) {
                tls = tls.withMode(BalancerSettings.TlsMode.TERMINATE);
            }
        }
        if (tlsOptions.passwordFile() != null) {
            tls = tls.withPasswordFile(tlsOptions.passwordFile());
        }
        if (tlsMode != null) {
            tls = tls.withMode(Flags.choice("--tls-mode", tlsMode, BalancerSettings.TlsMode.values()));
        }
        if (tlsOptions.required()) {
            tls = tls.withRequire(TlsPolicy.REQUIRED);
        }
        if (tlsOptions.reuse() != null) {
            tls = tls.withReuse(tlsOptions.reuse());
        }
        if (tlsOptions.implicitListen() != null) {
            tls = tls.withImplicitListen(tlsOptions.implicitListen());
        }
        if (backendTlsCa != null && !backendTls && !tls.backends().ftps()) {
            throw new IllegalArgumentException("--backend-tls-ca checks FTPS backends: give --backend-tls too");
        }
        if (backendTls || backendTlsCa != null) {
            tls = tls.withBackends(new BalancerSettings.BackendTls(true,
                    backendTlsCa != null ? backendTlsCa.toAbsolutePath() : tls.backends().trustedCertificates()));
        }
        if (tls.mode() == BalancerSettings.TlsMode.TERMINATE && tls.certificate() == null && tls.selfSignedDirectory() == null) {
            // Kept in the state directory and reused on the next start; balancer.tls.self-signed-directory still wins.
            tls = tls.withSelfSignedDirectory(stateDirectory);
        }
        String problem = Values.balancerTlsProblem(tls, HOW_TO_TERMINATE);
        if (problem != null) {
            throw new IllegalArgumentException("tls: " + problem);
        }
        return tls;
    }

    private AdminSettings adminSettings(AdminSettings a) {
        if (!adminUsers.isEmpty()) {
            List<AdminSettings.User> users = new ArrayList<>();
            for (String text : adminUsers) {
                AdminSettings.User user = Flags.parse("--admin-user", text, Values::adminUser);
                if (users.stream().anyMatch(u -> u.name().equals(user.name()))) {
                    throw new IllegalArgumentException("--admin-user " + user.name() + ": name used twice");
                }
                users.add(user);
            }
            a = a.withUsers(users);
            if (a.listen() == null) {
                a = a.withListen(AdminSettings.DEFAULT_LISTEN);
            }
        }
        if (admin != null) {
            a = a.withListen(Flags.parse("--admin", admin, Values::hostPort));
        }
        if (a.enabled() && a.users().isEmpty()) {
            throw new IllegalArgumentException("the admin listener needs a user: --admin-user NAME:PASSWORD"
                    + " or balancer.admin.users in the config file (there is no default password)");
        }
        return a;
    }

    /** One --backend value ({@link Values#backendSpec}); messages start "--backend NAME: ". */
    static BalancerSettings.BackendSpec backend(String text, List<BalancerSettings.BackendSpec> existing) {
        BalancerSettings.BackendSpec spec;
        try {
            spec = Values.backendSpec(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--backend " + e.getMessage(), e);
        }
        if (existing.stream().anyMatch(b -> b.name().equals(spec.name()))) {
            throw new IllegalArgumentException("--backend " + spec.name() + ": name used twice");
        }
        return spec;
    }
}
