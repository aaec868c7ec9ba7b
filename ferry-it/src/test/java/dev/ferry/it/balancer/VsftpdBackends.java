package dev.ferry.it.balancer;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.MachineRequirements;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * vsftpd instances as backends for the balancer, in a network namespace of their own where the address a
 * backend is dialled at is not the address it answers from, as with a multi-homed server or one behind NAT.
 *
 * <p>Layout: a veth pair joins this machine (198.19.N.1) to the namespace (198.19.N.2, N chosen free).
 * Every vsftpd listens on 198.19.N.2; the balancer dials 198.19.N.9, which the namespace's nftables DNAT
 * rule maps to 198.19.N.2 (a route sends 198.19.N.9 into the veth). vsftpd binds its active-mode data
 * connections to the control connection's local address, 198.19.N.2, so they leave from another address
 * than the one the balancer dialled. Nothing outside the namespace is touched but the veth's host end and
 * its route, which go with the namespace.
 *
 * <p>Requirements: root (network namespaces, nftables, a vsftpd that drops to a local user), iproute2,
 * nftables, and vsftpd's binary: {@code FERRY_IT_VSFTPD}, or where {@code .ci/run} unpacks it
 * ({@code ~/.cache/ferry-it/vsftpd}), or on the PATH. Missing any, the tests are skipped with a message
 * saying what is missing, except under {@code CI=true}, where they fail: CI installs all of it.
 *
 * <p>vsftpd logs in a local system user, {@value #USER} (created once; its shell is nologin), whose password
 * is new for each start; PAM service "ferry-it-vsftpd" does not exist, so PAM's "other" service (pam_unix)
 * decides, whatever a vsftpd package on the machine configured.
 */
final class VsftpdBackends implements AutoCloseable {

    static final String USER = "ferry-it-ftp";
    private static final String NAMESPACE_PREFIX = "ferry-it-vs-";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final Path base;
    private final Path root;
    private final String namespace;
    private final int subnet;
    private final String password;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private final Map<String, Path> tools;
    private boolean namespaceMade;

    private VsftpdBackends(Path base, Map<String, Path> tools, int subnet) {
        this.base = base;
        this.root = base.resolve("root");
        this.tools = tools;
        this.subnet = subnet;
        this.namespace = NAMESPACE_PREFIX + ProcessHandle.current().pid();
        byte[] secret = new byte[12];
        new SecureRandom().nextBytes(secret);
        this.password = HexFormat.of().formatHex(secret);
    }

    /**
     * Makes the namespace, its DNAT rule and the user; vsftpd instances are then added with {@link #start}.
     * Skips (or, under CI=true, fails) when this machine cannot run them.
     */
    static VsftpdBackends create(Path base) throws Exception {
        Map<String, Path> tools = requirements();
        removeStaleNamespaces(tools.get("ip"));
        VsftpdBackends b = new VsftpdBackends(base, tools, freeSubnet(tools.get("ip")));
        try {
            b.setUp();
            return b;
        } catch (Exception | AssertionError e) {
            b.close();
            throw e;
        }
    }

    /** The address the balancer dials; DNAT makes it reach vsftpd on {@link #listenAddress}. */
    String dialledAddress() {
        return "198.19." + subnet + ".9";
    }

    /** This machine's end of the veth pair. */
    String hostAddress() {
        return "198.19." + subnet + ".1";
    }

    /** Where vsftpd listens, and so where its active data connections leave from. */
    String listenAddress() {
        return "198.19." + subnet + ".2";
    }

    String password() {
        return password;
    }

    /** The directory every instance serves as "/", owned by {@value #USER}. */
    Path root() {
        return root;
    }

    /**
     * Starts vsftpd on {@link #listenAddress}:{@code port}, passive ports {@code passiveLow} to +99, with its
     * own configuration and {@code portEnable} as its port_enable (NO: it refuses PORT and EPRT, it never
     * opens a data connection itself); returns the address to dial once it greets there.
     */
    InetSocketAddress start(String name, int port, int passiveLow, boolean portEnable) throws Exception {
        Path conf = base.resolve(name + ".conf");
        Path log = base.resolve(name + ".log");
        Files.writeString(conf, String.join("\n",
                "# ferry-it: " + name,
                "listen=YES",
                "listen_ipv6=NO",
                "listen_address=" + listenAddress(),
                "listen_port=" + port,
                "background=NO",
                "anonymous_enable=NO",
                "local_enable=YES",
                "write_enable=YES",
                "local_umask=022",
                "chroot_local_user=YES",
                "allow_writeable_chroot=YES",
                "local_root=" + root,
                "userlist_enable=NO",
                "pam_service_name=ferry-it-vsftpd",
                "tcp_wrappers=NO",
                "pasv_enable=YES",
                "pasv_min_port=" + passiveLow,
                "pasv_max_port=" + (passiveLow + 99),
                "port_enable=" + (portEnable ? "YES" : "NO"),
                "connect_from_port_20=NO",
                "secure_chroot_dir=" + base.resolve("empty"),
                "ssl_enable=NO",
                "dirmessage_enable=NO",
                "xferlog_enable=YES",
                "xferlog_std_format=NO",
                "log_ftp_protocol=YES",
                "vsftpd_log_file=" + log,
                "syslog_enable=NO",
                "idle_session_timeout=60",
                "data_connection_timeout=30",
                "ftpd_banner=ferry-it vsftpd " + name,
                ""));
        logs.add(log);
        Process p = new ProcessBuilder(tools.get("ip").toString(), "netns", "exec", namespace,
                tools.get("vsftpd").toString(), conf.toString())
                .redirectErrorStream(true)
                .redirectOutput(base.resolve(name + ".out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        processes.add(p);
        logs.add(base.resolve(name + ".out"));
        InetSocketAddress dialled = new InetSocketAddress(dialledAddress(), port);
        awaitGreeting(dialled, p);
        return dialled;
    }

    /** The last lines every vsftpd logged (its protocol log and its output), for a failure message. */
    String logText() {
        StringBuilder text = new StringBuilder();
        for (Path log : logs) {
            text.append("--- ").append(log.getFileName()).append(" (last 60 lines) ---\n");
            try {
                List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.ISO_8859_1) : List.of();
                lines.subList(Math.max(0, lines.size() - 60), lines.size()).forEach(l -> text.append(l).append('\n'));
            } catch (IOException e) {
                text.append(e).append('\n');
            }
        }
        return text.toString();
    }

    private void setUp() throws Exception {
        Path ip = tools.get("ip");
        Path empty = Files.createDirectories(base.resolve("empty"));
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(empty, PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.createDirectories(root);
        ensureUser();
        run(tools.get("chown"), USER, root.toString());

        String host = "fiv" + ProcessHandle.current().pid() % 1_000_000 + "h";
        String inside = "fiv" + ProcessHandle.current().pid() % 1_000_000 + "n";
        String prefix = "198.19." + subnet + ".";
        run(ip, "netns", "add", namespace);
        namespaceMade = true;
        run(ip, "link", "add", host, "type", "veth", "peer", "name", inside, "netns", namespace);
        run(ip, "addr", "add", prefix + "1/24", "dev", host);
        run(ip, "link", "set", host, "up");
        run(ip, "-n", namespace, "link", "set", "lo", "up");
        run(ip, "-n", namespace, "addr", "add", prefix + "2/24", "dev", inside);
        run(ip, "-n", namespace, "link", "set", inside, "up");
        run(ip, "route", "add", prefix + "9/32", "via", prefix + "2", "dev", host);
        Path rules = base.resolve("dnat.nft");
        Files.writeString(rules, "table ip ferry_it {\n"
                + "  chain prerouting {\n"
                + "    type nat hook prerouting priority dstnat;\n"
                + "    ip daddr " + prefix + "9 dnat to " + prefix + "2\n"
                + "  }\n"
                + "}\n");
        run(ip, "netns", "exec", namespace, tools.get("nft").toString(), "-f", rules.toString());
    }

    private void ensureUser() throws Exception {
        if (ExternalCommand.run(base, Duration.ofSeconds(10), "getent", "passwd", USER).exitCode() != 0) {
            ExternalCommand.Result r = ExternalCommand.run(base, Duration.ofSeconds(20), tools.get("useradd").toString(),
                    "--system", "--no-create-home", "--home-dir", "/", "--shell", "/usr/sbin/nologin",
                    "--comment", "Ferry integration tests, vsftpd backends", USER);
            // A parallel run may have made it meanwhile.
            if (r.exitCode() != 0 && ExternalCommand.run(base, Duration.ofSeconds(10), "getent", "passwd", USER).exitCode() != 0) {
                throw new AssertionError(r.describe("failed"));
            }
        }
        Path input = base.resolve("chpasswd.txt");
        Files.writeString(input, USER + ":" + password + "\n");
        ProcessBuilder chpasswd = new ProcessBuilder(tools.get("chpasswd").toString())
                .redirectInput(input.toFile()).redirectErrorStream(true);
        Process p = chpasswd.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("chpasswd failed: " + out);
        }
        Files.delete(input);
    }

    private void awaitGreeting(InetSocketAddress address, Process p) throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("vsftpd exited with " + p.exitValue() + "\n" + logText());
            }
            try (Socket s = new Socket()) {
                s.connect(address, 1_000);
                s.setSoTimeout(2_000);
                InputStream in = s.getInputStream();
                byte[] greeting = in.readNBytes(3);
                if (new String(greeting, StandardCharsets.US_ASCII).equals("220")) {
                    return;
                }
                throw new AssertionError("vsftpd greeted " + new String(greeting, StandardCharsets.US_ASCII) + "\n" + logText());
            } catch (IOException e) {
                last = e;
                Thread.sleep(50);
            }
        }
        throw new AssertionError("vsftpd did not greet at " + address + " within " + START_TIMEOUT.toSeconds() + " s: "
                + last + "\n" + logText());
    }

    @Override
    public void close() throws Exception {
        for (Process p : processes) {
            ExternalCommand.kill(p);
        }
        if (namespaceMade) {
            // The veth pair and the route go with the namespace.
            run(tools.get("ip"), "netns", "del", namespace);
            namespaceMade = false;
        }
    }

    // ---- what the machine must have --------------------------------------------------------

    /** The programs needed, by name; or skips, or fails under CI=true, saying what is missing. */
    private static Map<String, Path> requirements() throws IOException {
        List<String> missing = new ArrayList<>();
        if (!MachineRequirements.isLinux()) {
            missing.add("Linux (network namespaces)");
        }
        if (!MachineRequirements.isRoot()) {
            missing.add("root (network namespaces, nftables, vsftpd's privilege separation)");
        }
        Map<String, Path> tools = new java.util.HashMap<>();
        for (String name : List.of("ip", "nft", "useradd", "chpasswd", "chown")) {
            Optional<Path> found = MachineRequirements.onPath(name);
            if (found.isEmpty()) {
                missing.add(name + (name.equals("nft") ? " (Debian: nftables)" : name.equals("ip") ? " (Debian: iproute2)" : ""));
            } else {
                tools.put(name, found.get());
            }
        }
        Optional<Path> vsftpd = vsftpd();
        if (vsftpd.isEmpty()) {
            missing.add("vsftpd (FERRY_IT_VSFTPD, ~/.cache/ferry-it/vsftpd as .ci/run unpacks it, or on the PATH)");
        } else {
            tools.put("vsftpd", vsftpd.get());
        }
        MachineRequirements.satisfiedOrSkip("vsftpd backend tests", missing, "CI=true: .ci/run installs them");
        return tools;
    }

    private static Optional<Path> vsftpd() {
        List<Path> candidates = new ArrayList<>();
        String configured = System.getenv("FERRY_IT_VSFTPD");
        if (configured != null && !configured.isBlank()) {
            candidates.add(Path.of(configured));
        }
        String cache = System.getenv("XDG_CACHE_HOME");
        Path cacheDir = cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache");
        candidates.add(cacheDir.resolve("ferry-it/vsftpd/usr/sbin/vsftpd"));
        MachineRequirements.onPath("vsftpd").ifPresent(candidates::add);
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    /** A 198.19.N.0/24 no interface here uses (another test run may hold one). */
    private static int freeSubnet(Path ip) throws Exception {
        String addresses = ExternalCommand.run(Path.of("/"), Duration.ofSeconds(10), ip.toString(), "-o", "-4", "addr", "show")
                .assertSuccess().stdout();
        for (int attempt = 0; attempt < 50; attempt++) {
            int n = ThreadLocalRandom.current().nextInt(1, 255);
            if (!addresses.contains(" 198.19." + n + ".")) {
                return n;
            }
        }
        throw new AssertionError("no free 198.19.N.0/24 here:\n" + addresses);
    }

    /** Namespaces a killed test JVM left behind (their pid is gone). */
    private static void removeStaleNamespaces(Path ip) throws Exception {
        String list = ExternalCommand.run(Path.of("/"), Duration.ofSeconds(10), ip.toString(), "netns", "list").stdout();
        for (String line : list.lines().toList()) {
            String name = line.split("\\s+")[0];
            if (!name.startsWith(NAMESPACE_PREFIX)) {
                continue;
            }
            try {
                long pid = Long.parseLong(name.substring(NAMESPACE_PREFIX.length()));
                if (ProcessHandle.of(pid).isEmpty()) {
                    ExternalCommand.run(Path.of("/"), Duration.ofSeconds(10), ip.toString(), "netns", "del", name);
                }
            } catch (NumberFormatException ignored) {
                // not one of ours
            }
        }
    }

    private void run(Path program, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(program.toString());
        command.addAll(List.of(args));
        ExternalCommand.run(base, Duration.ofSeconds(20), Map.of(), command).assertSuccess();
    }
}
