package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What an operator sees on the terminal after {@code ./ferry cluster} (or {@code ./ferry server}) and what
 * happens when the commands it prints are pasted: each printed curl and lftp line, run by a shell exactly
 * as printed, lists the root through the self-signed default. The launcher runs under {@code sh -c '... 2>&1'}
 * so the test reads one stream, log lines and banner interleaved, as a terminal shows them.
 */
class PrintedCommandsTest {

    /** Generous: the launcher builds the jar itself when run outside a full build. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(30);
    private static final int TERMINAL_ROWS = 24;

    private Path work;
    private Path root;
    private Process process;

    @BeforeEach
    void workDirectory() throws IOException {
        work = Files.createTempDirectory("ferry-it-printed-");
        root = Files.createDirectories(work.resolve("ftp-root"));
        Files.writeString(root.resolve("pasted-and-listed.txt"), "hello");
    }

    @AfterEach
    void stop() throws Exception {
        Launcher.stop(process);
        FerryServerExtension.deleteTree(work);
    }

    /** {@code ./ferry ARGS 2>&1} in the work directory: stdout and stderr as one terminal shows them. */
    private Launcher.Started start(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("-c", "exec \"$0\" \"$@\" 2>&1", Launcher.script().toString()));
        command.addAll(List.of(args));
        Launcher.Started started = Launcher.start(Path.of("/bin/sh"), work, work.resolve("stderr.txt"), START_TIMEOUT,
                command.toArray(String[]::new));
        process = started.process();
        return started;
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void everyCommandTheClusterPrintsWorksAsPrinted() throws Exception {
        List<String> out = start("cluster", "--listen", "127.0.0.1:" + TestData.freePort(), "--admin", "off",
                "--root", root.toString()).stdout();
        runEachPrintedCommand(out);
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void everyCommandTheServerPrintsWorksAsPrinted() throws Exception {
        List<String> out = start("server", "--listen", "127.0.0.1:" + TestData.freePort(), "--root", root.toString()).stdout();
        runEachPrintedCommand(out);
    }

    /**
     * The health checks run every 2 s against each of the cluster's servers; before they were silent in the
     * servers' logs, each added two lines and the password left a 24-row terminal within seconds.
     */
    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void theBannerIsStillOnAScreenAfterSecondsOfChecks() throws Exception {
        Launcher.Started started = start("cluster", "--listen", "127.0.0.1:" + TestData.freePort(), "--admin", "off",
                "--root", root.toString());
        List<String> all = new ArrayList<>(started.stdout());
        int banner = indexOfBanner(all);
        assertThat(all.subList(banner, all.size()).stream().filter(l -> l.contains(" INFO ") || l.contains(" WARN ")))
                .as("the banner comes after the start-up log lines: %s", all).isEmpty();

        Thread.sleep(Duration.ofSeconds(12));   // six rounds of checks (inter 2 s) on two servers
        started.later().drainTo(all);

        System.out.println("PrintedCommandsTest: `ferry cluster` printed " + all.size() + " lines in its first 12 s of checks");
        assertThat(all.size() - banner).as("lines from the banner's first to the last: %s", all).isLessThanOrEqualTo(TERMINAL_ROWS);
        assertThat(all.subList(banner + 1, all.size())).as("no per-check lines").noneMatch(l -> l.contains("event=connect")
                || l.contains("event=disconnect"));
    }

    private static int indexOfBanner(List<String> out) {
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).startsWith("ferry cluster ") || out.get(i).startsWith("ferry server ")) {
                return i;
            }
        }
        throw new AssertionError("no banner in " + out);
    }

    /** Runs each printed curl or lftp line in a shell, as pasted; lftp reads {@code ls} and {@code quit} as typed. */
    private void runEachPrintedCommand(List<String> out) throws Exception {
        List<String> commands = out.subList(indexOfBanner(out), out.size()).stream()
                .map(l -> l.replaceFirst("^\\s+(try:\\s+)?", ""))
                .filter(l -> l.startsWith("curl ") || l.startsWith("lftp "))
                .toList();
        assertThat(commands).as("printed in %s", out).anyMatch(c -> c.startsWith("curl ")).anyMatch(c -> c.startsWith("lftp "));
        Path typed = Files.writeString(work.resolve("typed.txt"), "ls\nquit\n");
        for (String command : commands) {
            Path output = work.resolve("client-output.txt");
            Process client = new ProcessBuilder("bash", "-c", command).directory(work.toFile())
                    .redirectInput(typed.toFile()).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!client.waitFor(CLIENT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                ExternalCommand.kill(client);
                throw new AssertionError("`" + command + "` did not finish within " + CLIENT_TIMEOUT.toSeconds() + " s: "
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
            String said = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(client.exitValue()).as("`%s` exits 0; it said: %s", command, said).isZero();
            assertThat(said).as("`%s` lists the root", command).contains("pasted-and-listed.txt");
        }
    }
}
