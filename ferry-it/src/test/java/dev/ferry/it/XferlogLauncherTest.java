package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ferry server --xferlog FILE} as an operator runs it: one xferlog line per transfer in the file, appended
 * to what it held, none on the console; with {@code --log-format json} every console line is one JSON object.
 */
class XferlogLauncherTest {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);

    private Path work;
    private Process process;

    @BeforeEach
    void workDirectory() throws IOException {
        work = Files.createTempDirectory("ferry-it-xferlog-");
    }

    @AfterEach
    void stop() throws Exception {
        Launcher.stop(process);
        FerryServerExtension.deleteTree(work);
    }

    private ExternalCommand.Result curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-u", "u:p"));
        command.addAll(List.of(args));
        return ExternalCommand.run(work, Duration.ofSeconds(30), Map.of(), command).assertSuccess();
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void writesOneXferlogLinePerTransferToTheFileOnly() throws Exception {
        int port = TestData.freePort();
        Path root = Files.createDirectories(work.resolve("root"));
        Path xferlog = Files.writeString(work.resolve("xferlog"), "an older line\n");
        Files.writeString(work.resolve("up.txt"), "hello\n");
        Path stderr = work.resolve("stderr.txt");
        process = Launcher.start(work, stderr, START_TIMEOUT, "server", "--listen", "127.0.0.1:" + port,
                "--root", root.toString(), "--user", "u:p", "--xferlog", xferlog.toString(), "--log-format", "json").process();

        curl("-T", "up.txt", "ftp://127.0.0.1:" + port + "/up.txt");
        assertThat(curl("ftp://127.0.0.1:" + port + "/up.txt").stdout()).isEqualTo("hello\n");
        TestData.within(Duration.ofSeconds(10), "two xferlog lines", () -> Files.readAllLines(xferlog).size() == 3);
        Launcher.stop(process);
        process = null;

        List<String> lines = Files.readAllLines(xferlog);
        assertThat(lines.get(0)).isEqualTo("an older line");
        // xferlog(5): ctime (5 fields), seconds, host, bytes, file, type, action, direction, mode, user, service,
        // authentication method, authenticated user id, completion
        assertThat(lines.get(1).split(" +")).hasSize(18).endsWith("127.0.0.1", "6", "/up.txt", "b", "_", "i", "r", "u", "ftp", "0", "*", "c");
        assertThat(lines.get(2).split(" +")).endsWith("/up.txt", "b", "_", "o", "r", "u", "ftp", "0", "*", "c");

        List<String> console = Files.readAllLines(stderr);
        assertThat(console).isNotEmpty().allMatch(l -> l.startsWith("{\"time\":\"") && l.endsWith("}"));
        assertThat(console).noneMatch(l -> l.contains("/up.txt b _"));
    }
}
