package dev.ferry.it.bed;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.TestData;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * What every test class on the {@link TestBed} sets up and takes down: the bed, a temporary directory, the one
 * root directory the server hosts share (the stand-in for a shared file system: namespaces separate the
 * network, not the file system), ferry on hosts, other programs on hosts (keepalived), and the client host's
 * programs. {@link #close} stops everything by PID: the other programs first (keepalived gives the virtual
 * address up before its balancer goes), then ferry, then the namespaces, then the directory.
 */
final class BedFixture implements AutoCloseable {

    /** Generous for the first launcher, which builds the jar when run outside a full build. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(150);
    static final String PORT = "2121";
    static final String USER = "bed";
    static final String PASSWORD = "bed-Pa55";
    static final List<String> SERVERS = List.of("s1", "s2", "s3");
    static final String CLIENT = TestBed.address("client");
    private static final Duration OTHER_STOP_BOUND = Duration.ofSeconds(10);

    private final TestBed bed;
    private final Path work;
    private final Path root;
    private final Map<String, FerryOnHost> running = new ConcurrentHashMap<>();
    private final List<Process> others = new CopyOnWriteArrayList<>();

    private BedFixture(TestBed bed, Path work, Path root) {
        this.bed = bed;
        this.work = work;
        this.root = root;
    }

    /** Builds the bed (skips, or fails under CI=true, where this machine cannot) and the test's directory. */
    static BedFixture create(String name) throws Exception {
        TestBed bed = TestBed.create();
        try {
            Path work = Files.createTempDirectory("ferry-it-" + name + "-");
            return new BedFixture(bed, work, Files.createDirectories(work.resolve("shared-root")));
        } catch (IOException | RuntimeException e) {
            bed.close();
            throw e;
        }
    }

    TestBed bed() {
        return bed;
    }

    Path work() {
        return work;
    }

    /** The directory every server host serves. */
    Path root() {
        return root;
    }

    /** A server's arguments: its own address, the shared root, the bed's user, its node name, then {@code extra}. */
    List<String> serverArgs(String host, String... extra) {
        List<String> args = new ArrayList<>(List.of("server",
                "--listen", TestBed.address(host) + ":" + PORT,
                "--root", root.toString(),
                "--user", USER + ":" + PASSWORD,
                "--node", host));
        args.addAll(List.of(extra));
        return args;
    }

    /** The balancer's {@code --backend} arguments for {@code servers}. */
    static List<String> backendArgs(List<String> servers) {
        List<String> args = new ArrayList<>();
        for (String s : servers) {
            args.addAll(List.of("--backend", s + "=" + TestBed.address(s) + ":" + PORT));
        }
        return args;
    }

    /**
     * Starts ferry on each host at once, with its arguments (JVM starts dominate the bed's set-up, so in
     * parallel), and waits for them all; in map order, so a caller can list servers before balancers.
     */
    void startAll(Map<String, List<String>> argsByHost) throws Exception {
        try (ExecutorService starts = Executors.newVirtualThreadPerTaskExecutor()) {
            Map<String, Future<FerryOnHost>> started = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : argsByHost.entrySet()) {
                started.put(e.getKey(), starts.submit(() -> start(e.getKey(), e.getValue().toArray(String[]::new))));
            }
            for (Future<FerryOnHost> f : started.values()) {
                f.get(START_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
            }
        }
    }

    /** Starts ferry on {@code host} (replacing one stopped there before) and waits for its ready line. */
    FerryOnHost start(String host, String... args) throws Exception {
        FerryOnHost f = FerryOnHost.start(bed, host, work, START_TIMEOUT, args);
        running.put(host, f);
        return f;
    }

    FerryOnHost get(String host) {
        FerryOnHost f = running.get(host);
        if (f == null) {
            throw new IllegalStateException("ferry does not run on " + host);
        }
        return f;
    }

    /**
     * Another program on {@code host} (keepalived), in the test's directory, its output in NAME.out and
     * NAME.err there; SIGTERM at {@link #close} if still running.
     */
    Process startOther(String host, String name, List<String> command) throws IOException {
        Process p = new ProcessBuilder(bed.on(host, command.toArray(String[]::new)))
                .directory(work.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(work.resolve(name + ".out").toFile())
                .redirectError(work.resolve(name + ".err").toFile())
                .start();
        bed.started(p);
        others.add(p);
        return p;
    }

    /** SIGTERM, then SIGKILL if it has not ended within 10 s. */
    static void stop(Process process) throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(OTHER_STOP_BOUND.toSeconds(), TimeUnit.SECONDS)) {
                ExternalCommand.kill(process);
            }
        }
    }

    /** Runs a program on the client host to its end; fails the test if it outlives {@code timeout}. */
    ExternalCommand.Result client(Duration timeout, List<String> command) throws Exception {
        return ExternalCommand.run(work, timeout, Map.of(), bed.on("client", command.toArray(String[]::new)));
    }

    /**
     * A program on the client host that runs beside the test (stdin and stdout for the test to talk to it),
     * its stderr in NAME.err; killed at the end if still running.
     */
    Process clientProcess(String name, List<String> command) throws IOException {
        Process p = new ProcessBuilder(bed.on("client", command.toArray(String[]::new)))
                .directory(work.toFile())
                .redirectError(work.resolve(name + ".err").toFile())
                .start();
        bed.started(p);
        return p;
    }

    /** What a program started by {@link #clientProcess} wrote to stderr so far. */
    String stderr(String name) throws IOException {
        return Files.readString(work.resolve(name + ".err"));
    }

    /**
     * Makes a certificate naming both balancer addresses (so FTPS clients can check the balancer they reach) the
     * way operators do, with openssl: cert.pem and key.pem in the test's directory; the certificate's path.
     */
    Path certificate() throws Exception {
        Path cert = work.resolve("cert.pem");
        ExternalCommand.run(work, Duration.ofSeconds(60), "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-subj", "/CN=ferry test bed", "-days", "2",
                "-addext", "subjectAltName=IP:" + TestBed.address("lb1") + ",IP:" + TestBed.address("lb2"),
                "-keyout", work.resolve("key.pem").toString(), "-out", cert.toString()).assertSuccess();
        return cert;
    }

    /** The key of {@link #certificate}. */
    Path certificateKey() {
        return work.resolve("key.pem");
    }

    /** Writes {@code size} random bytes (from {@code seed}) to {@code name} in the shared root, 1 MiB at a time. */
    Path writeRandom(String name, long size, long seed) throws IOException {
        Path file = root.resolve(name);
        byte[] block = new byte[1024 * 1024];
        Random random = new Random(seed);
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= block.length) {
                random.nextBytes(block);
                out.write(block, 0, (int) Math.min(block.length, left));
            }
        }
        return file;
    }

    void awaitLog(String host, String what, Predicate<String> condition) throws Exception {
        get(host).awaitLog(what, condition);
    }

    /** The lines of every server's log that match. */
    List<String> serverLines(Predicate<String> match) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String s : SERVERS) {
            get(s).logLines().stream().filter(match).forEach(lines::add);
        }
        return lines;
    }

    /** Waits (20 s at the most) until some server's log satisfies {@code condition}. */
    void awaitServersLog(String what, Predicate<String> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (SERVERS.stream().noneMatch(s -> {
            try {
                return condition.test(get(s).log());
            } catch (IOException e) {
                return false;
            }
        })) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s on any server: " + what + "\n" + describeServers());
            }
            Thread.sleep(50);
        }
    }

    /** Every server's outputs, for a failure message. */
    String describeServers() {
        StringBuilder all = new StringBuilder();
        for (String s : SERVERS) {
            FerryOnHost f = running.get(s);
            all.append(f == null ? s + ": not started\n" : f.describe());
        }
        return all.toString();
    }

    @Override
    public void close() throws Exception {
        try {
            for (Process p : others) {
                stop(p);
            }
            for (FerryOnHost f : running.values()) {
                f.stop();
            }
        } finally {
            bed.close();
            TestData.deleteTree(work);
        }
    }
}
