package dev.ferry.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.ServerSettings.LoginPolicy;
import dev.ferry.server.auth.hook.HookSettings;
import dev.ferry.server.auth.ldap.LdapTestDirectory;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPConnectionClosedException;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** users: ldap and users: hook through a real server, with real FTP clients (Commons Net, curl). */
class ExternalAccountsFtpTest {

    @TempDir
    Path root;
    private FtpServer server;
    private HttpServer http;
    private AutoCloseable directory;
    private ServerSettings settings;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (http != null) {
            http.stop(0);
        }
        if (directory != null) {
            directory.close();
        }
    }

    private FtpServer start(AccountSource source) throws Exception {
        ServerSettings settings = ServerSettings.defaults(root)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withLoginPolicy(new LoginPolicy(Duration.ZERO, 3, 0, Duration.ofMinutes(5), Duration.ofMinutes(15),
                        Duration.ofMinutes(15)))
                .withAccountSource(source);
        server = FtpServer.start(settings);
        this.settings = settings;
        return server;
    }

    private FTPClient connect() throws Exception {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.connect("127.0.0.1", server.port());
        c.setSoTimeout(10_000);
        return c;
    }

    @Test
    void ldapLoginsWorkAndADirectoryThatIsDownAnswers421() throws Exception {
        LdapTestDirectory d = LdapTestDirectory.start(root.resolve("state"));
        directory = d;
        Files.createDirectories(root.resolve("home/alice"));
        Files.writeString(root.resolve("home/alice/hello.txt"), "hi");
        start(d.settings(Duration.ZERO));

        FTPClient c = connect();
        assertThat(c.login("alice", "alice-pw")).isTrue();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        c.enterLocalPassiveMode();
        assertThat(c.retrieveFile("hello.txt", got)).isTrue();
        assertThat(got.toString(StandardCharsets.UTF_8)).isEqualTo("hi");
        c.logout();
        c.disconnect();

        FTPClient wrong = connect();
        assertThat(wrong.login("alice", "nope")).isFalse();
        assertThat(wrong.getReplyCode()).isEqualTo(530);
        wrong.disconnect();

        d.close();
        FTPClient down = connect();
        // 421 closes the connection (Commons Net says so with an exception); no 530, no guess counted.
        assertThatThrownBy(() -> down.login("alice", "alice-pw")).isInstanceOf(FTPConnectionClosedException.class)
                .hasMessageContaining("421");
        assertThat(down.getReplyString()).startsWith("421 Login service unavailable");
        down.disconnect();
    }

    @Test
    void hookLoginWithCurlAndTheStartLineNamesTheSource() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        http = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 16);
        http.createContext("/auth", exchange -> {
            calls.incrementAndGet();
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String answer = body.contains("\"username\":\"carol\"") && body.contains("\"password\":\"c4rol\"")
                    ? "{\"status\":1,\"username\":\"carol\",\"home_dir\":\"/carol\",\"permissions\":{\"/\":[\"list\",\"download\"]}}"
                    : "{\"username\":\"\"}";
            byte[] out = answer.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        http.start();
        Files.createDirectories(root.resolve("carol"));
        Files.writeString(root.resolve("carol/report.txt"), "quarterly");
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("ferry.server");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        Level level = logger.getLevel();
        logger.setLevel(Level.INFO);
        logger.addAppender(lines);
        try {
            start(new HookSettings(URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/auth"),
                    Duration.ofSeconds(2), Duration.ofMinutes(1)));
        } finally {
            logger.detachAppender(lines);
            logger.setLevel(level);
        }
        assertThat(lines.list).map(ILoggingEvent::getFormattedMessage)
                .anySatisfy(line -> assertThat(line).contains("event=listening").contains("users=hook"));

        String url = "ftp://127.0.0.1:" + server.port() + "/report.txt";
        Process ok = new ProcessBuilder("curl", "-sS", "--max-time", "20", "-u", "carol:c4rol", url).start();
        assertThat(ok.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(ok.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("quarterly");
        assertThat(ok.exitValue()).isZero();

        Process again = new ProcessBuilder("curl", "-sS", "--max-time", "20", "-u", "carol:c4rol", url).start();
        assertThat(again.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(again.exitValue()).isZero();
        assertThat(calls).as("the second login was answered from the cache").hasValue(1);

        Process wrong = new ProcessBuilder("curl", "-sS", "--max-time", "20", "-u", "carol:nope", url).start();
        assertThat(wrong.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(wrong.exitValue()).as("curl: 67, login denied").isEqualTo(67);
    }

    @Test
    void aReloadOpensTheNewSourceAndClosesTheOldOne() throws Exception {
        LdapTestDirectory d = LdapTestDirectory.start(root.resolve("state"));
        directory = d;
        start(d.settings(Duration.ZERO));
        Accounts before = server.context().authenticator();
        assertThat(before.login("alice", "alice-pw".toCharArray(), null)).isInstanceOf(LoginResult.Success.class);

        server.reload(settings.withAccountSource(null).withUsers(List.of(new ServerSettings.UserAccount("dave",
                dev.ferry.runtime.password.PasswordHasher.hash("dave-pw".toCharArray()), null, true, true)), null));

        assertThat(server.context().authenticator()).isInstanceOf(Authenticator.class);
        assertThat(before.login("alice", "alice-pw".toCharArray(), null))
                .as("the replaced source is closed").isEqualTo(new LoginResult.Failure("alice", LoginResult.Reason.UNAVAILABLE));
        FTPClient c = connect();
        assertThat(c.login("dave", "dave-pw")).isTrue();
        c.disconnect();
    }

    /** FTP logins per second (connect, USER/PASS, QUIT) through LDAP, cache off and on; bounded in count and time. */
    @Test
    void ftpLoginRateThroughLdap() throws Exception {
        LdapTestDirectory d = LdapTestDirectory.start(root.resolve("state"));
        directory = d;
        Files.createDirectories(root.resolve("home/alice"));
        for (Duration ttl : List.of(Duration.ZERO, Duration.ofMinutes(5))) {
            start(d.settings(ttl));
            int n = 0;
            long begin = System.nanoTime();
            long deadline = begin + Duration.ofSeconds(2).toNanos();
            while (n < 1_000 && System.nanoTime() < deadline) {
                FTPClient c = connect();
                assertThat(c.login("alice", "alice-pw")).isTrue();
                c.logout();
                c.disconnect();
                n++;
            }
            double seconds = (System.nanoTime() - begin) / 1e9;
            System.out.printf("ftp login rate through ldap (cache %s): %d sessions in %.2f s = %.0f/s%n",
                    ttl.isZero() ? "off" : "on", n, seconds, n / seconds);
            server.close();
            server = null;
        }
    }
}
