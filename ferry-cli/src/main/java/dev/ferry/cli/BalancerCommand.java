package dev.ferry.cli;

import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.Reloader;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.config.BalancerConfigFile;
import dev.ferry.config.ConfigException;
import dev.ferry.config.Values;
import dev.ferry.runtime.password.PasswordHasher;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
                "2:invalid option or configuration file (the message names FILE:LINE:COL)",
                "130:stopped with Ctrl-C, after --grace",
                "143:stopped by SIGTERM (kill, systemctl stop), after --grace"})
public final class BalancerCommand implements Callable<Integer> {

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

    private static final String BACKEND_FORM = "NAME=HOST:PORT[,weight=N][,max-connecting=N][,passive-ports=LOW-HIGH]";

    @Option(names = "--backend", paramLabel = BACKEND_FORM,
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
    Integer rise;

    @Option(names = "--fall", paramLabel = "N", description = "Failures in a row that mark a backend down (default 2).")
    Integer fall;

    @Option(names = "--max-sessions", paramLabel = "N",
            description = "Concurrent client sessions; more wait in the --queue (default 2000).")
    Integer maxSessions;

    @Option(names = "--max-sessions-per-address", paramLabel = "N",
            description = "Connections from one client address, sessions and queued ones together; more are refused at once "
                    + "with 421 (default: half of --max-sessions, rounded up).")
    Integer maxSessionsPerAddress;

    @Option(names = "--login-timeout", paramLabel = "DURATION",
            description = "A client not logged in this long after its greeting is told 421 and closed; commands before the "
                    + "login do not extend it (default 1m).")
    String loginTimeout;

    @Option(names = "--queue", paramLabel = "N",
            description = "Clients over --max-sessions that wait, not yet greeted, for a session (default 200; 0 refuses them at once "
                    + "with 421).")
    Integer queue;

    @Option(names = "--grace", paramLabel = "DURATION",
            description = "On SIGTERM, how long sessions in progress may go on before the rest are told 421 and closed (default 30s).")
    String grace;

    @Option(names = "--proxy-protocol", paramLabel = "VERSION",
            description = "PROXY protocol header sent to backends: off (default), v1 or v2.")
    String proxyProtocol;

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

    private static final String ADMIN_USER_FORM = "NAME:PASSWORD[:admin|:read-only]";

    @Option(names = "--admin-user", paramLabel = ADMIN_USER_FORM,
            description = {"A user of the admin page and API (repeatable; replaces the config file's admin users; role admin unless :read-only).",
                    "The password is hashed at start; prefer balancer.admin.users with a `ferry passwd` hash, which keeps it out of the process list."})
    List<String> adminUsers = new ArrayList<>();

    @Override
    public Integer call() {
        BalancerSettings settings;
        try {
            settings = settings();
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("ferry balancer: " + e.getMessage());
            return 2;
        }
        FtpBalancer balancer = null;
        try {
            balancer = FtpBalancer.start(settings);
            AdminServer adminServer = settings.admin().enabled()
                    ? AdminServer.start(balancer, settings.admin(), Map.of("/metrics", balancer.metrics().handler())) : null;
            FtpBalancer running = balancer;
            // SIGHUP and POST /api/reload read the file (and these flags) again; errors keep the running config.
            Reloader reloader = () -> running.reload(settings());
            if (adminServer != null) {
                adminServer.onReload(reloader);
            }
            ReloadSignal.install("ferry.balancer", () -> reloader.reload().needRestart());
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (adminServer != null) {
                    adminServer.close();
                }
                running.stop(running.settings().timeouts().grace());
            }, "ferry-shutdown"));
            ServerCommand.markRunning();
            System.out.println("ferry balancer " + Main.version() + " listening on "
                    + HostPort.text(balancer.address()) + " in front of "
                    + settings.backends().size() + " backends");
            if (balancer.tls() != null) {
                dev.ferry.runtime.tls.TlsIdentity id = balancer.tls().server().identity();
                System.out.println("  tls: terminated here, " + (id.selfSigned() ? "self-signed certificate " : "certificate "
                        + settings.tls().certificate() + " ") + id.fingerprint()
                        + (settings.tls().backends().ftps() ? "; FTPS to the backends" : "; plain FTP to the backends"));
                if (balancer.implicitTlsAddress() != null) {
                    System.out.println("  implicit FTPS on " + HostPort.text(balancer.implicitTlsAddress()));
                }
            }
            if (adminServer != null) {
                System.out.println("  admin page: " + adminServer.url());
            }
            System.out.println("  reload the configuration with SIGHUP" + (adminServer != null ? " or POST /api/reload" : "")
                    + "; stop with Ctrl-C");
            System.out.flush();
            return 0;
        } catch (IOException e) {
            if (balancer != null) {
                balancer.close();
            }
            System.err.println("ferry balancer: " + e.getMessage());
            return 1;
        }
    }

    BalancerSettings settings() throws ConfigException {
        BalancerSettings s = BalancerSettings.defaults();
        if (config != null) {
            s = BalancerConfigFile.load(config, s);
        }
        if (listen != null) {
            s = s.withListen(Values.hostPort(listen));
        }
        if (publicAddress != null) {
            s = s.withPublicAddress(Values.publicAddress(publicAddress));
        }
        if (passivePorts != null) {
            int[] r = Values.portRange(passivePorts);
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
            s = s.withBalance(enumValue(BalancerSettings.Balance.class, "--balance", balance));
        }
        BalancerSettings.Check c = s.check();
        BalancerSettings.CheckType type = check == null ? c.type()
                : enumValue(BalancerSettings.CheckType.class, "--check", check.replace('-', '_'));
        String user = c.user();
        String password = c.password();
        if (checkUser != null) {
            int colon = checkUser.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("--check-user expects NAME:PASSWORD");
            }
            user = checkUser.substring(0, colon);
            password = checkUser.substring(colon + 1);
        }
        if (type == BalancerSettings.CheckType.FTP_LOGIN && user == null) {
            throw new IllegalArgumentException("--check ftp-login needs --check-user NAME:PASSWORD"
                    + " (or user and password under balancer.check in the config file)");
        }
        s = s.withCheck(new BalancerSettings.Check(type,
                checkInterval == null ? c.interval() : Values.duration(checkInterval), c.timeout(),
                rise == null ? c.rise() : positive("--rise", rise), fall == null ? c.fall() : positive("--fall", fall),
                user, password));
        if (maxSessions != null) {
            s = s.withMaxSessions(positive("--max-sessions", maxSessions));
        }
        if (maxSessionsPerAddress != null) {
            s = s.withMaxSessionsPerAddress(positive("--max-sessions-per-address", maxSessionsPerAddress));
        }
        if (loginTimeout != null) {
            s = s.withTimeouts(s.timeouts().withLogin(positiveDuration("--login-timeout", loginTimeout)));
        }
        if (queue != null) {
            if (queue < 0) {
                throw new IllegalArgumentException("--queue must be 0 or more, got " + queue);
            }
            s = s.withQueue(new BalancerSettings.Queue(queue, s.queue().timeout()));
        }
        if (grace != null) {
            s = s.withTimeouts(s.timeouts().withGrace(Values.duration(grace)));
        }
        if (proxyProtocol != null) {
            s = s.withProxyProtocol(enumValue(BalancerSettings.ProxyProtocol.class, "--proxy-protocol", proxyProtocol));
        }
        s = s.withTls(tlsSettings(s.tls()));
        return s.withAdmin(adminSettings(s.admin()));
    }

    /** The --tls-* options over the file's balancer.tls; the combination is checked as the file's is. */
    private BalancerSettings.Tls tlsSettings(BalancerSettings.Tls tls) {
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
            tls = tls.withMode(enumValue(BalancerSettings.TlsMode.class, "--tls-mode", tlsMode));
        }
        if (tlsOptions.required()) {
            tls = tls.withRequire(dev.ferry.protocol.ftps.TlsPolicy.REQUIRED);
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
            // Kept beside the config file, else in the working directory, and reused on the next start.
            Path directory = config != null && config.toAbsolutePath().getParent() != null
                    ? config.toAbsolutePath().getParent() : Path.of("").toAbsolutePath();
            tls = tls.withSelfSignedDirectory(directory);
        }
        String problem = BalancerConfigFile.problemWith(tls);
        if (problem != null) {
            throw new IllegalArgumentException("tls: " + problem.replace("give a certificate (or mode: terminate)",
                    "give --tls-cert (or --tls-mode terminate)"));
        }
        return tls;
    }

    private AdminSettings adminSettings(AdminSettings a) {
        if (!adminUsers.isEmpty()) {
            List<AdminSettings.User> users = new ArrayList<>();
            for (String u : adminUsers) {
                users.add(adminUser(u, users));
            }
            a = a.withUsers(users);
            if (a.listen() == null) {
                a = a.withListen(AdminSettings.DEFAULT_LISTEN);
            }
        }
        if (admin != null) {
            try {
                a = a.withListen(Values.hostPort(admin));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--admin: " + e.getMessage(), e);
            }
        }
        if (a.enabled() && a.users().isEmpty()) {
            throw new IllegalArgumentException("the admin listener needs a user: --admin-user NAME:PASSWORD"
                    + " or balancer.admin.users in the config file (there is no default password)");
        }
        return a;
    }

    /** NAME:PASSWORD, NAME:PASSWORD:admin or NAME:PASSWORD:read-only; the password is hashed here and not kept. */
    static AdminSettings.User adminUser(String text, List<AdminSettings.User> existing) {
        int colon = text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("--admin-user expects " + ADMIN_USER_FORM);
        }
        String name = text.substring(0, colon);
        String password = text.substring(colon + 1);
        AdminSettings.Role role = AdminSettings.Role.ADMIN;
        for (AdminSettings.Role r : AdminSettings.Role.values()) {
            String suffix = ":" + r.spelling();
            if (password.endsWith(suffix) && password.length() > suffix.length()) {
                role = r;
                password = password.substring(0, password.length() - suffix.length());
                break;
            }
        }
        if (!name.matches("[\\p{L}\\p{N}._@+-]{1,64}")) {
            throw new IllegalArgumentException("--admin-user: the name must be 1 to 64 letters, digits and . _ - @ +");
        }
        for (AdminSettings.User u : existing) {
            if (u.name().equals(name)) {
                throw new IllegalArgumentException("--admin-user " + name + ": name used twice");
            }
        }
        return new AdminSettings.User(name, PasswordHasher.hash(password.toCharArray()), role);
    }

    static BalancerSettings.BackendSpec backend(String text, List<BalancerSettings.BackendSpec> existing) {
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("--backend expects " + BACKEND_FORM + ", got '" + text + "'");
        }
        String name = text.substring(0, eq);
        String[] parts = text.substring(eq + 1).split(",", -1);
        int weight = 1;
        int maxConnecting = BalancerSettings.BackendSpec.DEFAULT_MAX_CONNECTING;
        int[] passive = {0, 0};
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i];
            if (option.startsWith("weight=")) {
                weight = backendNumber(name, "weight", option, 0, 256);
            } else if (option.startsWith("max-connecting=")) {
                maxConnecting = backendNumber(name, "max-connecting", option, 1, 4096);
            } else if (option.startsWith("passive-ports=")) {
                passive = backendPassivePorts(name, option.substring("passive-ports=".length()));
            } else {
                throw new IllegalArgumentException("--backend " + name + ": unknown option '" + option
                        + "' (expected weight=N, max-connecting=N or passive-ports=LOW-HIGH)");
            }
        }
        for (BalancerSettings.BackendSpec b : existing) {
            if (b.name().equals(name)) {
                throw new IllegalArgumentException("--backend " + name + ": name used twice");
            }
        }
        InetSocketAddress address = Values.hostPort(parts[0]);
        if (address.getPort() == 0) {
            throw new IllegalArgumentException("--backend " + name + ": needs a port");
        }
        return new BalancerSettings.BackendSpec(name, address, weight, maxConnecting, passive[0], passive[1]);
    }

    private static int[] backendPassivePorts(String backend, String value) {
        int[] range;
        try {
            range = Values.portRange(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--backend " + backend + ": passive-ports " + e.getMessage());
        }
        if (range[0] == 0) {
            throw new IllegalArgumentException("--backend " + backend + ": passive-ports must be the backend's own range "
                    + "LOW-HIGH such as 40000-40049 (0, any port, cannot be mapped to a backend)");
        }
        return range;
    }

    private static int backendNumber(String backend, String key, String option, int min, int max) {
        try {
            int n = Integer.parseInt(option.substring(key.length() + 1));
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below, with the range
        }
        throw new IllegalArgumentException("--backend " + backend + ": " + key + " must be a number " + min + ".." + max);
    }

    private static <E extends Enum<E>> E enumValue(Class<E> type, String option, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            List<String> names = new ArrayList<>();
            for (E v : type.getEnumConstants()) {
                names.add(v.name().toLowerCase(Locale.ROOT).replace('_', '-'));
            }
            throw new IllegalArgumentException(option + " expects one of " + String.join(", ", names) + ", got '" + value + "'");
        }
    }

    private static Duration positiveDuration(String option, String text) {
        Duration d;
        try {
            d = Values.duration(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
        if (d.isZero()) {
            throw new IllegalArgumentException(option + " must be above zero, got " + text);
        }
        return d;
    }

    private static int positive(String option, int n) {
        if (n < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + n);
        }
        return n;
    }
}
