package dev.ferry.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A private PostgreSQL cluster for one test class: Debian's {@code postgresql} binaries ({@code initdb},
 * {@code pg_ctl}, {@code psql} of the newest {@code /usr/lib/postgresql/N/bin}, never a symlink on PATH), a data
 * directory in a temp directory, listening on a loopback address and a free port, with its unix socket inside the
 * temp directory. Stopped ({@code pg_ctl stop -m immediate}) and removed on close.
 *
 * <p>{@code initdb} and {@code postgres} refuse to run as root, and CI runs as root: then every server program runs
 * as the {@code postgres} user (the package makes it) or else as {@code nobody}, through {@code runuser} or
 * {@code setpriv}, and the data directory is handed to that user. A role {@value #ROLE} with a random password
 * (SCRAM-SHA-256 over TCP) owns database {@value #DATABASE}; its password is in {@link #passwordFile()}, so the
 * tests go through the same password-file path as an operator. The superuser connects over the unix socket only.
 *
 * <p>Missing PostgreSQL: the test fails under {@code CI=true} (.ci/run installs it) and is skipped, loudly, elsewhere.
 *
 * <p>On another network ({@link #create(String, int, String, List)}): the multi-host test bed runs the server on its
 * database host, a network namespace, by putting {@code ip netns exec NS} before {@code pg_ctl start}; the postmaster
 * started there lives in that namespace. Only the start needs it: {@code initdb}, {@code psql} (the unix socket is a
 * file, reachable from any network namespace) and {@code pg_ctl stop} (a signal to the PID in {@code postmaster.pid})
 * run here, so the cluster can be stopped even after the namespace's name is gone.
 */
public final class PostgresServer implements AutoCloseable {

    public static final String ROLE = "ferry";
    public static final String DATABASE = "ferry";
    /** A loopback address of its own, so that a test can tell the database's connections from others. */
    public static final String DEFAULT_HOST = "127.0.0.51";
    private static final String SUPERUSER = "postgres";
    private static final long COMMAND_SECONDS = 120;

    private final Path bin;
    private final Path dir;
    private final Path data;
    private final Path socketDir;
    private final Path passwordFile;
    private final Path logFile;
    private final String host;
    private final int port;
    private final List<String> asServerUser;
    /** What goes before {@code pg_ctl start} (and only it): where the server runs. */
    private final List<String> startPrefix;
    /** The network let in over TCP (SCRAM): pg_hba.conf's address column. */
    private final String clients;
    private boolean running;
    /** Stops the cluster if the JVM ends without close() (a test run killed on timeout): no postgres left behind. */
    private final Thread cleanup = new Thread(this::closeQuietly, "ferry-pg-cleanup");

    private PostgresServer(Path bin, Path dir, String host, int port, List<String> asServerUser, List<String> startPrefix,
                           String clients) {
        this.bin = bin;
        this.dir = dir;
        this.data = dir.resolve("pg/data");
        this.socketDir = dir.resolve("pg/socket");
        this.passwordFile = dir.resolve("password");
        this.logFile = dir.resolve("pg/server.log");
        this.host = host;
        this.port = port;
        this.asServerUser = asServerUser;
        this.startPrefix = List.copyOf(startPrefix);
        this.clients = clients;
    }

    /** The newest Debian PostgreSQL's bin directory, if the package is installed. */
    public static Optional<Path> binaries() {
        Path lib = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(lib)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(lib)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(PostgresServer::major));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int major(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString().replaceAll("\\..*", ""));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A running cluster on {@link #DEFAULT_HOST}; skips (or, under CI=true, fails) when PostgreSQL is missing. */
    public static PostgresServer create() throws IOException {
        return create(DEFAULT_HOST);
    }

    public static PostgresServer create(String host) throws IOException {
        return create(host, 0, "127.0.0.0/8", List.of());
    }

    /**
     * A running cluster listening on {@code host:port} (port 0: a free one, probed here, so only for a host of this
     * network), letting in {@code clients} (a CIDR network) with SCRAM, its server started under {@code startPrefix}
     * (such as {@code ip netns exec NS}: the namespace that holds {@code host}); skips (or, under CI=true, fails) when
     * PostgreSQL is missing.
     */
    public static PostgresServer create(String host, int port, String clients, List<String> startPrefix) throws IOException {
        if (port == 0 && !startPrefix.isEmpty()) {
            throw new IllegalArgumentException("a server started elsewhere needs its port given: a free one cannot be probed here");
        }
        if (!clients.matches("[0-9a-fA-F.:]+/[0-9]{1,3}")) {
            throw new IllegalArgumentException("clients must be an address/prefix network: " + clients);
        }
        Optional<Path> bin = binaries();
        if (bin.isEmpty()) {
            String message = "PostgreSQL tests need Debian's postgresql package (/usr/lib/postgresql/*/bin/initdb)";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(message + " (.ci/run installs it)");
            }
            System.err.println("SKIPPED " + message);
            Assumptions.abort(message);
        }
        Path dir = Files.createTempDirectory("ferry-pg");
        PostgresServer pg = null;
        try {
            List<String> as = List.of();
            String owner = null;
            if (uid() == 0) {
                if (userExists(SUPERUSER)) {
                    as = List.of("runuser", "-u", SUPERUSER, "--");
                    owner = SUPERUSER;
                } else {
                    as = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups");
                    owner = "nobody";
                }
            }
            Files.createDirectories(dir.resolve("pg/socket"));
            // the temp directory is root's and 0700: the server's user must pass through it to its own part
            run(List.of("chmod", "0755", dir.toString()), dir);
            if (owner != null) {
                run(List.of("chown", "-R", owner, dir.resolve("pg").toString()), dir);
            }
            pg = new PostgresServer(bin.get(), dir, host, port == 0 ? freePort(host) : port, as, startPrefix, clients);
            pg.init();
            pg.start();
            Runtime.getRuntime().addShutdownHook(pg.cleanup);
            pg.createRole();
            return pg;
        } catch (IOException | RuntimeException | Error e) {
            if (pg != null) {
                pg.closeQuietly(); // stops it if it started, and removes the directory
            } else {
                deleteTree(dir);
            }
            throw e;
        }
    }

    private void init() throws IOException {
        Path pwfile = dir.resolve("pg/superuser-password");
        // initdb wants a superuser password with password auth; it is never used (the superuser comes over the
        // socket with trust), so a random one is thrown away once initdb has read it.
        Files.writeString(pwfile, randomPassword() + "\n");
        if (!asServerUser.isEmpty()) {
            run(List.of("chown", asServerUser.get(0).equals("runuser") ? SUPERUSER : "nobody", pwfile.toString()), dir);
        }
        serverCommand(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", SUPERUSER,
                "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
                "--no-sync"));
        Files.delete(pwfile);
        Files.writeString(data.resolve("postgresql.conf"), String.join("\n",
                "",
                "# ferry PostgresServer",
                "listen_addresses = '" + host + "'",
                "port = " + port,
                "unix_socket_directories = '" + socketDir + "'",
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
                "shared_buffers = 16MB",
                "max_connections = 100",
                "") , StandardOpenOption.APPEND);
        // initdb's host lines name 127.0.0.1 and ::1 only; the test's own loopback address is elsewhere in 127/8,
        // and a test bed's hosts are on a network of their own
        Files.writeString(data.resolve("pg_hba.conf"), "host all all " + clients + " scram-sha-256\n",
                StandardOpenOption.APPEND);
    }

    private void createRole() throws IOException {
        String password = randomPassword();
        Files.writeString(passwordFile, password + "\n");
        psql("postgres", "CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + password + "'");
        psql("postgres", "CREATE DATABASE " + DATABASE + " OWNER " + ROLE);
    }

    /** Makes another database owned by {@value #ROLE} and returns its URL (a fresh schema per test). */
    public String createDatabase(String name) throws IOException {
        if (!name.matches("[a-z][a-z0-9_]{0,40}")) {
            throw new IllegalArgumentException("database name " + name);
        }
        psql("postgres", "CREATE DATABASE " + name + " OWNER " + ROLE);
        return url(name);
    }

    /** Runs SQL as the superuser (over the unix socket) in {@code database}; returns psql's unaligned output. */
    public String psql(String database, String sql) throws IOException {
        return run(List.of(bin.resolve("psql").toString(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", socketDir.toString(), "-p", Integer.toString(port), "-U", SUPERUSER, "-d", database, "-c", sql), dir);
    }

    /** {@code postgresql://HOST:PORT/ferry}. */
    public String url() {
        return url(DATABASE);
    }

    public String url(String database) {
        return "postgresql://" + host + ":" + port + "/" + database;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String user() {
        return ROLE;
    }

    /** A file whose first line is {@value #ROLE}'s password. */
    public Path passwordFile() {
        return passwordFile;
    }

    /** Stops the server (fast shutdown: sessions are ended); {@link #start()} brings it back with the same data. */
    public synchronized void stop() throws IOException {
        if (running) {
            serverCommand(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w",
                    "-t", "60", "stop"));
            running = false;
        }
    }

    /** Starts (again) and waits until it accepts connections. */
    public synchronized void start() throws IOException {
        if (!running) {
            serverCommand(startPrefix, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", logFile.toString(),
                    "-w", "-t", "60", "start"));
            running = true;
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException | RuntimeException ignored) {
            // the JVM is ending: nothing more to do
        }
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            if (Thread.currentThread() != cleanup) {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            }
        } catch (IllegalStateException | IllegalArgumentException shuttingDownOrNotAdded) {
            // the hook runs (or never was added): either way close goes on
        }
        try {
            if (running) {
                serverCommand(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate",
                        "-w", "-t", "60", "stop"));
                running = false;
            }
        } finally {
            deleteTree(dir);
        }
    }

    private String serverCommand(List<String> command) throws IOException {
        return serverCommand(List.of(), command);
    }

    private String serverCommand(List<String> prefix, List<String> command) throws IOException {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(asServerUser);
        full.addAll(command);
        return run(full, dir.resolve("pg"));
    }

    /** Runs a program to its end (bounded), returning its output; a non-zero exit is an IOException with the output. */
    private static String run(List<String> command, Path workingDirectory) throws IOException {
        // the role's password is on psql's command line: never in a message
        String shown = String.join(" ", command).replaceAll("PASSWORD '[^']*'", "PASSWORD '***'");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        try {
            // Read on the side, so that the wait below stays bounded even if the program never closes its output.
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (var in = p.getInputStream()) {
                    in.transferTo(out);
                } catch (IOException ignored) {
                    // the process was destroyed
                }
            });
            if (!p.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(shown + " did not end within " + COMMAND_SECONDS + " s");
            }
            reader.join(5_000);
            String text;
            synchronized (out) {
                text = out.toString(StandardCharsets.UTF_8);
            }
            if (p.exitValue() != 0) {
                throw new IOException(shown + " exited " + p.exitValue() + ": " + text.strip());
            }
            return text.strip();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + shown, e);
        }
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        }
    }

    private static int uid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    private static boolean userExists(String name) throws IOException {
        return Files.readAllLines(Path.of("/etc/passwd")).stream().anyMatch(l -> l.startsWith(name + ":"));
    }

    private static String randomPassword() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
