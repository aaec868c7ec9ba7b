package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/**
 * What {@code ferry [COMMAND] --help} and {@code --version} print, for every command: each option is
 * described, the text only names flags the command has, and hand-written lines fit the 80 columns
 * picocli wraps to (a longer footer line would wrap without its indent).
 */
class HelpTest {

    private static final int WIDTH = new CommandLine.Model.UsageMessageSpec().width();
    private static final Pattern FLAG = Pattern.compile("(?<![\\w-])--[a-z][a-z0-9-]*");

    /** The ferry command and each of its subcommands but picocli's own {@code help}. */
    static Stream<String> commands() {
        List<String> names = new ArrayList<>(List.of("ferry"));
        Main.commandLine().getSubcommands().keySet().stream().filter(n -> !n.equals("help")).forEach(names::add);
        return names.stream();
    }

    private static CommandLine command(String name) {
        CommandLine root = Main.commandLine();
        return name.equals("ferry") ? root : root.getSubcommands().get(name);
    }

    private static String[] withCommand(String name, String... args) {
        return name.equals("ferry") ? args : Stream.concat(Stream.of(name), Stream.of(args)).toArray(String[]::new);
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void helpStartsWithTheUsageLineAndExitsZero(String name) {
        Run r = run(withCommand(name, "--help"));

        assertThat(r.exitCode()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).startsWith(name.equals("ferry") ? "Usage: ferry " : "Usage: ferry " + name + " ");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void everyOptionIsDescribedInASentence(String name) {
        for (OptionSpec option : command(name).getCommandSpec().options()) {
            String text = String.join(" ", option.description());
            assertThat(text).as("description of %s %s", name, option.longestName()).isNotBlank().endsWith(".");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void theTextNamesOnlyFlagsTheCommandHas(String name) {
        CommandSpec spec = command(name).getCommandSpec();
        Set<String> flags = new TreeSet<>();
        for (OptionSpec option : spec.options()) {
            flags.addAll(List.of(option.names()));
        }
        List<String> text = new ArrayList<>();
        text.addAll(List.of(spec.usageMessage().description()));
        text.addAll(List.of(spec.usageMessage().footer()));
        text.addAll(spec.usageMessage().exitCodeList().values());
        spec.options().forEach(o -> text.addAll(List.of(o.description())));

        for (String line : text) {
            Matcher m = FLAG.matcher(line);
            while (m.find()) {
                assertThat(flags).as("'%s' in the help of %s: %s", m.group(), name, line).contains(m.group());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void handWrittenLinesFitTheWidth(String name) {
        CommandSpec spec = command(name).getCommandSpec();
        for (String line : spec.usageMessage().footer()) {
            assertThat(line.length()).as("footer line of %s: %s", name, line).isLessThanOrEqualTo(WIDTH);
        }
        for (Map.Entry<String, String> code : spec.usageMessage().exitCodeList().entrySet()) {
            // picocli indents the code by 2 and pads it to 6 columns
            assertThat(2 + Math.max(6, code.getKey().length()) + code.getValue().length())
                    .as("exit code line of %s: %s", name, code.getValue()).isLessThanOrEqualTo(WIDTH);
        }
    }

    @Test
    void versionIsTheBuildsVersion() {
        Run r = run("--version");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out().strip()).matches("ferry \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
        assertThat(run("server", "--version").out()).isEqualTo(r.out());
        assertThat(run("balancer", "-V").out()).isEqualTo(r.out());
        assertThat(run("cluster", "--version").out()).isEqualTo(r.out());
    }
}
