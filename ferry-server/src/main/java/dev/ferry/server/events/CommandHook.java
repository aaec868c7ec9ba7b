package dev.ferry.server.events;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command per event, as pure-uploadscript and SFTPGo's hooks do: the argv as configured (no shell, so no
 * file name is ever parsed as shell syntax), the event's JSON on stdin and its fields as FERRY_* variables, in an
 * environment of only those and {@link #PASSED_ON}. Exit
 * 0: delivered; any other exit, or running past the timeout (then it and its children are killed): tried again.
 * Its output is discarded: a script that wants a log writes its own.
 */
public final class CommandHook implements HookAction {

    /** The variables of the server's environment a command sees; everything else is left out. */
    public static final Set<String> PASSED_ON = Set.of("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER",
            "LOGNAME", "SHELL");

    private final List<String> argv;
    private final Duration timeout;

    public CommandHook(List<String> argv, Duration timeout) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a command needs at least the program");
        }
        this.argv = List.copyOf(argv);
        this.timeout = timeout;
    }

    @Override
    public String name() {
        return "command";
    }

    /** The program only: arguments may hold a token. */
    @Override
    public String describe() {
        return argv.get(0);
    }

    @Override
    public Attempt deliver(FileEvent event) throws InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        Map<String, String> env = builder.environment();
        // SECURITY: the server's own environment may hold secrets (FERRY_TLS_PASSWORD, AWS_SECRET_ACCESS_KEY): the
        // command gets only what a program needs to run, and the event.
        env.keySet().retainAll(PASSED_ON);
        env.putAll(event.environment());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return Attempt.failed("error", "cannot-start");
        }
        try {
            try (OutputStream in = process.getOutputStream()) {
                // A few hundred bytes: within any pipe buffer, so this never waits for the command to read.
                in.write(event.json().getBytes(StandardCharsets.UTF_8));
                in.write('\n');
            } catch (IOException e) {
                // the command exited (or closed stdin) without reading: its exit status decides
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(process);
                return Attempt.failed("error", "timeout");
            }
            int exit = process.exitValue();
            return exit == 0 ? Attempt.delivered("exit", "0") : Attempt.failed("exit", Integer.toString(exit));
        } catch (InterruptedException e) {
            kill(process);
            throw e;
        }
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }
}
