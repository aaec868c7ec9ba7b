package dev.ferry.it.bed;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.MachineRequirements;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.TimeUnit;

/**
 * Several machines on one: each host is a Linux network namespace, joined to a {@code switch} namespace
 * holding a bridge by a veth pair, so hosts talk over a real (virtual) Ethernet segment with their own
 * addresses, and the test machine's root namespace gets no interface, address or route.
 *
 * <pre>
 *   client .10   lb1 .21   lb2 .22   s1 .31   s2 .32   s3 .33   storage .41   db .51   (eth0, 198.18.0.x/24)
 *       |           |         |         |        |        |         |           |
 *   [v-client]  [v-lb1]   [v-lb2]   [v-s1]   [v-s2]   [v-s3]  [v-storage]   [v-db]    switch namespace
 *       +-----------+---------+-------- br0 (bridge) ---+--------+---------+-----------+
 * </pre>
 *
 * <p>{@code storage} is the host the servers' files are served from: an object store (S3Proxy, in
 * {@code ObjectStoreBedTest}), or a shared file system (an NFS export: the kernel of the machine the bed was
 * built on has no NFS, see docs/deployment.md); {@code db} is the database host of the
 * user store to come (issue 13's next issue); both are made now so that every test sees the same bed.
 *
 * <p>Addresses come from 198.18.0.0/15, the range RFC 2544 §C.2.2 sets aside for benchmarking, so they cannot
 * clash with a real network; a host has no default route, so nothing is routed out. Namespace names are
 * {@value #PREFIX}PID-HOST: parallel runs cannot collide, and namespaces a killed run left behind (their
 * PID dead) are removed at the next start. {@link #close} removes them all, and so does a shutdown hook if
 * the JVM ends without it (a SIGTERM to the test JVM, say), after killing what still runs on the hosts.
 *
 * <p>Needs Linux, root and iproute2's {@code ip}; without them the tests skip with a loud message, or
 * fail under {@code CI=true} (see {@link MachineRequirements}).
 */
public final class TestBed implements AutoCloseable {

    static final String PREFIX = "ferry-bed-";
    private static final String SWITCH = "switch";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);

    /** The hosts and their addresses. */
    public static final SequencedMap<String, String> HOSTS = hosts();

    private final Path ip;
    private final String runId;
    private final List<String> made = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final Thread shutdownHook;

    private TestBed(Path ip) {
        this.ip = ip;
        this.runId = PREFIX + ProcessHandle.current().pid() + "-";
        this.shutdownHook = new Thread(this::removeNamespacesQuietly, "ferry-test-bed-cleanup");
    }

    private static SequencedMap<String, String> hosts() {
        SequencedMap<String, String> hosts = new LinkedHashMap<>();
        hosts.put("client", "198.18.0.10");
        hosts.put("lb1", "198.18.0.21");
        hosts.put("lb2", "198.18.0.22");
        hosts.put("s1", "198.18.0.31");
        hosts.put("s2", "198.18.0.32");
        hosts.put("s3", "198.18.0.33");
        hosts.put("storage", "198.18.0.41");
        hosts.put("db", "198.18.0.51");
        return Collections.unmodifiableSequencedMap(hosts);
    }

    /** Builds the bed; skips (or fails under CI=true) when this machine cannot. */
    public static TestBed create() throws Exception {
        Path ip = requirements();
        removeStale(ip);
        TestBed bed = new TestBed(ip);
        Runtime.getRuntime().addShutdownHook(bed.shutdownHook);
        try {
            bed.build();
            return bed;
        } catch (Exception | AssertionError e) {
            bed.close();
            throw e;
        }
    }

    /** iproute2's {@code ip}. */
    public Path ip() {
        return ip;
    }

    /** The namespace of {@code host}. */
    public String namespace(String host) {
        if (!HOSTS.containsKey(host) && !host.equals(SWITCH)) {
            throw new IllegalArgumentException("no host " + host);
        }
        return runId + host;
    }

    public static String address(String host) {
        return HOSTS.get(host);
    }

    /** {@code ip netns exec NAMESPACE} followed by {@code command}: the command as run on {@code host}. */
    public List<String> on(String host, String... command) {
        List<String> full = new ArrayList<>(List.of(ip.toString(), "netns", "exec", namespace(host)));
        full.addAll(List.of(command));
        return full;
    }

    /** Records a process started on a host, so that {@link #close} (or the shutdown hook) kills it if still running. */
    synchronized void started(Process process) {
        processes.add(process);
    }

    private void build() throws Exception {
        String sw = namespace(SWITCH);
        netnsAdd(sw);
        ipCmd("-n", sw, "link", "set", "lo", "up");
        ipCmd("-n", sw, "link", "add", "br0", "type", "bridge");
        ipCmd("-n", sw, "link", "set", "br0", "up");
        for (Map.Entry<String, String> host : HOSTS.entrySet()) {
            String ns = namespace(host.getKey());
            String port = "v-" + host.getKey();
            netnsAdd(ns);
            // Both ends are made inside namespaces: the switch's end in the switch, the host's moved at once.
            ipCmd("-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
            ipCmd("-n", sw, "link", "set", port, "master", "br0");
            ipCmd("-n", sw, "link", "set", port, "up");
            ipCmd("-n", ns, "link", "set", "lo", "up");
            ipCmd("-n", ns, "addr", "add", host.getValue() + "/24", "dev", "eth0");
            ipCmd("-n", ns, "link", "set", "eth0", "up");
        }
    }

    private void netnsAdd(String ns) throws Exception {
        ipCmd("netns", "add", ns);
        made.add(ns);
    }

    private void ipCmd(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ip.toString()));
        command.addAll(List.of(args));
        ExternalCommand.run(Path.of("/"), COMMAND_TIMEOUT, Map.of(), command).assertSuccess();
    }

    @Override
    public void close() {
        removeNamespacesQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    /**
     * Kills what still runs on the hosts (a namespace lives on while a process is in it), then deletes every
     * namespace made; their veth pairs and the bridge go with them.
     */
    private synchronized void removeNamespacesQuietly() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        processes.clear();
        for (String ns : List.copyOf(made).reversed()) {
            try {
                ExternalCommand.run(Path.of("/"), COMMAND_TIMEOUT, ip.toString(), "netns", "del", ns);
            } catch (Exception e) {
                System.err.println("TestBed: could not delete namespace " + ns + ": " + e);
            }
            made.remove(ns);
        }
    }

    private static Path requirements() throws Exception {
        List<String> missing = new ArrayList<>();
        if (!MachineRequirements.isLinux()) {
            missing.add("Linux (network namespaces)");
        }
        if (!MachineRequirements.isRoot()) {
            missing.add("root (network namespaces)");
        }
        Optional<Path> ip = MachineRequirements.onPath("ip");
        if (ip.isEmpty()) {
            missing.add("ip (Debian: iproute2)");
        }
        MachineRequirements.satisfiedOrSkip("multi-host test bed tests", missing, "CI=true: .ci/run runs as root and installs iproute2");
        // A kernel or container that forbids namespaces shows here: fail in CI, skip elsewhere.
        if (ip.isPresent()) {
            String probe = PREFIX + "probe-" + ProcessHandle.current().pid();
            ExternalCommand.Result r = ExternalCommand.run(Path.of("/"), COMMAND_TIMEOUT, ip.get().toString(), "netns", "add", probe);
            ExternalCommand.run(Path.of("/"), COMMAND_TIMEOUT, ip.get().toString(), "netns", "del", probe);
            if (r.exitCode() != 0) {
                MachineRequirements.satisfiedOrSkip("multi-host test bed tests",
                        List.of("permission to create network namespaces (ip netns add: " + r.stderr().strip() + ")"),
                        "CI=true: CI must allow network namespaces");
            }
        }
        return ip.orElseThrow();
    }

    /** Namespaces of ours (by prefix) whose test JVM is gone: a killed run left them behind. */
    private static void removeStale(Path ip) throws Exception {
        String list = ExternalCommand.run(Path.of("/"), COMMAND_TIMEOUT, ip.toString(), "netns", "list").stdout();
        for (String line : list.lines().toList()) {
            String name = line.split("\\s+")[0];
            if (!name.startsWith(PREFIX)) {
                continue;
            }
            String rest = name.substring(PREFIX.length());
            String pid = rest.startsWith("probe-") ? rest.substring("probe-".length()) : rest.split("-")[0];
            try {
                if (ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    ExternalCommand.run(Path.of("/"), COMMAND_TIMEOUT, ip.toString(), "netns", "del", name);
                }
            } catch (NumberFormatException ignored) {
                // not one of ours
            }
        }
    }
}
