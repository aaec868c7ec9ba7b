package dev.ferry.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** {@code ferry}: the command-line entry point. */
@Command(name = "ferry",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "An FTP server and an FTP-aware load balancer.",
        sortOptions = false,
        footerHeading = "%n",
        footer = {"Run 'ferry COMMAND --help' for the options of one command.",
                "",
                "Environment:",
                "  JAVA_HOME        a JDK 21 or newer to run on (default: java on the PATH,",
                "                   else the newest in /usr/lib/jvm)",
                "  FERRY_JAVA_OPTS  extra JVM options, after the defaults (e.g. -Xmx2g)",
                "  FERRY_LOG_LEVEL  INFO (default), or DEBUG to log every command too",
                "",
                "Documentation: README.md; every option and YAML key: docs/configuration.md."},
        subcommands = {ServerCommand.class, BalancerCommand.class, ClusterCommand.class, PasswdCommand.class,
                UsersCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        CommandLine commandLine = commandLine();
        int code = commandLine.execute(args);
        Started started = started(commandLine);
        if (started != null) {
            code = started.exitCode();
        }
        // With a service running, its threads keep the JVM up until the shutdown hook stops it.
        if (started == null || !started.running()) {
            System.exit(code);
        }
    }

    /** What the command that ran returned, when it is one that starts a service. */
    private static Started started(CommandLine commandLine) {
        CommandLine.ParseResult parsed = commandLine.getParseResult();
        if (parsed == null) {
            return null;
        }
        while (parsed.hasSubcommand()) {
            parsed = parsed.subcommand();
        }
        return parsed.commandSpec().commandLine().getExecutionResult() instanceof Started s ? s : null;
    }

    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The version from the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            return new String[] {"ferry " + version()};
        }
    }

    public static String version() {
        Properties p = new Properties();
        try (InputStream in = Main.class.getResourceAsStream("/ferry-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }
}
