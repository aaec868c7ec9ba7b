package dev.ferry.cli;

import dev.ferry.runtime.password.PasswordHasher;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ferry passwd}: turns a password into an Argon2id hash for the users file.
 *
 * <p>The password is read without echo from the terminal (twice, to catch typos) or, for scripts,
 * as one line from a pipe. It never appears in arguments (visible in {@code ps} and shell history),
 * in output or in messages. When standard input is a terminal but no console is available (output
 * redirected), reading would echo the password, so the command refuses and says what to do instead.
 */
@Command(name = "passwd", sortOptions = false,
        description = {"Hash a password (Argon2id; the password itself is never stored), for a users file,",
                "or for balancer.admin.users. Reads it from the terminal without echo, or one line",
                "from standard input. To add or change an account in a users file, 'ferry users'",
                "edits the file safely; with --user this prints an entry (with a home of its own)",
                "to paste under 'users:' by hand:",
                "  printf '%%s\\n' \"$PASSWORD\" | ferry passwd --user alice"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:hash printed", "1:I/O error", "2:no usable password or bad option"})
public final class PasswdCommand implements Callable<Integer> {

    static final int MAX_PASSWORD_CHARS = 1024;
    private static final Pattern PLAIN_YAML_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9._@-]*");
    // Words YAML loaders may turn into booleans or null if left unquoted.
    private static final Set<String> YAML_WORDS = Set.of("true", "false", "null", "yes", "no", "on", "off", "y", "n");

    @Option(names = "--user", paramLabel = "NAME",
            description = "Print a users-file entry for NAME (home: NAME) instead of the bare hash.")
    String user;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandSpec spec;

    private final Supplier<Console> console;
    private final InputStream stdin;

    public PasswdCommand() {
        this(System::console, System.in);
    }

    PasswdCommand(Supplier<Console> console, InputStream stdin) {
        this.console = console;
        this.stdin = stdin;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (user != null && (user.isEmpty() || user.length() > 256 || user.chars().anyMatch(Character::isISOControl))) {
            err.println("ferry passwd: --user needs a name of 1 to 256 characters without control characters");
            return 2;
        }
        char[] password = null;
        try {
            Console terminal = console.get();
            if (isInteractive(terminal)) {
                password = readTwice(terminal, err);
            } else if (stdinIsTerminal()) {
                err.println("ferry passwd: standard input is a terminal but there is no console (is the output redirected?),"
                        + " so the password would be echoed. Run it with output to the terminal and copy the line, or pipe"
                        + " the password in: printf '%s\\n' \"$PASSWORD\" | ferry passwd --user NAME");
                return 2;
            } else {
                password = readLine(stdin, err);
            }
            if (password == null) {
                return 2;
            }
            if (password.length == 0) {
                err.println("ferry passwd: empty password refused; an account needs a password"
                        + " (for public read-only access enable anonymous login instead)");
                return 2;
            }
            String hash = PasswordHasher.hash(password);
            if (user == null) {
                out.println(hash);
            } else {
                // Indented as an item of `users:`, with a home of its own: without one the user would see the
                // whole root, other users' folders included.
                out.println("  - name: " + yamlScalar(user));
                out.println("    password: '" + hash + "'");
                out.println("    home: " + yamlScalar(user) + "      # relative to the server root; create it");
            }
            out.flush();
            return 0;
        } finally {
            if (password != null) {
                Arrays.fill(password, '\0');
            }
        }
    }

    static char[] readTwice(Console terminal, PrintWriter err) {
        char[] first = terminal.readPassword("Password: ");
        if (first == null) {
            err.println("ferry passwd: no password read");
            return null;
        }
        char[] second = terminal.readPassword("Repeat password: ");
        try {
            if (second == null || !Arrays.equals(first, second)) {
                err.println("ferry passwd: the passwords do not match");
                Arrays.fill(first, '\0');
                return null;
            }
            return first;
        } finally {
            if (second != null) {
                Arrays.fill(second, '\0');
            }
        }
    }

    /** One line of UTF-8 from a pipe, without its line ending, never through a String. */
    static char[] readLine(InputStream in, PrintWriter err) throws IOException {
        Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8);
        char[] buffer = new char[MAX_PASSWORD_CHARS + 1];
        int length = 0;
        int c;
        while ((c = reader.read()) != -1 && c != '\n') {
            if (length == buffer.length) {
                Arrays.fill(buffer, '\0');
                err.println("ferry passwd: password longer than " + MAX_PASSWORD_CHARS + " characters refused");
                return null;
            }
            buffer[length++] = (char) c;
        }
        if (length > 0 && buffer[length - 1] == '\r') {
            length--;
        }
        char[] line = Arrays.copyOf(buffer, length);
        Arrays.fill(buffer, '\0');
        return line;
    }

    static boolean isInteractive(Console terminal) {
        if (terminal == null) {
            return false;
        }
        // From JDK 22 a console may exist without a terminal; Console.isTerminal() says which.
        // JDK 21 has no such method, but there a console exists only on a terminal.
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(terminal);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    /** Best effort (Linux): whether standard input is a terminal, where reading a line would echo. */
    static boolean stdinIsTerminal() {
        try {
            String target = Path.of("/proc/self/fd/0").toRealPath().toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | RuntimeException e) {
            return false;   // cannot tell: not Linux, or stdin is a pipe or a file
        }
    }

    static String yamlScalar(String value) {
        if (PLAIN_YAML_NAME.matcher(value).matches() && !YAML_WORDS.contains(value.toLowerCase(Locale.ROOT))) {
            return value;
        }
        return "'" + value.replace("'", "''") + "'";
    }
}
