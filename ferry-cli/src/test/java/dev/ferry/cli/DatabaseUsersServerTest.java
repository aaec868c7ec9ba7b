package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.config.ServerConfigFile;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.PostgresServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code users: database} over real sockets: a {@code ferry server} (in this JVM) whose accounts are in a private
 * PostgreSQL, a user made with {@code ferry users add --config}, logging in with Commons Net and curl; disabling it
 * refuses the next login at once; a database that stops answers new logins 421 while a session logged in goes on
 * listing and downloading; the database back, logins work again.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DatabaseUsersServerTest {

    @TempDir
    Path dir;
    private PostgresServer pg;
    private FtpServer server;

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    record Run(int exitCode, String out, String err) {}

    static Run users(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                var in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
                if (cls == UsersCommand.Add.class) {
                    return cls.cast(new UsersCommand.Add(() -> null, in));
                }
                if (cls == UsersCommand.Passwd.class) {
                    return cls.cast(new UsersCommand.Passwd(() -> null, in));
                }
                return CommandLine.defaultFactory().create(cls);
            }
        };
        CommandLine cli = new CommandLine(new UsersCommand(), factory);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return new Run(cli.execute(args), out.toString(), err.toString());
    }

    /** A server config with {@code users: database} on {@code pg}; the failure delay off so refusals come at once. */
    static Path config(Path dir, PostgresServer pg, Path root, String extra) throws Exception {
        return Files.writeString(dir.resolve("ferry.yaml"), """
                server:
                  listen: 127.0.0.1:0
                  root: %s
                  users: database
                  database:
                    url: %s
                    user: %s
                    password-file: %s
                    connect-timeout: 3s
                    query-timeout: 2s
                  tls: {enabled: false}
                  login: {failure-delay: 0s, ban-after-failures: 0%s}
                """.formatted(root, pg.url(), pg.user(), pg.passwordFile(), extra));
    }

    private static FTPClient connect(int port) throws Exception {
        FTPClient ftp = new FTPClient();
        ftp.setConnectTimeout(10_000);
        ftp.setDefaultTimeout(10_000);
        ftp.connect("127.0.0.1", port);
        ftp.setSoTimeout(10_000);
        return ftp;
    }

    /** The reply code to PASS after USER (230: in; 530: refused; 421: service unavailable). */
    private static int login(int port, String user, String password) throws Exception {
        FTPClient ftp = connect(port);
        try {
            ftp.user(user);
            return ftp.pass(password);
        } catch (org.apache.commons.net.ftp.FTPConnectionClosedException closed) {
            // Commons Net turns a 421 into this exception after reading it; the reply code is kept
            return ftp.getReplyCode();
        } finally {
            ftp.disconnect();
        }
    }

    private static String curl(List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (var in = p.getInputStream()) {
                in.transferTo(out);
            } catch (java.io.IOException ignored) {
                // destroyed
            }
        });
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("curl did not end: " + command);
        }
        reader.join(5_000);
        assertThat(p.exitValue()).as("curl %s: %s", args, out).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aUserAddedWithFerryUsersLogsInAndAnOutageOnlyRefusesNewLogins() throws Exception {
        pg = PostgresServer.create();
        Path root = Files.createDirectories(dir.resolve("root"));
        Path file = config(dir, pg, root, "");

        Run added = users("s3cret-alice\n", "add", "alice", "--config", file.toString(), "--password-stdin");
        assertThat(added.exitCode()).as(added.err()).isZero();
        assertThat(added.out()).contains("added alice, home " + root.resolve("alice") + " (created)")
                .contains("in " + pg.url());
        Files.writeString(root.resolve("alice/hello.txt"), "hello from the database\n");

        Run listed = users("", "list", "--config", file.toString());
        assertThat(listed.out()).containsPattern("NAME +HOME +ACCESS +ENABLED\\s+alice +alice +read-write +yes");
        Run shown = users("", "show", "alice", "--config", file.toString());
        assertThat(shown.out()).contains("name:      alice").contains("enabled:   yes").doesNotContain("argon2");

        ServerSettings settings = ServerConfigFile.load(file, ServerSettings.defaults(root));
        server = FtpServer.start(settings);
        int port = server.port();

        // Commons Net
        FTPClient session = connect(port);
        assertThat(session.login("alice", "s3cret-alice")).isTrue();
        session.enterLocalPassiveMode();
        session.setFileType(FTP.BINARY_FILE_TYPE);
        assertThat(session.listFiles()).extracting(FTPFile::getName).containsExactly("hello.txt");
        // curl
        assertThat(curl(List.of("ftp://alice:s3cret-alice@127.0.0.1:" + port + "/hello.txt")))
                .isEqualTo("hello from the database\n");
        assertThat(login(port, "alice", "wrong")).isEqualTo(530);
        assertThat(login(port, "mallory", "x")).isEqualTo(530);

        // disabled: refused as soon as the NOTIFY has reached the server (milliseconds; the NOTIFY leaves at the
        // commit, so a login in the very same instant may still beat it), long before the row cache's 30 s
        Run disabled = users("", "disable", "alice", "--config", file.toString());
        assertThat(disabled.exitCode()).as(disabled.err()).isZero();
        long since = System.nanoTime();
        int refused = login(port, "alice", "s3cret-alice");
        int attempts = 1;
        while (refused != 530 && System.nanoTime() - since < Duration.ofSeconds(2).toNanos()) {
            Thread.sleep(5);
            refused = login(port, "alice", "s3cret-alice");
            attempts++;
        }
        assertThat(refused).isEqualTo(530);
        System.out.printf("disabled user refused after %d login(s), %d ms after `ferry users disable` returned%n",
                attempts, (System.nanoTime() - since) / 1_000_000);
        assertThat(users("", "enable", "alice", "--config", file.toString()).exitCode()).isZero();
        assertThat(login(port, "alice", "s3cret-alice")).isEqualTo(230);

        // the database stops: a new login hears 421; the session logged in goes on listing and downloading
        pg.stop();
        assertThat(login(port, "alice", "s3cret-alice")).isEqualTo(421);
        assertThat(session.listFiles()).extracting(FTPFile::getName).containsExactly("hello.txt");
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        assertThat(session.retrieveFile("hello.txt", got)).isTrue();
        assertThat(got.toString(StandardCharsets.UTF_8)).isEqualTo("hello from the database\n");

        // back: logins work again (the pool makes new connections; bounded wait for the first)
        pg.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        int reply;
        do {
            Thread.sleep(50);
            reply = login(port, "alice", "s3cret-alice");
        } while (reply != 230 && System.nanoTime() < deadline);
        assertThat(reply).isEqualTo(230);
        assertThat(session.sendNoOp()).isTrue();

        // a reload (SIGHUP) keeps the database's accounts: nothing to re-read, changes are seen already
        assertThat(server.reload(ServerConfigFile.load(file, ServerSettings.defaults(root)))).isEmpty();
        assertThat(login(port, "alice", "s3cret-alice")).isEqualTo(230);
        session.logout();
        session.disconnect();

        Run removed = users("", "remove", "alice", "--config", file.toString());
        assertThat(removed.out()).contains("removed alice");
        assertThat(login(port, "alice", "s3cret-alice")).isEqualTo(530);
        assertThat(users("", "remove", "alice", "--config", file.toString()).exitCode()).isEqualTo(UsersCommand.REFUSED);
    }

    /** {@code --check-config} with {@code users: database}: connects, says which schema is there, changes nothing. */
    @Test
    void checkConfigConnectsAndSaysWhetherTheSchemaIsThere() throws Exception {
        pg = PostgresServer.create();
        Path root = Files.createDirectories(dir.resolve("root"));
        Path file = config(dir, pg, root, "");

        String[] fresh = checkConfig(file, 0);
        assertThat(fresh[0]).contains("database: " + pg.url() + " user=ferry password-file=" + pg.passwordFile()
                + ": answers, no Ferry schema yet").contains("configuration OK: " + file);
        assertThat(pg.psql(PostgresServer.DATABASE, "SELECT to_regclass('ferry_schema_version') IS NULL"))
                .as("the check created nothing").isEqualTo("t");

        assertThat(users("", "list", "--config", file.toString()).exitCode()).isZero(); // opens: migrates
        // whatever the newest migration is (never a literal version: every piece adds one)
        int latest = Integer.parseInt(pg.psql(PostgresServer.DATABASE, "SELECT max(version) FROM ferry_schema_version").strip());
        assertThat(checkConfig(file, 0)[0]).contains(": answers, schema version " + latest + " (current)");

        pg.stop();
        String[] down = checkConfig(file, CheckConfig.INVALID);
        assertThat(down[1]).contains("ferry server: database " + pg.url() + " as ferry:");
        // the start opens the database before it binds: down, the start fails with the same words
        ServerSettings settings = ServerConfigFile.load(file, ServerSettings.defaults(root));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FtpServer.start(settings))
                .isInstanceOf(java.io.IOException.class).hasMessageStartingWith("database " + pg.url() + " as ferry:");
    }

    /** stdout and stderr of {@code ferry server --config FILE --check-config}, which must exit {@code exit}. */
    private static String[] checkConfig(Path file, int exit) {
        java.io.PrintStream oldOut = System.out;
        java.io.PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = new CommandLine(new ServerCommand());
            cl.execute("--config", file.toString(), "--check-config");
            Started started = cl.getExecutionResult();
            assertThat(started.running()).isFalse();
            assertThat(started.exitCode()).as(err.toString(StandardCharsets.UTF_8)).isEqualTo(exit);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new String[] {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }
}
