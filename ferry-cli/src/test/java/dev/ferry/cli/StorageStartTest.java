package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.config.StateDirectory;
import dev.ferry.testkit.S3ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ferry server --storage s3://...} against a real S3 API (S3Proxy, in memory, on loopback): the start
 * checks the bucket before it binds, a login works, a wrong bucket or secret stops the start with one line and
 * exit 1, {@code --check-config} reports and checks the store; the secret is never printed.
 */
@Timeout(60)
class StorageStartTest {

    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:([0-9]+), serving (\\S+)");

    private static S3ProxyServer s3;

    @TempDir
    Path dir;

    private Path credentials;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<Started> running = new ArrayList<>();

    @BeforeAll
    static void startStore() throws Exception {
        s3 = S3ProxyServer.inMemory("127.0.0.1");
    }

    @AfterAll
    static void stopStore() throws Exception {
        s3.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(System.getenv(StateDirectory.VARIABLE) == null, "the test's own environment sets $STATE_DIRECTORY");
        credentials = credentials("credentials", S3ProxyServer.SECRET_KEY);
    }

    @AfterEach
    void stopServers() {
        running.forEach(Started::stop);
    }

    private Path credentials(String name, String secret) throws Exception {
        return Files.writeString(dir.resolve(name), "[default]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + secret + "\n");
    }

    private record Outcome(Started started, String out, String err) {
    }

    private Outcome run(Callable<Started> command, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = new CommandLine(command);
            int code = cl.execute(args);
            Started started = cl.getExecutionResult();
            if (started == null) {
                started = Started.failed(code);
            }
            if (started.running()) {
                running.add(started);
            }
            return new Outcome(started, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** The server's flags, on the store at {@code url}, with the credentials file given. */
    private String[] server(String url, Path credentialsFile, String... more) {
        List<String> args = new ArrayList<>(List.of("--listen", "127.0.0.1:0", "--no-tls", "--state-dir", dir.toString(),
                "--user", "alice:pw-alice", "--storage", url, "--s3-endpoint", s3.endpoint().toString(), "--s3-path-style",
                "--s3-credentials-file", credentialsFile.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void theServerStartsOnTheBucketAndAUserLogsIn() throws Exception {
        Outcome o = run(new ServerCommand(), server("s3://ferry/srv", credentials));

        assertThat(o.started().running()).as(o.err()).isTrue();
        Matcher m = LISTENING.matcher(o.out());
        assertThat(m.find()).as(o.out()).isTrue();
        assertThat(m.group(2)).isEqualTo("s3://ferry/srv");
        FTPClient ftp = new FTPClient();
        ftp.setConnectTimeout(5000);
        ftp.setDefaultTimeout(5000);
        try {
            ftp.connect("127.0.0.1", Integer.parseInt(m.group(1)));
            ftp.setSoTimeout(5000);
            assertThat(ftp.login("alice", "pw-alice")).as(ftp.getReplyString()).isTrue();
            assertThat(ftp.getReplyCode()).isEqualTo(230);
            assertThat(ftp.features()).isTrue();
            assertThat(ftp.getReplyString()).as("an object store keeps no times: no MFMT").doesNotContain("MFMT");
            ftp.logout();
        } finally {
            ftp.disconnect();
        }
        assertThat(o.err()).contains("event=listening", "storage=s3://ferry/srv");
        assertThat(o.out() + o.err()).doesNotContain(S3ProxyServer.SECRET_KEY);
    }

    @Test
    void aWrongBucketStopsTheStartWithOneLineAndExit1() throws Exception {
        Outcome o = run(new ServerCommand(), server("s3://nosuch/srv", credentials));

        assertThat(o.started().running()).isFalse();
        assertThat(o.started().exitCode()).isEqualTo(1);
        assertThat(errorLines(o.err())).containsExactly("ferry server: storage s3://nosuch/srv at " + s3.endpoint()
                + " cannot be used: the bucket does not exist");
        assertThat(o.out() + o.err()).doesNotContain(S3ProxyServer.SECRET_KEY).doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void aRefusedSecretStopsTheStartWithoutPrintingIt() throws Exception {
        String wrong = "wrong-secret-that-must-stay-unprinted";
        Outcome o = run(new ServerCommand(), server("s3://ferry/srv", credentials("wrong", wrong)));

        assertThat(o.started().exitCode()).isEqualTo(1);
        assertThat(errorLines(o.err())).singleElement().asString().startsWith("ferry server: storage s3://ferry/srv at ")
                .endsWith("cannot be used: the credentials were refused (check the access key and secret, or the credentials file)");
        assertThat(o.out() + o.err()).doesNotContain(wrong);
    }

    @Test
    void checkConfigReportsTheStoreAndChecksTheBucket() throws Exception {
        Outcome ok = run(new ServerCommand(), server("s3://ferry/srv", credentials, "--check-config"));

        assertThat(ok.started().exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).isEqualTo("storage: s3://ferry/srv endpoint=" + s3.endpoint() + " region=us-east-1 path-style=true"
                + " credentials=" + credentials + " part-size=8MiB parts-in-flight=4 upload-memory=256MiB request-timeout=60s:"
                + " bucket answers" + System.lineSeparator()
                + "configuration OK: (server options only, no --config)" + System.lineSeparator());
        assertThat(ok.out() + ok.err()).doesNotContain(S3ProxyServer.SECRET_KEY);
    }

    @Test
    void checkConfigWithAWrongBucketFailsWithExit2() throws Exception {
        Outcome o = run(new ServerCommand(), server("s3://nosuch", credentials, "--check-config"));

        assertThat(o.started().exitCode()).isEqualTo(CheckConfig.INVALID);
        assertThat(errorLines(o.err())).containsExactly("ferry server: storage s3://nosuch at " + s3.endpoint()
                + " cannot be used: the bucket does not exist");
    }

    @Test
    void anAccountsOwnBucketIsCheckedAtStartAndNamed() throws Exception {
        String hash = dev.ferry.runtime.password.PasswordHasher.hash("pw-bob".toCharArray(), 8, 1, 1);
        Path users = Files.writeString(dir.resolve("users.yaml"), """
                users:
                  - {name: bob, password: '%s', home: bob, storage: s3://missing-bucket/b}
                """.formatted(hash));

        Outcome o = run(new ServerCommand(), server("s3://ferry/srv", credentials, "--users-file", users.toString()));

        assertThat(o.started().exitCode()).isEqualTo(1);
        assertThat(errorLines(o.err())).containsExactly("ferry server: user bob: storage s3://missing-bucket/b at "
                + s3.endpoint() + " cannot be used: the bucket does not exist");
    }

    @Test
    void aClusterRunsItsServersOnTheStoreAndAUserLogsInThroughTheBalancer() throws Exception {
        Outcome o = run(new ClusterCommand(), "--backends", "2", "--admin", "off", "--listen", "127.0.0.1:0",
                "--root", dir.resolve("root").toString(), "--storage", "s3://ferry/cluster", "--s3-endpoint",
                s3.endpoint().toString(), "--s3-path-style", "--s3-credentials-file", credentials.toString());

        assertThat(o.started().running()).as(o.err()).isTrue();
        Matcher banner = Pattern.compile("balancer on 127\\.0\\.0\\.1:([0-9]+) in front of 2 servers sharing s3://ferry/cluster")
                .matcher(o.out());
        Matcher password = Pattern.compile("user: ferry   password: (\\S+)").matcher(o.out());
        assertThat(banner.find()).as(o.out()).isTrue();
        assertThat(password.find()).isTrue();
        assertThat(dir.resolve("root")).as("no directory for an object store").doesNotExist();
        FTPClient ftp = new FTPClient();
        ftp.setConnectTimeout(5000);
        ftp.setDefaultTimeout(5000);
        try {
            ftp.connect("127.0.0.1", Integer.parseInt(banner.group(1)));
            ftp.setSoTimeout(5000);
            assertThat(ftp.login("ferry", password.group(1))).as(ftp.getReplyString()).isTrue();
            ftp.logout();
        } finally {
            ftp.disconnect();
        }
        assertThat(o.out() + o.err()).doesNotContain(S3ProxyServer.SECRET_KEY);
    }

    @Test
    void aClusterSharesTheStoreAndAWrongBucketStopsIt() throws Exception {
        Outcome o = run(new ClusterCommand(), "--backends", "1", "--admin", "off", "--listen", "127.0.0.1:0",
                "--root", dir.resolve("root").toString(), "--storage", "s3://nosuch", "--s3-endpoint", s3.endpoint().toString(),
                "--s3-path-style", "--s3-credentials-file", credentials.toString());

        assertThat(o.started().exitCode()).isEqualTo(1);
        assertThat(errorLines(o.err())).containsExactly("ferry cluster: storage s3://nosuch at " + s3.endpoint()
                + " cannot be used: the bucket does not exist");
    }

    /** Stderr without the log's own lines (those start with a timestamp): what the command itself said. */
    private static List<String> errorLines(String err) {
        return err.lines().filter(l -> !l.matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*")).toList();
    }
}
