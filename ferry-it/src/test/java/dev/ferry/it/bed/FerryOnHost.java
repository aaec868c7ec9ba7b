package dev.ferry.it.bed;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.Launcher;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The real launcher, {@code ./ferry ARGS}, running on one host of the {@link TestBed} under
 * {@code ip netns exec}; its stdout and stderr go to HOST.out and HOST.err in the given directory. The
 * launcher and {@code ip netns exec} both replace themselves (exec), so the process's PID is the JVM's and
 * signals sent to it reach ferry itself.
 */
final class FerryOnHost {

    /** The last line every long-running command prints at start-up (as {@link Launcher} waits for). */
    private static final String READY_LINE = "stop with Ctrl-C";
    private static final Duration STOP_BOUND = Duration.ofSeconds(10);

    private final String host;
    private final Process process;
    private final Path out;
    private final Path err;

    private FerryOnHost(String host, Process process, Path out, Path err) {
        this.host = host;
        this.process = process;
        this.out = out;
        this.err = err;
    }

    /** Starts ferry on {@code host} and waits (at most {@code timeout}) for its ready line. */
    static FerryOnHost start(TestBed bed, String host, Path dir, Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Launcher.script().toString()));
        command.addAll(List.of(args));
        Path out = dir.resolve(host + ".out");
        Path err = dir.resolve(host + ".err");
        Process process = new ProcessBuilder(bed.on(host, command.toArray(String[]::new)))
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        bed.started(process);
        FerryOnHost started = new FerryOnHost(host, process, out, err);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!started.stdout().contains(READY_LINE)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                String why = process.isAlive() ? "within " + timeout.toSeconds() + " s" : "(exit " + process.exitValue() + ")";
                ExternalCommand.kill(process);
                throw new AssertionError("ferry on " + host + " did not start " + why + ": " + String.join(" ", command) + "\n"
                        + started.describe());
            }
            Thread.sleep(100);
        }
        return started;
    }

    String host() {
        return host;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String stdout() throws IOException {
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    /** The log (ferry logs to stderr). */
    String log() throws IOException {
        return Files.readString(err, StandardCharsets.UTF_8);
    }

    List<String> logLines() throws IOException {
        return log().lines().toList();
    }

    /** Both outputs, for a failure message. */
    String describe() {
        try {
            return "--- " + host + " stdout ---\n" + stdout() + "--- " + host + " stderr ---\n" + log();
        } catch (IOException e) {
            return host + ": " + e;
        }
    }

    /** SIGHUP: reload the configuration file. */
    void hangUp() throws Exception {
        Launcher.hangUp(process);
    }

    /** SIGKILL, as a host that dies: no shutdown hook runs, the kernel closes its sockets. */
    void killHard() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS);
    }

    /** SIGTERM, without waiting: what systemd's stop sends; the caller watches what follows. */
    void terminate() {
        process.destroy();
    }

    /** Waits at most {@code bound} for the process to end; whether it did. */
    boolean awaitExit(Duration bound) throws InterruptedException {
        return process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The process's resident set (VmRSS of /proc/PID/status), in KiB. */
    long residentKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for " + host + " (pid " + process.pid() + ")");
    }

    /**
     * The bytes of the objects alive on the heap, from jcmd's class histogram, which collects first (a full GC)
     * so that garbage does not count. Run with the jcmd beside the process's own java binary, which speaks that
     * JVM's attach protocol (the launcher may pick another JDK than the test's); empty where that JDK has no
     * jcmd (a runtime image without the tools).
     */
    OptionalLong liveHeapBytes() throws Exception {
        String pid = Long.toString(process.pid());
        Path jcmd = Path.of("/proc", pid, "exe").toRealPath().resolveSibling("jcmd");
        if (!Files.isExecutable(jcmd)) {
            return OptionalLong.empty();
        }
        ExternalCommand.Result r = ExternalCommand.run(out.getParent(), Duration.ofSeconds(30), jcmd.toString(), pid, "GC.class_histogram")
                .assertSuccess();
        // The last line: "Total  INSTANCES  BYTES".
        List<String> lines = r.stdout().strip().lines().toList();
        String[] total = lines.getLast().strip().split("\\s+");
        if (total.length != 3 || !total[0].equals("Total")) {
            throw new IOException("no Total line in jcmd's class histogram of " + host + ": " + lines.getLast());
        }
        return OptionalLong.of(Long.parseLong(total[2]));
    }

    /** SIGTERM, then SIGKILL if it has not ended within {@link #STOP_BOUND}. */
    void stop() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS)) {
                killHard();
            }
        }
    }

    /** Waits (20 s at the most) until this host's log satisfies {@code condition}; fails with the log otherwise. */
    public void awaitLog(String what, Predicate<String> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.test(log())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s on " + host() + ": " + what + "\n" + describe());
            }
            Thread.sleep(50);
        }
    }
}
