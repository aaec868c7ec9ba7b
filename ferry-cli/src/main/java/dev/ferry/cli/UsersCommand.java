package dev.ferry.cli;

import dev.ferry.config.AtomicFile;
import dev.ferry.database.Database;
import dev.ferry.database.DatabaseSettings;
import dev.ferry.database.QuotaTable;
import dev.ferry.database.UserRow;
import dev.ferry.database.UserTable;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.log.NodeName;
import java.sql.SQLException;
import org.slf4j.LoggerFactory;
import dev.ferry.config.ConfigException;
import dev.ferry.config.ServerConfigFile;
import dev.ferry.config.UsersFile;
import dev.ferry.config.UsersFileText;
import dev.ferry.config.Values;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.auth.ChrootHome;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.StorageEngines;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.QuotaLedger;
import dev.ferry.server.policy.UsageScan;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ferry users}: manages a users file as Pure-FTPd's {@code pure-pw} does its database. Each change is
 * checked as the server checks the file, written atomically (see {@link AtomicFile}) and, on request, applied
 * by SIGHUP to the running server. A new user gets a home of its own by default: with none, a user would see
 * the whole root, other users' folders included.
 */
@Command(name = "users", sortOptions = false,
        description = {"Add, change, disable, remove and list the accounts of a users file, or of the PostgreSQL"
                        + " database of a server with 'users: database' (each command's options say how to name it).",
                "Each change edits only that user's lines (comments and layout stay), is checked as the server"
                        + " checks the file, and replaces the file atomically, keeping its mode, owner and group."
                        + " A running server applies it on SIGHUP: 'systemctl reload ferry-server', 'kill -HUP PID',"
                        + " or the reload option of each command."},
        subcommands = {UsersCommand.Add.class, UsersCommand.Passwd.class, UsersCommand.Disable.class,
                UsersCommand.Enable.class, UsersCommand.SetLimits.class, UsersCommand.Remove.class, UsersCommand.ListUsers.class,
                UsersCommand.Show.class, UsersCommand.Recount.class},
        footerHeading = "%n",
        footer = {"Run 'ferry users COMMAND --help' for the options of one command."})
public final class UsersCommand implements Runnable {

    static final int OK = 0;
    static final int IO_ERROR = 1;
    static final int REFUSED = 2;
    /**
     * Lines of the database's open (schema migrated, pool) go to the log, on stderr: stdout is the command's. Made on
     * first use, not when picocli builds the command tree: asking for a logger configures Logback (some 400 classes,
     * 0.3-0.4 CPU-s measured on `ferry --version`), which no other command should pay for.
     */
    static EventLog cliLog() {
        return CliLog.LOG;
    }

    /** Holder: initialised by the first {@link #cliLog()} call only. */
    private static final class CliLog {
        static final EventLog LOG = new EventLog(LoggerFactory.getLogger("ferry.users"), NodeName.local());
    }

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The options every subcommand takes: which file, and which server to tell. */
    static final class FileOptions {
        @Option(names = "--file", paramLabel = "FILE", defaultValue = "users.yaml",
                description = "The users file (default: ${DEFAULT-VALUE} in the current directory).")
        Path file;

        @Option(names = "--config", paramLabel = "FILE",
                description = "The server's configuration file: the users file is its server.users-file (not --file),"
                        + " and new homes are created under its server.root.")
        Path config;

        /** From --config, once {@link #usersFile} has read it; null without --config. */
        private ServerConfigFile.Accounts configured;

        /** The file to change: --config's server.users-file, else --file. */
        Path usersFile() throws ConfigException {
            if (config == null) {
                return file;
            }
            configured = ServerConfigFile.accounts(config);
            return configured.usersFile();
        }

        /** The server root --config names, or null. */
        Path configuredRoot() {
            return configured == null ? null : configured.root();
        }

        /** The object store --config's server keeps its files on, or null (local files, or no --config). */
        ObjectStore configuredStore() {
            return configured == null ? null : configured.objectStore();
        }

        @Option(names = "--database", paramLabel = "URL",
                description = "Change the accounts in this PostgreSQL database (postgresql://HOST:PORT/DB) instead of a"
                        + " file; with --config, a server's 'users: database' says the same. Every server sees a change"
                        + " at once.")
        String database;

        @Option(names = "--database-user", paramLabel = "ROLE", defaultValue = "ferry",
                description = "The PostgreSQL role for --database (default: ${DEFAULT-VALUE}).")
        String databaseUser;

        @Option(names = "--database-password-file", paramLabel = "FILE",
                description = "A file whose first line is the role's password, for --database.")
        Path databasePasswordFile;

        /**
         * The database whose accounts to change: --database, else that of --config's server when it says
         * {@code users: database}; null: a users file.
         */
        DatabaseSettings databaseSettings() throws ConfigException {
            if (database != null) {
                try {
                    return new DatabaseSettings(database, databaseUser, databasePasswordFile).withPoolSize(1);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("--database", 0, 0, e.getMessage());
                }
            }
            if (config == null) {
                return null;
            }
            configured = ServerConfigFile.accounts(config);
            return configured.database() == null ? null : configured.database().withPoolSize(1);
        }

        @Option(names = "--reload", paramLabel = "PID|PIDFILE",
                description = "After the change, send SIGHUP to this server process (a process id, or a file"
                        + " holding one) so that it applies the change to new logins.")
        String reload;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        boolean help;
    }

    /** One change of the file; the subclasses say which. */
    abstract static class Change implements Callable<Integer> {
        @Mixin
        FileOptions options;

        @Spec
        CommandSpec spec;

        final Supplier<Console> console;
        final InputStream stdin;

        Change(Supplier<Console> console, InputStream stdin) {
            this.console = console;
            this.stdin = stdin;
        }

        /** The new text of the file; throws IllegalArgumentException with the reason it is refused. */
        abstract String edit(UsersFileText current) throws IOException;

        /** What was done, for the operator. */
        abstract String done();

        boolean createsTheFile() {
            return false;
        }

        String who() {
            return "ferry users " + spec.name();
        }

        /**
         * The change made in the database's table; returns false (after saying why on stderr) when refused. Each
         * change sends its NOTIFY in its transaction (UserTable), so no reload is needed.
         */
        abstract boolean change(UserTable table) throws IOException, SQLException;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            DatabaseSettings db;
            try {
                db = options.databaseSettings();
            } catch (ConfigException e) {
                err.println(who() + ": " + e.getMessage());
                return REFUSED;
            }
            if (db != null) {
                return inDatabase(db, out, err);
            }
            Path file;
            try {
                file = options.usersFile();
            } catch (ConfigException e) {
                err.println(who() + ": " + e.getMessage());
                return REFUSED;
            }
            try {
                boolean exists = Files.exists(file);
                if (!exists && !createsTheFile()) {
                    err.println(who() + ": " + file + ": no such file");
                    return REFUSED;
                }
                String before = exists ? Files.readString(file, StandardCharsets.UTF_8) : null;
                UsersFileText current = exists ? UsersFileText.read(file) : UsersFileText.empty();
                String after = edit(current);
                if (after == null) {
                    return REFUSED;
                }
                AtomicFile.replace(file, after, written -> {
                    UsersFile.load(written, Path.of(""));
                    // SECURITY: two admins editing at once must not silently drop each other's change.
                    if (!Objects.equals(before, readIfExists(file))) {
                        throw new ConfigException(file.toString(), 0, 0,
                                "changed by someone else while being edited; nothing written, run the command again");
                    }
                });
                out.println(done() + " in " + file);
                out.flush();
                return reload(out, err);
            } catch (ConfigException e) {
                err.println(who() + ": " + e.getMessage());
                return REFUSED;
            } catch (IllegalArgumentException e) {
                err.println(who() + ": " + file + ": " + e.getMessage());
                return REFUSED;
            } catch (IOException e) {
                err.println(who() + ": " + e.getMessage());
                return IO_ERROR;
            }
        }

        private Integer inDatabase(DatabaseSettings settings, PrintWriter out, PrintWriter err) {
            try (Database db = Database.open(settings, cliLog())) {
                if (!change(new UserTable(db))) {
                    return REFUSED;
                }
                out.println(done() + " in " + settings.displayUrl());
                out.println("Every server using this database sees it at once (no reload needed).");
                out.flush();
                return OK;
            } catch (IllegalArgumentException e) {
                err.println(who() + ": " + e.getMessage());
                return REFUSED;
            } catch (SQLException e) {
                err.println(who() + ": database " + settings.displayUrl() + ": " + e.getMessage());
                return IO_ERROR;
            } catch (IOException e) {
                err.println(who() + ": " + e.getMessage());
                return IO_ERROR;
            }
        }

        /** Says that {@code name} is not in the database; false, for {@link #change}. */
        boolean noSuchUser(String name) {
            spec.commandLine().getErr().println(who() + ": no user '" + name + "' in the database");
            return false;
        }

        private static String readIfExists(Path file) {
            try {
                return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
            } catch (IOException e) {
                return "unreadable";
            }
        }

        private int reload(PrintWriter out, PrintWriter err) throws IOException {
            if (options.reload == null) {
                out.println("A running server applies it after SIGHUP (systemctl reload ferry-server, or kill -HUP PID).");
                return OK;
            }
            long pid = Signals.pid(options.reload);
            Signals.hangUp(pid);
            out.println("sent SIGHUP to process " + pid + "; the server logs event=reloaded when it has read the file");
            return OK;
        }

        /** The password for the account, hashed; null (after saying why) when none was given. */
        String hashedPassword(boolean fromStdin) throws IOException {
            PrintWriter err = spec.commandLine().getErr();
            char[] password = null;
            try {
                Console terminal = console.get();
                if (fromStdin) {
                    password = PasswdCommand.readLine(stdin, err);
                } else if (PasswdCommand.isInteractive(terminal)) {
                    password = PasswdCommand.readTwice(terminal, err);
                } else {
                    err.println(who() + ": no terminal to read the password from without echo;"
                            + " pipe it in with --password-stdin: printf '%s\\n' \"$PASSWORD\" | " + who()
                            + " NAME --password-stdin");
                    return null;
                }
                if (password == null) {
                    return null;
                }
                if (password.length == 0) {
                    err.println(who() + ": empty password refused; an account needs a password");
                    return null;
                }
                return PasswordHasher.hash(password);
            } finally {
                if (password != null) {
                    Arrays.fill(password, '\0');
                }
            }
        }
    }

    /** A user named on the command line, checked by the rule the users file applies. */
    static String checkedName(String name) {
        return Values.userName(name);
    }

    @Command(name = "add", sortOptions = false,
            description = {"Add an account with a home of its own.",
                    "The home is NAME under the server root unless --home says otherwise; with --root it is created"
                            + " there if missing, owned as the root is. The password is read from the terminal"
                            + " without echo (twice), or from standard input with --password-stdin. A new file is"
                            + " made readable by its owner only.",
                    "  ferry users add alice --file /etc/ferry/users.yaml --root /srv/ftp"},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:added", "1:I/O error",
                    "2:refused: bad or duplicate name, no password, or a file the server would refuse"})
    static final class Add extends Change {
        @Parameters(paramLabel = "NAME", description = "Login name: 1 to 64 letters, digits and . _ - @ +.")
        String name;

        @Option(names = "--home", paramLabel = "DIR",
                description = "Directory the user sees as /, relative to the server root (default: NAME).")
        String home;

        @Option(names = "--root", paramLabel = "DIR",
                description = "The server root, to create the home in when it is missing.")
        Path root;

        @Option(names = "--read-only", description = "Allow listing and downloading only.")
        boolean readOnly;

        @Option(names = "--password-stdin", description = "Read the password as one line from standard input.")
        boolean passwordStdin;

        @Mixin
        UserPolicyOptions policy;

        private String createdHome;

        Add() {
            this(System::console, System.in);
        }

        Add(Supplier<Console> console, InputStream stdin) {
            super(console, stdin);
        }

        @Override
        boolean createsTheFile() {
            return true;
        }

        @Override
        String edit(UsersFileText current) throws IOException {
            checkedName(name);
            String dir = home == null ? name : home;
            if (dir.isBlank() || dir.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("--home needs a directory name without control characters");
            }
            if (onObjectStore()) {
                // The server would refuse a home outside its root at load: refuse it before writing it.
                Path base = options.configuredRoot();
                options.configuredStore().homePrefix(base, base.resolve(dir));
            }
            if (current.has(name)) {
                throw new IllegalArgumentException("user '" + name + "' is already in the file"
                        + " (use 'ferry users passwd " + name + "' to change the password)");
            }
            // Checked before the password is asked for: a typo in a limit must not cost typing it twice.
            UserPolicyOptions.Checked limits = policy.over(AccountPolicy.NONE);
            String hash = hashedPassword(passwordStdin);
            if (hash == null) {
                return null;
            }
            String text = current.withAdded(name, hash, dir, readOnly);
            if (policy.any()) {
                text = limits.edit(policy, UsersFileText.parse(text), name);
            }
            Path root = root();
            // On an object store a home is a key prefix, made by the first upload: no directory to create.
            if (root != null && !onObjectStore()) {
                createdHome = createHome(root, dir);
            }
            return text;
        }

        @Override
        boolean change(UserTable table) throws IOException, SQLException {
            checkedName(name);
            // The table's rule is narrower than a users file's (ASCII only): said now, before the password is asked
            // for, rather than as the INSERT's constraint violation after it.
            if (!UserTable.isPossibleName(name)) {
                throw new IllegalArgumentException("a database account name is 1 to 64 ASCII letters, digits and"
                        + " . _ - @ +; got '" + name + "'");
            }
            String dir = home == null ? name : home;
            // The table's rule, as the admin API applies it: a home relative to every server's root.
            String problem = UserTable.homeProblem(dir);
            if (problem != null) {
                throw new IllegalArgumentException("--home " + problem);
            }
            if (onObjectStore()) {
                Path base = options.configuredRoot();
                options.configuredStore().homePrefix(base, base.resolve(dir));
            }
            if (table.find(name).isPresent()) {
                throw new IllegalArgumentException("user '" + name + "' is already in the database"
                        + " (use 'ferry users passwd " + name + "' to change the password)");
            }
            UserPolicyOptions.Checked limits = policy.over(AccountPolicy.NONE);
            String hash = hashedPassword(passwordStdin);
            if (hash == null) {
                return false;
            }
            try {
                table.add(limits.onto(UserRow.of(name, hash, dir, !readOnly)));
            } catch (UserTable.DuplicateUserException e) {
                throw new IllegalArgumentException("user '" + name + "' is already in the database");
            }
            Path root = root();
            if (root != null && !onObjectStore()) {
                createdHome = createHome(root, dir);
            }
            return true;
        }

        /** --root, else the root of --config's server. */
        private Path root() {
            return root != null ? root : options.configuredRoot();
        }

        /** --config's server keeps its files on an object store, and no --root asks for a local directory. */
        private boolean onObjectStore() {
            return root == null && options.configuredStore() != null;
        }

        @Override
        String done() {
            if (onObjectStore()) {
                ObjectStore store = options.configuredStore();
                Path base = options.configuredRoot();
                return "added " + name + ", home '" + (home == null ? name : home) + "': keys "
                        + store.homePrefix(base, base.resolve(home == null ? name : home)) + " in " + store.url();
            }
            Path root = root();
            String where = root == null ? "home '" + (home == null ? name : home) + "' under the server root"
                    + " (create it there, or pass --root)" : "home " + root.resolve(home == null ? name : home)
                    + (createdHome != null ? " (created)" : "");
            return "added " + name + ", " + where;
        }

        /** Creates the home with the owner and group of the root (the account the server runs as). */
        private static String createHome(Path root, String dir) throws IOException {
            if (!Files.isDirectory(root)) {
                throw new IllegalArgumentException("--root " + root + " is not a directory");
            }
            Path path = root.resolve(dir).normalize();
            if (Files.isDirectory(path)) {
                return null;
            }
            Files.createDirectories(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
            PosixFileAttributes owner = Files.readAttributes(root, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            try {
                if (!owner.owner().equals(view.readAttributes().owner())) {
                    view.setOwner(owner.owner());
                }
                if (!owner.group().equals(view.readAttributes().group())) {
                    view.setGroup(owner.group());
                }
            } catch (IOException e) {
                // Not root: the home stays ours, as the root presumably is.
            }
            return path.toString();
        }
    }

    @Command(name = "passwd", sortOptions = false,
            description = {"Change an account's password.",
                    "It is read from the terminal without echo (twice), or from standard input with --password-stdin."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:changed", "1:I/O error", "2:refused: no such user or no password"})
    static final class Passwd extends Change {
        @Parameters(paramLabel = "NAME", description = "The account's login name.")
        String name;

        @Option(names = "--password-stdin", description = "Read the password as one line from standard input.")
        boolean passwordStdin;

        Passwd() {
            this(System::console, System.in);
        }

        Passwd(Supplier<Console> console, InputStream stdin) {
            super(console, stdin);
        }

        @Override
        String edit(UsersFileText current) throws IOException {
            if (!current.has(checkedName(name))) {
                throw new IllegalArgumentException("no user '" + name + "' in the file");
            }
            String hash = hashedPassword(passwordStdin);
            return hash == null ? null : current.withValue(name, "password", hash);
        }

        @Override
        boolean change(UserTable table) throws IOException, SQLException {
            if (table.find(checkedName(name)).isEmpty()) {
                return noSuchUser(name);
            }
            String hash = hashedPassword(passwordStdin);
            if (hash == null) {
                return false;
            }
            return table.setPasswordHash(name, hash) || noSuchUser(name);
        }

        @Override
        String done() {
            return "changed the password of " + name;
        }
    }

    /** Sets {@code enabled:} of one account. */
    abstract static class Switch extends Change {
        @Parameters(paramLabel = "NAME", description = "The account's login name.")
        String name;

        Switch() {
            super(System::console, System.in);
        }

        abstract boolean enabled();

        @Override
        String edit(UsersFileText current) {
            return current.withValue(checkedName(name), "enabled", Boolean.toString(enabled()));
        }

        @Override
        boolean change(UserTable table) throws SQLException {
            return table.setEnabled(checkedName(name), enabled()) || noSuchUser(name);
        }

        @Override
        String done() {
            return (enabled() ? "enabled " : "disabled ") + name;
        }
    }

    @Command(name = "disable", description = "Refuse an account's logins but keep its entry (enabled: false).",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:disabled", "1:I/O error", "2:refused: no such user"})
    static final class Disable extends Switch {
        @Override
        boolean enabled() {
            return false;
        }
    }

    @Command(name = "enable", description = "Allow an account's logins again (enabled: true).",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:enabled", "1:I/O error", "2:refused: no such user"})
    static final class Enable extends Switch {
        @Override
        boolean enabled() {
            return true;
        }
    }

    @Command(name = "set", sortOptions = false,
            description = {"Change an existing account's home, access or limits; what is not named stays as it is.",
                    "  ferry users set alice --quota-bytes 10GiB --quota-files 10000 --upload-rate 1MiB --max-sessions 2",
                    "  ferry users set bob --rights '/=list,download;/incoming=list,upload'"},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:changed", "1:I/O error", "2:refused: no such user, nothing to change, or a bad value"})
    static final class SetLimits extends Change {
        @Parameters(paramLabel = "NAME", description = "The account's login name.")
        String name;

        @Option(names = "--home", paramLabel = "DIR", description = "Directory the user sees as /, relative to the server root.")
        String home;

        @Option(names = "--read-only", description = "Allow listing and downloading only.")
        boolean readOnly;

        @Option(names = "--read-write", description = "Allow uploads, deletes and renames again.")
        boolean readWrite;

        @Mixin
        UserPolicyOptions policy;

        SetLimits() {
            super(System::console, System.in);
        }

        private void check() {
            checkedName(name);
            if (readOnly && readWrite) {
                throw new IllegalArgumentException("--read-only and --read-write: give one");
            }
            if (home != null && (home.isBlank() || home.chars().anyMatch(Character::isISOControl))) {
                throw new IllegalArgumentException("--home needs a directory name without control characters");
            }
            if (home == null && !readOnly && !readWrite && !policy.any()) {
                throw new IllegalArgumentException("nothing to change; give --home, --read-only, --read-write or a limit"
                        + " (see ferry users set --help)");
            }
        }

        @Override
        String edit(UsersFileText current) throws IOException {
            check();
            if (!current.has(name)) {
                throw new IllegalArgumentException("no user '" + name + "' in the file");
            }
            AccountPolicy now;
            try {
                now = UsersFile.load(options.usersFile(), Path.of("")).stream().filter(a -> a.name().equals(name))
                        .map(ServerSettings.UserAccount::policy).findFirst().orElse(AccountPolicy.NONE);
            } catch (ConfigException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
            String text = policy.over(now).edit(policy, current, name);
            if (home != null) {
                text = UsersFileText.parse(text).withValue(name, "home", UsersFileText.scalar(home));
            }
            if (readOnly || readWrite) {
                text = UsersFileText.parse(text).withValue(name, "access", readOnly ? "read-only" : "read-write");
            }
            return text;
        }

        @Override
        boolean change(UserTable table) throws SQLException {
            check();
            String problem = home == null ? null : UserTable.homeProblem(home);
            if (problem != null) {
                throw new IllegalArgumentException("--home " + problem);
            }
            UserRow row = table.find(name).orElse(null);
            if (row == null) {
                return noSuchUser(name);
            }
            boolean found = policy.over(row).apply(policy, table, name);
            if (home != null) {
                found &= table.setHome(name, home);
            }
            if (readOnly || readWrite) {
                found &= table.setWritable(name, readWrite);
            }
            return found || noSuchUser(name);
        }

        @Override
        String done() {
            return "changed " + name;
        }
    }

    @Command(name = "remove", description = {"Remove an account's entry. Its home and files stay."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:removed", "1:I/O error", "2:refused: no such user"})
    static final class Remove extends Change {
        @Parameters(paramLabel = "NAME", description = "The account's login name.")
        String name;

        Remove() {
            super(System::console, System.in);
        }

        @Override
        String edit(UsersFileText current) {
            return current.withRemoved(checkedName(name));
        }

        @Override
        boolean change(UserTable table) throws SQLException {
            return table.remove(checkedName(name)) || noSuchUser(name);
        }

        @Override
        String done() {
            return "removed " + name + " (its home is left as it is)";
        }
    }

    @Command(name = "list", description = {"List the accounts sorted by name.",
            "Shows each one's home, access, whether it is enabled and, when any account has one, its own storage;"
                    + " never the password hashes."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:listed", "2:the file cannot be read or the server would refuse it"})
    static final class ListUsers implements Callable<Integer> {
        @Mixin
        FileOptions options;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                DatabaseSettings db = options.databaseSettings();
                List<UsersFileText.Entry> entries = (db != null ? fromDatabase(db) : UsersFileText.read(options.usersFile())
                        .entries()).stream().sorted(Comparator.comparing(UsersFileText.Entry::name)).toList();
                int width = Math.max(4, entries.stream().mapToInt(e -> e.name().length()).max().orElse(0));
                int homeWidth = Math.max(4, entries.stream().mapToInt(e -> home(e).length()).max().orElse(0));
                // A STORAGE column only when some account has a storage of its own: most files have none.
                boolean storage = entries.stream().anyMatch(e -> e.storage() != null);
                String format = "%-" + width + "s  %-" + homeWidth + "s  %-10s  %" + (storage ? "-7s  %s" : "s%s") + "%n";
                out.printf(format, "NAME", "HOME", "ACCESS", "ENABLED", storage ? "STORAGE" : "");
                for (UsersFileText.Entry e : entries) {
                    out.printf(format, e.name(), home(e), e.readOnly() ? "read-only" : "read-write", e.enabled() ? "yes" : "no",
                            !storage ? "" : e.storage() == null ? "(server's)" : e.storage());
                }
                out.flush();
                return OK;
            } catch (ConfigException e) {
                spec.commandLine().getErr().println("ferry users list: " + e.getMessage());
                return REFUSED;
            } catch (IOException e) {
                spec.commandLine().getErr().println("ferry users list: " + e.getMessage());
                return IO_ERROR;
            }
        }

        private static String home(UsersFileText.Entry e) {
            return e.home() == null ? "/ (the whole root)" : e.home();
        }
    }

    /** The database's accounts as the users file's entries, so that list and show print them the same way. */
    static List<UsersFileText.Entry> fromDatabase(DatabaseSettings settings) throws IOException {
        try (Database db = Database.open(settings, cliLog())) {
            return new UserTable(db).list().stream().map(UsersCommand::entry).toList();
        } catch (SQLException e) {
            throw new IOException("database " + settings.displayUrl() + ": " + e.getMessage(), e);
        }
    }

    private static UsersFileText.Entry entry(UserRow row) {
        return new UsersFileText.Entry(row.name(), row.home(), !row.writable(), row.enabled(), null);
    }

    @Command(name = "show", description = {"Show one account: home, access, whether it is enabled, its TLS policy and"
            + " limits (the database's columns); never the password hash."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:shown", "1:I/O error", "2:no such user, or the file cannot be read"})
    static final class Show implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "The account's login name.")
        String name;

        @Mixin
        FileOptions options;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                DatabaseSettings settings = options.databaseSettings();
                if (settings != null) {
                    UserRow row;
                    try (Database db = Database.open(settings, cliLog())) {
                        row = new UserTable(db).find(checkedName(name)).orElse(null);
                    } catch (SQLException e) {
                        err.println("ferry users show: database " + settings.displayUrl() + ": " + e.getMessage());
                        return IO_ERROR;
                    }
                    if (row == null) {
                        err.println("ferry users show: no user '" + name + "' in the database");
                        return REFUSED;
                    }
                    print(out, entry(row));
                    out.printf("%-10s %s%n", "tls:", row.tls() == null ? "(server's)" : row.tls());
                    limits(out, row.quotaBytes(), row.quotaFiles(), row.uploadRate(), row.downloadRate(), row.maxSessions(),
                            row.rights());
                    out.printf("%-10s %s%n", "created:", row.created());
                    out.printf("%-10s %s%n", "updated:", row.updated());
                } else {
                    UsersFileText.Entry e = UsersFileText.read(options.usersFile()).entries().stream()
                            .filter(x -> x.name().equals(name)).findFirst().orElse(null);
                    if (e == null) {
                        err.println("ferry users show: no user '" + name + "' in the file");
                        return REFUSED;
                    }
                    print(out, e);
                    if (e.storage() != null) {
                        out.printf("%-10s %s%n", "storage:", e.storage());
                    }
                    AccountPolicy p = UsersFile.load(options.usersFile(), Path.of("")).stream()
                            .filter(a -> a.name().equals(name)).map(ServerSettings.UserAccount::policy).findFirst()
                            .orElse(AccountPolicy.NONE);
                    limits(out, p.quota().bytes(), p.quota().files(), p.bandwidth().uploadPerSecond(),
                            p.bandwidth().downloadPerSecond(), p.maxSessions(), p.rights().isEmpty() ? null : p.rights().format());
                }
                out.flush();
                return OK;
            } catch (ConfigException e) {
                err.println("ferry users show: " + e.getMessage());
                return REFUSED;
            } catch (IllegalArgumentException e) {
                err.println("ferry users show: " + e.getMessage());
                return REFUSED;
            } catch (IOException e) {
                err.println("ferry users show: " + e.getMessage());
                return IO_ERROR;
            }
        }

        private static void print(PrintWriter out, UsersFileText.Entry e) {
            out.printf("%-10s %s%n", "name:", e.name());
            out.printf("%-10s %s%n", "home:", e.home() == null ? "/ (the whole root)" : e.home());
            out.printf("%-10s %s%n", "access:", e.readOnly() ? "read-only" : "read-write");
            out.printf("%-10s %s%n", "enabled:", e.enabled() ? "yes" : "no");
        }

        /** The same lines for both stores; rights in their text form, the form --rights takes. */
        private static void limits(PrintWriter out, long qBytes, long qFiles, long up, long down, int sessions, String rights) {
            out.printf("%-10s %s%n", "quota:", limit(qBytes, " bytes") + ", " + limit(qFiles, " files"));
            out.printf("%-10s %s%n", "bandwidth:", "up " + limit(up, " B/s") + ", down " + limit(down, " B/s"));
            out.printf("%-10s %s%n", "sessions:", limit(sessions, ""));
            out.printf("%-10s %s%n", "rights:", rights == null ? "(none)" : rights);
        }

        private static String limit(long n, String unit) {
            return n == 0 ? "no limit" : n + unit;
        }
    }

    @Command(name = "recount", description = {"Count an account's quota usage again by walking its home, for changes"
            + " made beside Ferry (a shell, a restore). Only for servers with a 'database:' section, whose quota ledger"
            + " is shared (a server without one counts in memory: a restart counts again). Refused while an upload"
            + " of the account is in progress; run it when the account is idle."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:recounted", "1:I/O error (the database, or the walk)",
                    "2:no such user, no database: section, or an upload in progress"})
    static final class Recount implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "The account's login name.")
        String name;

        @Option(names = "--config", paramLabel = "FILE", required = true,
                description = "The server's configuration file: its database, root, storage and accounts.")
        Path config;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        boolean help;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                ServerSettings s = ServerConfigFile.load(config, ServerSettings.defaults(
                        ServerCommand.DEFAULT_ROOT.toAbsolutePath()));
                if (s.database() == null) {
                    err.println("ferry users recount: " + config + " has no database: section; each server counts"
                            + " quotas in memory, and a restart counts them again");
                    return REFUSED;
                }
                try (Database db = Database.open(s.database().withPoolSize(1), cliLog());
                     StorageEngines engines = StorageEngines.open(s)) {
                    Storage storage = storage(s, db, engines, checkedName(name));
                    if (storage == null) {
                        err.println("ferry users recount: no user '" + name + "' in " + (s.accountSource() != null
                                ? "the " + s.accountSource().kind() + " accounts (only the users file's and the"
                                + " database's can be resolved here)" : "the users file"));
                        return REFUSED;
                    }
                    QuotaTable.Recount r = new QuotaTable(db).recount(name, () -> {
                        QuotaLedger.Counted c = UsageScan.count(storage);
                        return new QuotaTable.Count(c.bytes(), c.files());
                    });
                    if (r.busy()) {
                        err.println("ferry users recount: " + name + " has an upload in progress ("
                                + r.after().bytesReserved() + " bytes reserved); try again when it is idle");
                        return REFUSED;
                    }
                    out.println(name + ": " + r.after().bytesUsed() + " bytes, " + r.after().filesUsed() + " files"
                            + (r.before() == null ? " (counted for the first time)"
                            : " (was " + r.before().bytesUsed() + " bytes, " + r.before().filesUsed() + " files)"));
                    out.flush();
                    return OK;
                }
            } catch (ConfigException | IllegalArgumentException e) {
                err.println("ferry users recount: " + e.getMessage());
                return REFUSED;
            } catch (SQLException e) {
                err.println("ferry users recount: database: " + e.getMessage());
                return IO_ERROR;
            } catch (IOException e) {
                err.println("ferry users recount: " + e.getMessage());
                return IO_ERROR;
            }
        }

        /** The account's storage as its sessions see it; null when the account is not found. */
        private static Storage storage(ServerSettings s, Database db, StorageEngines engines, String name)
                throws IOException, SQLException {
            for (ServerSettings.UserAccount u : s.users()) {
                if (u.name().equals(name)) {
                    return engines.forAccount(u.storage()).forHome(u.home() != null ? u.home() : s.root());
                }
            }
            if (s.accountSource() != null && "database".equals(s.accountSource().kind())) {
                UserRow row = new UserTable(db).find(name).orElse(null);
                if (row != null) {
                    // as DatabaseAccounts reads it (ChrootHome: below the root); none: the root
                    Path root = s.root().toAbsolutePath().normalize();
                    Path home = row.home() == null || row.home().isEmpty() ? root : ChrootHome.resolve(root, row.home());
                    if (home == null) {
                        throw new IllegalArgumentException("user '" + name + "' has the home '" + row.home()
                                + "', outside the root: servers refuse its logins; set another with 'ferry users set'");
                    }
                    return engines.server().forHome(home);
                }
            }
            return null;
        }
    }

    /** SIGHUP to a server: the JDK cannot send a signal, so {@code kill -HUP}. */
    static final class Signals {
        private Signals() {
        }

        static long pid(String pidOrFile) throws IOException {
            String text = pidOrFile.chars().allMatch(Character::isDigit) ? pidOrFile
                    : Files.readString(Path.of(pidOrFile)).strip();
            long pid;
            try {
                pid = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new IOException("--reload " + pidOrFile + ": expected a process id or a file holding one");
            }
            if (ProcessHandle.of(pid).isEmpty()) {
                throw new IOException("--reload: no process " + pid + " (the file is changed; reload the server yourself)");
            }
            return pid;
        }

        static void hangUp(long pid) throws IOException {
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(pid)).redirectErrorStream(true).start();
            try {
                if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                    throw new IOException("--reload: kill -HUP " + pid + " failed: "
                            + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()
                            + " (the file is changed; reload the server yourself)");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while sending SIGHUP", e);
            }
        }
    }
}
