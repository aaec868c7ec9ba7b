package dev.ferry.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external FTP client (curl, lftp, python3) and waits for it, never longer than a timeout:
 * on timeout the process and everything it started are killed and the test fails with what the
 * process had printed so far. Output goes to files, so a chatty process can never block on a full
 * pipe.
 */
public final class ExternalCommand {

    /** What a finished process left behind. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        /** Fails unless the exit code is 0. */
        public Result assertSuccess() {
            if (exitCode != 0) {
                throw new AssertionError(describe("exited with " + exitCode));
            }
            return this;
        }

        public String describe(String what) {
            return String.join(" ", command) + " " + what + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    private ExternalCommand() {}

    public static Result run(Path workDir, Duration timeout, String... command) throws IOException, InterruptedException {
        return run(workDir, timeout, Map.of(), List.of(command));
    }

    public static Result run(Path workDir, Duration timeout, Map<String, String> environment, List<String> command)
            throws IOException, InterruptedException {
        requireInstalled(command.get(0));
        Path out = Files.createTempFile("ferry-it-out-", ".txt");
        Path err = Files.createTempFile("ferry-it-err-", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(workDir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(process);
                throw new AssertionError(new Result(List.copyOf(command), -1, read(out), read(err))
                        .describe("did not finish within " + timeout.toSeconds() + " s and was killed"));
            }
            return new Result(List.copyOf(command), process.exitValue(), read(out), read(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The lines a process prints on its standard output, as they come (read by a virtual thread until it ends). */
    public static BlockingQueue<String> stdoutLines(Process process) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        return lines;
    }

    /** Kills a process and its descendants, and waits (bounded) until it is gone. */
    public static void kill(Process process) throws InterruptedException {
        List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
        family.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Fails with a clear message when a client program is missing (CI installs curl, lftp and python3). */
    public static void requireInstalled(String program) {
        if (program.contains("/")) {
            return;
        }
        String path = System.getenv("PATH");
        for (String dir : path == null ? new String[0] : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return;
            }
        }
        throw new AssertionError(program + " is not installed (or not on PATH); the integration tests need curl, lftp and python3");
    }

    private static java.io.File nullDevice() {
        return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }

    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }
}
