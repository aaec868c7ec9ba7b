package dev.ferry.cli.docs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The completion script run by bash, and the man pages rendered by man(1) (or groff), as users get them. */
class ShellFilesTest {
    @TempDir
    static Path out;

    @BeforeAll
    static void write() throws IOException {
        ShellFiles.write(out);
    }

    /** What bash offers after {@code line} (the last word being completed), through the registered function. */
    @ParameterizedTest(name = "{0}<TAB> -> {1}")
    @CsvSource(delimiter = '|', value = {
            "ferry ser|server",
            "ferry ba|balancer",
            "ferry server --max-se|--max-sessions --max-sessions-per-address",
            "ferry server --ano|--anonymous",
            "ferry balancer --back|--backend-tls --backend --backend-tls-ca",
            "ferry users ad|add",
    })
    void bashCompletesCommandsAndOptions(String line, String expected) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "bash");
        String script = """
                source "$1"
                read -r -a COMP_WORDS <<< "$2"
                COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                COMP_LINE="$2"
                COMP_POINT=${#COMP_LINE}
                $(complete -p ferry | sed 's/.* -F \\([^ ]*\\) .*/\\1/') 2>/dev/null
                echo "${COMPREPLY[*]}"
                """;

        Result r = run(List.of("bash", "-c", script, "bash", out.resolve("bash-completion/ferry").toString(), line),
                Map.of());

        assertThat(r.stdout().strip()).isEqualTo(expected);
    }

    @Test
    void thereIsAPagePerCommand() throws IOException {
        try (var pages = Files.list(out.resolve("man"))) {
            assertThat(pages.map(p -> p.getFileName().toString()).toList()).contains("ferry.1", "ferry-server.1",
                    "ferry-balancer.1", "ferry-cluster.1", "ferry-passwd.1", "ferry-users.1", "ferry-users-add.1")
                    .doesNotContain("ferry-help.1");
        }
    }

    @Test
    void manRendersTheServerPageWithItsOptions() throws Exception {
        Path page = out.resolve("man/ferry-server.1");
        Result r;
        if (Files.isExecutable(Path.of("/usr/bin/man"))) {
            r = run(List.of("man", "-l", page.toString()), Map.of("MANWIDTH", "100", "MANPAGER", "cat", "PAGER", "cat"));
        } else {
            Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/groff")), "man or groff");
            r = run(List.of("groff", "-man", "-Tutf8", page.toString()), Map.of());
        }

        String text = r.stdout().replaceAll(".\b", "").replace('\u2010', '-').replace('\u2212', '-');
        assertThat(r.stderr()).doesNotContain("warning");
        assertThat(text).contains("FERRY-SERVER(1)", "NAME", "ferry-server - Run an FTP server.", "SYNOPSIS",
                "ferry server", "OPTIONS", "--max-sessions N", "--umask", "--anonymous", "EXAMPLES", "SEE ALSO",
                "ferry(1)");
    }

    @Test
    void troffEscapesWhatWouldBeRequestsOrEscapes() {
        assertThat(ManPage.escape(".hidden")).isEqualTo("\\&.hidden");
        assertThat(ManPage.escape("'quoted")).isEqualTo("\\&'quoted");
        assertThat(ManPage.escape("a\\b")).isEqualTo("a\\eb");
        assertThat(ManPage.escape("--umask")).isEqualTo("\\-\\-umask");
    }

    private record Result(int code, String stdout, String stderr) {}

    private static Result run(List<String> command, Map<String, String> environment) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(out.resolve("stdout").toFile()).redirectError(out.resolve("stderr").toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish in 30 s");
        }
        return new Result(process.exitValue(), Files.readString(out.resolve("stdout"), UTF_8),
                Files.readString(out.resolve("stderr"), UTF_8));
    }
}
