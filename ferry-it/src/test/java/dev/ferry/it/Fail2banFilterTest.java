package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.ferry.cli.log.JsonLines;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.log.SessionLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shipped fail2ban filter (ferry-dist/src/dist/fail2ban/filter.d/ferry.conf) through fail2ban's own
 * {@code fail2ban-regex}: which lines it matches and, above all, which address it would ban. CI installs
 * Debian's fail2ban (.ci/run); elsewhere a missing fail2ban-regex skips these tests, loudly.
 */
class Fail2banFilterTest {

    private static final Path FILTER = Path.of("").toAbsolutePath().getParent()
            .resolve("ferry-dist/src/dist/fail2ban/filter.d/ferry.conf");
    private static final Pattern SUMMARY = Pattern.compile("Lines: (\\d+) lines, (\\d+) ignored, (\\d+) matched, (\\d+) missed");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);

    private Path work;
    private Process process;

    /** What fail2ban-regex said about one log file. */
    record Verdict(int lines, int matched, List<String> matchedLines, List<String> addresses) {}

    @BeforeEach
    void workDirectory() throws IOException {
        work = Files.createTempDirectory("ferry-it-fail2ban-");
        requireFail2banRegex();
    }

    @AfterEach
    void stop() throws Exception {
        Launcher.stop(process);
        FerryServerExtension.deleteTree(work);
    }

    /** Under CI=true the tool is part of the set-up and its absence a failure; on a workstation a skip. */
    private static void requireFail2banRegex() {
        try {
            ExternalCommand.requireInstalled("fail2ban-regex");
        } catch (AssertionError missing) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("fail2ban-regex is not installed; .ci/run installs Debian's fail2ban", missing);
            }
            System.err.println("""
                    ************************************************************************
                    Fail2banFilterTest SKIPPED: fail2ban-regex is not installed here.
                    The shipped fail2ban filter is NOT tested. apt-get install fail2ban
                    ************************************************************************""");
            Assumptions.abort("fail2ban-regex is not installed (apt-get install fail2ban)");
        }
    }

    /** fail2ban-regex on {@code lines}: its summary, the lines it matched, and the addresses it found in them. */
    private Verdict regex(List<String> lines) throws Exception {
        Path log = Files.write(work.resolve("ferry-" + System.nanoTime() + ".log"), lines);
        return regex(log);
    }

    private Verdict regex(Path log) throws Exception {
        ExternalCommand.Result all = fail2banRegex("--print-all-matched", log.toString(), FILTER.toString());
        Matcher summary = SUMMARY.matcher(all.stdout());
        assertThat(summary.find()).as(all.describe("printed no summary")).isTrue();
        List<String> matched = all.stdout().lines()
                .dropWhile(l -> !l.startsWith("|- Matched line(s):")).skip(1)
                .takeWhile(l -> l.startsWith("|  "))
                .map(l -> l.substring(3))
                .toList();
        // -o ip: the address fail2ban would ban, one line per matched line.
        ExternalCommand.Result ips = fail2banRegex("-o", "ip", log.toString(), FILTER.toString());
        List<String> addresses = ips.stdout().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        return new Verdict(Integer.parseInt(summary.group(1)), Integer.parseInt(summary.group(3)), matched, addresses);
    }

    private ExternalCommand.Result fail2banRegex(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("fail2ban-regex"));
        command.addAll(List.of(args));
        return ExternalCommand.run(work, Duration.ofSeconds(60), Map.of("LC_ALL", "C.UTF-8"), command).assertSuccess();
    }

    @Test
    void matchesTheFailedLoginOfBothDaemonsInBothFormatsAndBansTheRealClient() throws Exception {
        Verdict v = regex(List.of(
                "2026-12-07T14:07:36.123+00:00 WARN  ferry.server node=s1 session=c12 event=login-failed client=127.0.0.2:40112 user=alice reason=password attempt=1",
                "2026-12-07T14:07:37.123+00:00 WARN  ferry.balancer node=lb session=b3 event=login-failed client=[2001:db8::1]:40112 user=\"a b\"",
                "2026-12-07T14:07:38.123+00:00 WARN  ferry.server node=s1 session=c13 event=login-failed client=127.0.0.4:40112 user=- attempt=1",
                "{\"time\":\"2026-12-07T14:07:41.123+00:00\",\"level\":\"WARN\",\"logger\":\"ferry.server\",\"node\":\"s1\",\"session\":\"c16\","
                        + "\"event\":\"login-failed\",\"client\":\"127.0.0.8:40112\",\"user\":\"alice\"}",
                "{\"time\":\"2026-12-07T14:07:42.123+00:00\",\"level\":\"WARN\",\"logger\":\"ferry.balancer\",\"node\":\"lb\",\"session\":\"b9\","
                        + "\"event\":\"login-failed\",\"client\":\"[2001:db8::2]:40112\",\"user\":\"-\"}",
                // as a syslog-style file of the journal has them: host, unit, pid before the line
                "Dec  7 14:07:43 ftp1 ferry[812]: 2026-12-07T14:07:43.123+00:00 WARN  ferry.server node=s1 session=c20 "
                        + "event=login-failed client=127.0.0.10:40112 user=bob"));
        assertThat(v.lines()).isEqualTo(6);
        assertThat(v.matched()).isEqualTo(6);
        assertThat(v.addresses()).containsExactly("127.0.0.2", "2001:db8::1", "127.0.0.4", "127.0.0.8", "2001:db8::2", "127.0.0.10");
    }

    @Test
    void aUserNameHoldingAnotherAddressNeverGetsThatAddressBanned() throws Exception {
        Verdict v = regex(List.of(
                // logfmt quotes a value with a space or '=' (Logfmt), JSON escapes the quotes: what the daemons write.
                "2026-12-07T14:07:38.123+00:00 WARN  ferry.server node=s1 session=c13 event=login-failed client=127.0.0.4:40112 user=\"x client=10.9.9.9:1\" attempt=2",
                "2026-12-07T14:07:38.123+00:00 WARN  ferry.server node=s1 session=c14 event=login-failed client=127.0.0.5:40112 "
                        + "user=\"x node=a session=b event=login-failed client=10.9.9.9:1 user=z\"",
                "{\"time\":\"2026-12-07T14:07:42.123+00:00\",\"level\":\"WARN\",\"logger\":\"ferry.server\",\"node\":\"s1\",\"session\":\"c17\","
                        + "\"event\":\"login-failed\",\"client\":\"[2001:db8::3]:40112\",\"user\":\"x\\\",\\\"client\\\":\\\"10.9.9.9:1\"}"));
        assertThat(v.matched()).isEqualTo(3);
        assertThat(v.addresses()).containsExactly("127.0.0.4", "127.0.0.5", "2001:db8::3").doesNotContain("10.9.9.9");
    }

    @Test
    void aSuccessfulLoginAndOtherEventsDoNotMatch() throws Exception {
        Verdict v = regex(List.of(
                "2026-12-07T14:07:40.123+00:00 INFO  ferry.server node=s1 session=c15 event=login client=127.0.0.7:40112 user=alice",
                "2026-12-07T14:07:40.223+00:00 INFO  ferry.server node=s1 session=c15 event=session-closed client=127.0.0.7:40112 user=alice",
                "{\"time\":\"2026-12-07T14:07:43.123+00:00\",\"level\":\"INFO\",\"logger\":\"ferry.server\",\"node\":\"s1\",\"session\":\"c18\","
                        + "\"event\":\"login\",\"client\":\"127.0.0.9:40112\",\"user\":\"login-failed\"}",
                // SECURITY: every line of a session carries the user name, whatever its event: a whole fake
                // login-failed sequence inside it must not count, in either format
                "2026-12-07T14:07:44.123+00:00 INFO  ferry.server node=s1 session=c19 event=login client=127.0.0.9:40112 "
                        + "user=\"a node=x session=y event=login-failed client=10.9.9.9:1 user=z\"",
                "2026-12-07T14:07:44.223+00:00 INFO  ferry.server node=s1 session=c19 event=disconnect client=127.0.0.9:40112 "
                        + "user=\"a node=x session=y event=login-failed client=10.9.9.9:1 user=z\" reason=quit",
                "{\"time\":\"2026-12-07T14:07:45.123+00:00\",\"level\":\"INFO\",\"logger\":\"ferry.server\",\"node\":\"s1\",\"session\":\"c21\","
                        + "\"event\":\"disconnect\",\"client\":\"127.0.0.9:40112\",\"user\":\"x\\\",\\\"event\\\":\\\"login-failed\\\","
                        + "\\\"client\\\":\\\"10.9.9.9:1\\\",\\\"user\\\":\\\"\"}"));
        assertThat(v.lines()).isEqualTo(6);
        assertThat(v.matched()).isZero();
        assertThat(v.addresses()).isEmpty();
    }

    /**
     * The lines as the log package writes them (SessionLog, Logfmt's quoting) through the two console encoders,
     * logback.xml's pattern and JsonLines: the filter and the writer agree, whatever the user name.
     */
    @Test
    void linesWrittenByTheLogPackageInBothFormats() throws Exception {
        List<String> lines = new ArrayList<>();
        for (Encoder<ILoggingEvent> encoder : List.of(logfmtEncoder(), (Encoder<ILoggingEvent>) new JsonLines())) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            LoggerContext context = new LoggerContext();
            // A context of its own, as LoggerFactory would set it up (Logback 1.5 needs the MDC adapter given).
            context.setMDCAdapter(new LogbackMDCAdapter());
            encoder.setContext(context);
            encoder.start();
            OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
            appender.setContext(context);
            appender.setEncoder(encoder);
            appender.setOutputStream(out);
            appender.start();
            context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(appender);
            EventLog log = new EventLog(context.getLogger("ferry.server"), "s1");
            for (String[] attempt : new String[][] {{"127.0.0.3:40112", "alice"}, {"[2001:db8::7]:40113", "x client=10.9.9.9:1"},
                    {"127.0.0.3:40114", "a\"b=c"}, {"127.0.0.3:40115", null}}) {
                SessionLog session = log.session("c" + lines.size(), attempt[0]);
                session.user(attempt[1]);
                session.warn("login-failed").with("reason", "password").with("attempt", 1).log();
                session.info("disconnect").with("reason", "quit").log();
            }
            session(log).info("login").with("anonymous", false).log();
            context.stop();
            lines.addAll(out.toString(StandardCharsets.UTF_8).lines().toList());
        }
        Verdict v = regex(lines);
        assertThat(v.lines()).isEqualTo(18);
        assertThat(v.matched()).as("the login-failed lines only:%n%s", String.join("\n", lines)).isEqualTo(8);
        assertThat(v.addresses()).containsExactly("127.0.0.3", "2001:db8::7", "127.0.0.3", "127.0.0.3",
                "127.0.0.3", "2001:db8::7", "127.0.0.3", "127.0.0.3");
    }

    /** A session whose user name holds a whole login-failed sequence, for a line of another event. */
    private static SessionLog session(EventLog log) {
        SessionLog session = log.session("c99", "127.0.0.4:40116");
        session.user("a node=x session=y event=login-failed client=10.9.9.9:1 user=z");
        return session;
    }

    /** logback.xml's console pattern. */
    private static Encoder<ILoggingEvent> logfmtEncoder() {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger %msg%n");
        return encoder;
    }

    /**
     * A real {@code ferry server}: wrong passwords from a client bound to 127.0.0.3 must get 127.0.0.3 banned,
     * in both formats. Needs the server's login-failed line in the logging contract's shape (client= and user=).
     */
    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void failedLoginsOfARealServerBanTheClientsAddress() throws Exception {
        InetAddress client = thirdLoopback();
        for (String format : List.of("logfmt", "json")) {
            Path stderr = work.resolve("stderr-" + format + ".txt");
            int port = TestData.freePort();
            Launcher.Started started = Launcher.start(work, stderr, START_TIMEOUT, "server", "--listen", "127.0.0.1:" + port,
                    "--root", Files.createDirectories(work.resolve("root")).toString(), "--user", "alice:right",
                    "--node", "s1", "--log-format", format);
            process = started.process();
            for (int attempt = 1; attempt <= 3; attempt++) {
                try (RawFtp ftp = RawFtp.connect(client, InetAddress.getByName("127.0.0.1"), port)) {
                    ftp.expect(220);
                    ftp.command("USER alice", 331);
                    ftp.command("PASS wrong-" + attempt, 530);
                }
            }
            try (RawFtp ftp = RawFtp.connect(client, InetAddress.getByName("127.0.0.1"), port)) {
                ftp.expect(220);
                ftp.login("alice", "right");
            }
            TestData.within(Duration.ofSeconds(20), "three login-failed lines in " + stderr,
                    () -> Files.readString(stderr).split("login-failed", -1).length - 1 >= 3);
            Launcher.stop(process);
            process = null;

            Verdict v = regex(stderr);
            assertThat(v.matched()).as("%s lines matched in:%n%s", format, Files.readString(stderr)).isEqualTo(3);
            assertThat(v.matchedLines()).allMatch(l -> l.contains("login-failed"));
            assertThat(v.addresses()).as(format).containsExactly("127.0.0.3", "127.0.0.3", "127.0.0.3");
        }
    }

    private static InetAddress thirdLoopback() throws IOException {
        InetAddress third = InetAddress.getByName("127.0.0.3");
        try (Socket probe = new Socket()) {
            probe.bind(new InetSocketAddress(third, 0));
        } catch (IOException e) {
            Assumptions.abort("127.0.0.3 cannot be bound here: " + e.getMessage());
        }
        return third;
    }
}
