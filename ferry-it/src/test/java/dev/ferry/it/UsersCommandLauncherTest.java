package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./ferry users} as an operator runs it, then {@code ./ferry server} on the file it wrote: the user added
 * logs in with curl and is jailed in a home of its own (other users' folders out of reach); a home that does not
 * exist is named in one WARN at start; a user added with {@code --reload PID} can log in without a restart.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class UsersCommandLauncherTest {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private Path work;
    private Process process;

    @AfterEach
    void stop() throws Exception {
        if (process != null) {
            Launcher.stop(process);
        }
        TestData.deleteTree(work);
    }

    /** {@code printf '%s\n' PASSWORD | ./ferry users ARGS}, as a script would run it. */
    private ExternalCommand.Result users(String password, String args) throws Exception {
        return ExternalCommand.run(work, COMMAND_TIMEOUT, Map.of("FERRY", Launcher.script().toString(), "PW", password),
                java.util.List.of("sh", "-c", "printf '%s\\n' \"$PW\" | \"$FERRY\" users " + args));
    }

    private ExternalCommand.Result curl(String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("curl", "-sS", "--max-time", "30"));
        command.addAll(java.util.List.of(args));
        return ExternalCommand.run(work, COMMAND_TIMEOUT, Map.of(), command);
    }

    @Test
    void anAddedUserLogsInJailedInItsOwnHome() throws Exception {
        work = Files.createTempDirectory("ferry-it-users-");
        Path root = Files.createDirectories(work.resolve("root"));
        Files.writeString(Files.createDirectories(root.resolve("bob")).resolve("bob-private.txt"), "bob's");
        Files.writeString(root.resolve("top-secret.txt"), "root's");
        Files.writeString(work.resolve("report.txt"), "alice's report\n");

        ExternalCommand.Result added = users("alice-pw", "add alice --file users.yaml --root root --password-stdin")
                .assertSuccess();
        assertThat(added.stdout()).contains("added alice").doesNotContain("alice-pw");
        users("carol-pw", "add carol --file users.yaml --password-stdin").assertSuccess();
        assertThat(users("x", "remove mallory --file users.yaml").exitCode()).isEqualTo(2);
        assertThat(Files.isDirectory(root.resolve("alice"))).isTrue();
        assertThat(Files.readString(work.resolve("users.yaml"))).contains("home: alice").doesNotContain("alice-pw");

        int port = TestData.freePort();
        Launcher.Started started = Launcher.start(work, work.resolve("stderr.txt"), START_TIMEOUT, "server",
                "--listen", "127.0.0.1:" + port, "--root", root.toString(), "--users-file", "users.yaml");
        process = started.process();
        TestData.within(Duration.ofSeconds(20), "carol's missing home is named at start", () -> Files
                .readAllLines(work.resolve("stderr.txt")).stream().anyMatch(l -> l.contains("WARN")
                        && l.contains("event=home-missing user=carol home=" + root.resolve("carol"))));
        assertThat(Files.readAllLines(work.resolve("stderr.txt")).stream().filter(l -> l.contains("event=home-")))
                .as("one line per user with a bad home").hasSize(1);

        String url = "ftp://127.0.0.1:" + port;
        curl("-u", "alice:alice-pw", "-T", "report.txt", url + "/report.txt").assertSuccess();
        assertThat(root.resolve("alice").resolve("report.txt")).hasContent("alice's report");
        String listing = curl("-u", "alice:alice-pw", "--list-only", url + "/").assertSuccess().stdout();
        assertThat(listing.lines()).containsExactly("report.txt");
        assertThat(curl("-u", "alice:alice-pw", url + "/../bob/bob-private.txt", "--path-as-is").stdout())
                .doesNotContain("bob's");
        assertThat(curl("-u", "alice:alice-pw", url + "/../top-secret.txt", "--path-as-is").stdout())
                .doesNotContain("root's");

        users("dave-pw", "add dave --file users.yaml --root root --password-stdin --reload " + process.pid())
                .assertSuccess();
        TestData.within(Duration.ofSeconds(20), "the reload is logged", () -> Files.readAllLines(work.resolve("stderr.txt"))
                .stream().anyMatch(l -> l.contains("event=reloaded users=3")));
        assertThat(curl("-u", "dave:dave-pw", "--list-only", url + "/").assertSuccess().stdout()).isEmpty();
    }
}
