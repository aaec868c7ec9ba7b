package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs the repository's {@code ./ferry} launcher as a process, as a user would. */
public final class Launcher {

    /** The last line every long-running command prints at start-up. */
    static final String READY_LINE = "stop with Ctrl-C";

    private Launcher() {}

    /**
     * A started launcher and the lines it printed up to and including {@link #READY_LINE}; {@code later}: the
     * lines it prints after that, as they come.
     */
    public record Started(Process process, List<String> stdout, BlockingQueue<String> later) {}

    public static Path script() {
        // Surefire runs in the module directory; the launcher is at the repository root.
        Path script = Path.of("").toAbsolutePath().getParent().resolve("ferry");
        assertThat(script).as("the ferry launcher").isExecutable();
        return script;
    }

    /** Starts {@code ./ferry ARGS} in {@code dir} (stderr to {@code stderr}) and waits for its ready line. */
    public static Started start(Path dir, Path stderr, Duration timeout, String... args) throws Exception {
        return start(script(), dir, stderr, timeout, args);
    }

    /** As {@link #start(Path, Path, Duration, String...)} with another launcher, such as an installed bin/ferry. */
    public static Started start(Path launcher, Path dir, Path stderr, Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectError(stderr.toFile()).start();
        BlockingQueue<String> lines = ExternalCommand.stdoutLines(process);
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.add(line);
                if (line.contains(READY_LINE)) {
                    return new Started(process, seen, lines);
                }
            } else if (!process.isAlive() || System.nanoTime() > deadline) {
                String why = process.isAlive() ? " within " + timeout.toSeconds() + " s" : " (exit " + process.exitValue() + ")";
                ExternalCommand.kill(process);
                throw new AssertionError("ferry " + String.join(" ", args) + " did not finish its start-up lines" + why
                        + "\nstdout: " + seen + "\nstderr: " + Files.readString(stderr));
            }
        }
    }

    /** SIGHUP, as systemd's ExecReload sends it: the process reloads its configuration. */
    public static void hangUp(Process process) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    /** SIGTERM, then KILL if it has not ended within 10 s. */
    public static void stop(Process process) throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                ExternalCommand.kill(process);
            }
        }
    }
}
