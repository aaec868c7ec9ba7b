package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.protocol.command.Verb;
import dev.ferry.runtime.limits.Ban;
import dev.ferry.runtime.limits.BanList;
import dev.ferry.runtime.limits.LimitsUnavailableException;
import dev.ferry.runtime.limits.LocalBanList;
import dev.ferry.runtime.limits.LocalSessionLimits;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.server.ServerSettings.Limits;
import dev.ferry.server.ServerSettings.LoginPolicy;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.HomeStorage;
import dev.ferry.server.fs.StorageEngines;
import dev.ferry.server.policy.AccountPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/** Greeting, USER/PASS, the login gate, login limits and session limits, with exact replies. */
@Timeout(20)
class SessionLoginTest {

    @TempDir
    Path root;
    private InMemoryServer server;

    private InMemoryServer start(UnaryOperator<ServerSettings> tweak) {
        server = new InMemoryServer(tweak.apply(InMemoryServer.settings(root)));
        return server;
    }

    private InMemoryServer start() {
        return start(s -> s);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void greetsWithTheServerName() throws Exception {
        ControlClient c = start(s -> s.withServerName("Test FTP")).connect();

        assertThat(c.replyLine()).isEqualTo("220 Test FTP ready.");
    }

    @Test
    void userThenPassLogsIn() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
        assertThat(c.command("PASS secret")).isEqualTo("230 User alice logged in.");
        assertThat(c.command("PWD")).isEqualTo("257 \"/\" is the current directory.");
        assertThat(c.session.user()).isEqualTo("alice");
    }

    @Test
    void aWrongPasswordIsRefusedAndTheNextTryCanSucceed() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
        assertThat(c.command("PASS wrong")).isEqualTo("530 Login incorrect.");
        assertThat(c.command("PWD")).isEqualTo("530 Please log in with USER and PASS first.");
        assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
        assertThat(c.command("PASS secret")).isEqualTo("230 User alice logged in.");
    }

    @Test
    void unknownAndDisabledUsersGetTheSameRepliesAsAWrongPassword() throws Exception {
        ControlClient c = start().greeted();

        // SECURITY: USER must not tell which names exist (RFC 2577 §5).
        assertThat(c.command("USER nobody")).isEqualTo("331 Password required for nobody.");
        assertThat(c.command("PASS secret")).isEqualTo("530 Login incorrect.");
        assertThat(c.command("USER mallory")).isEqualTo("331 Password required for mallory.");
        assertThat(c.command("PASS secret")).isEqualTo("530 Login incorrect.");
    }

    @Test
    void passWithoutUserIsABadSequence() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("PASS secret")).isEqualTo("503 Login with USER first.");
        assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
        assertThat(c.command("PASS wrong")).isEqualTo("530 Login incorrect.");
        assertThat(c.command("PASS secret")).as("a PASS uses up its USER").isEqualTo("503 Login with USER first.");
    }

    @Test
    void userAndPassAfterLoginAreRefused() throws Exception {
        ControlClient c = start().loggedIn("alice");

        assertThat(c.command("USER reader")).isEqualTo("530 Already logged in; use REIN to log in as another user.");
        assertThat(c.command("PASS secret")).isEqualTo("503 Already logged in.");
        assertThat(c.session.user()).isEqualTo("alice");
    }

    @Test
    void anEmptyPasswordIsAPassword() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
        assertThat(c.command("PASS")).isEqualTo("530 Login incorrect.");
    }

    @Test
    void aPasswordKeepsItsTrailingSpaces() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
        assertThat(c.command("PASS secret ")).isEqualTo("530 Login incorrect.");
    }

    @Test
    void anonymousLoginIsReadOnly() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("USER anonymous")).isEqualTo("331 Anonymous login okay; send your e-mail address as password.");
        assertThat(c.command("PASS guest@example.com")).isEqualTo("230 User anonymous logged in.");
        assertThat(c.command("MKD x")).isEqualTo("550 Permission denied: this account is read-only.");
    }

    @Test
    void ftpIsAnotherNameForAnonymous() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("USER FTP")).isEqualTo("331 Anonymous login okay; send your e-mail address as password.");
        assertThat(c.command("PASS x")).isEqualTo("230 User anonymous logged in.");
    }

    @Test
    void anonymousIsAnOrdinaryUnknownNameWhenDisabled() throws Exception {
        ControlClient c = start(s -> s.withAnonymous(ServerSettings.Anonymous.OFF)).greeted();

        assertThat(c.command("USER anonymous")).isEqualTo("331 Password required for anonymous.");
        assertThat(c.command("PASS x")).isEqualTo("530 Login incorrect.");
    }

    @Test
    void reinLogsOutAndKeepsTheConnection() throws Exception {
        ControlClient c = start().loggedIn("alice");
        assertThat(c.command("TYPE A")).isEqualTo("200 Type set to A.");

        assertThat(c.command("REIN")).isEqualTo("220 Service ready for new user.");

        assertThat(c.command("PWD")).isEqualTo("530 Please log in with USER and PASS first.");
        c.login("reader", InMemoryServer.PASSWORD);
        assertThat(c.commandLines("STAT")).contains(" Logged in as reader", " TYPE: BINARY, STRU: File, MODE: Stream");
    }

    static Stream<Verb> verbsNeedingLogin() {
        return Arrays.stream(Verb.values()).filter(Verb::needsLogin);
    }

    static String lineFor(Verb verb) {
        return verb.argument() == Verb.Argument.REQUIRED ? verb.name() + " x" : verb.name();
    }

    @ParameterizedTest
    @MethodSource("verbsNeedingLogin")
    void everyVerbThatNeedsLoginIsRefusedBeforeIt(Verb verb) throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command(lineFor(verb))).isEqualTo("530 Please log in with USER and PASS first.");
        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
    }

    @Test
    void verbsThatNeedNoLoginWorkBeforeIt() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("SYST")).isEqualTo("215 UNIX Type: L8");
        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
        assertThat(c.command("ACCT x")).isEqualTo("202 ACCT not needed at this site.");
        assertThat(c.command("OPTS UTF8 ON")).isEqualTo("200 UTF8 mode is always on.");
        assertThat(c.commandLines("FEAT")).startsWith("211-Features:").endsWith("211 End");
        assertThat(c.commandLines("HELP")).startsWith("214-The following commands are recognized:");
        assertThat(c.command("AUTH TLS")).isEqualTo("502 TLS is not available on this server.");
        assertThat(c.command("PBSZ 0")).isEqualTo("503 Security data exchange not completed (send AUTH first).");
        assertThat(c.command("PROT P")).isEqualTo("503 Security data exchange not completed (send AUTH first).");
    }

    static Stream<Verb> writeVerbs() {
        return Arrays.stream(Verb.values()).filter(v -> v.permission() == Verb.Permission.WRITE);
    }

    @ParameterizedTest
    @MethodSource("writeVerbs")
    void everyWriteVerbIsRefusedToAReadOnlyAccount(Verb verb) throws Exception {
        ControlClient c = start().loggedIn("reader");

        assertThat(c.command(lineFor(verb))).isEqualTo("550 Permission denied: this account is read-only.");
    }

    // RFC 7151 §3: HOST comes before USER.
    @Test
    void hostIsAcceptedOnlyBeforeUser() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("HOST ftp.example.com")).isEqualTo("220 Host accepted.");
        assertThat(c.command("HOST [::1]")).isEqualTo("220 Host accepted.");
        assertThat(c.command("HOST bad_name!")).isEqualTo("501 HOST needs a domain name or an address literal.");
        assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
        assertThat(c.command("HOST ftp.example.com")).isEqualTo("503 HOST must come before USER.");
    }

    // RFC 2577 §5: a session ends after a few failed logins.
    @Test
    void tooManyFailedLoginsCloseTheSession() throws Exception {
        ControlClient c = start().greeted();

        for (int attempt = 1; attempt <= 2; attempt++) {
            assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
            assertThat(c.command("PASS wrong" + attempt)).isEqualTo("530 Login incorrect.");
        }
        assertThat(c.command("USER alice")).isEqualTo("331 Password required for alice.");
        assertThat(c.command("PASS wrong3")).isEqualTo("421 Too many failed logins; closing the connection.");

        assertThat(c.closedByServer()).isTrue();
        assertThat(server.context.sessions().count()).isZero();
    }

    private static LoginPolicy banAfter(int failures) {
        return new LoginPolicy(Duration.ZERO, 10, failures, Duration.ofMinutes(5), Duration.ofMinutes(15),
                Duration.ofMinutes(15));
    }

    @Test
    void anAddressThatKeepsFailingIsBannedAcrossSessions() throws Exception {
        start(s -> s.withLoginPolicy(banAfter(2)));
        ControlClient first = server.greeted();
        first.command("USER alice");
        assertThat(first.command("PASS wrong")).isEqualTo("530 Login incorrect.");
        first.command("USER alice");
        assertThat(first.command("PASS wrong")).isEqualTo("421 Too many failed logins; closing the connection.");
        assertThat(first.closedByServer()).isTrue();

        ControlClient second = server.connect();

        assertThat(second.replyLine()).isEqualTo("421 Too many failed logins from your address; try again later.");
        assertThat(second.closedByServer()).isTrue();
    }

    // LoginGuard.recordSuccess: "an anonymous login proves nothing, and counting it would let anyone
    // reset their count between guesses".
    @Test
    void anAnonymousLoginDoesNotResetTheFailedLoginCount() throws Exception {
        start(s -> s.withLoginPolicy(banAfter(2)));
        ControlClient c = server.greeted();
        c.command("USER alice");
        assertThat(c.command("PASS guess1")).isEqualTo("530 Login incorrect.");
        c.login("anonymous", "x@example.com");
        assertThat(c.command("REIN")).isEqualTo("220 Service ready for new user.");

        c.command("USER alice");

        assertThat(c.command("PASS guess2")).isEqualTo("421 Too many failed logins; closing the connection.");
        assertThat(c.closedByServer()).isTrue();
    }

    @Test
    void aGoodLoginOfARealAccountResetsTheFailedLoginCount() throws Exception {
        start(s -> s.withLoginPolicy(banAfter(2)));
        ControlClient c = server.greeted();
        c.command("USER alice");
        assertThat(c.command("PASS guess1")).isEqualTo("530 Login incorrect.");
        c.login("reader", InMemoryServer.PASSWORD);
        c.command("REIN");

        c.command("USER alice");

        assertThat(c.command("PASS guess2")).isEqualTo("530 Login incorrect.");
    }

    @Test
    void theLoginTimeoutClosesAnIdleUnauthenticatedSessionWith421() throws Exception {
        ControlClient c = start(s -> s.withLimits(new Limits(100, 10, Duration.ofSeconds(30), Duration.ofSeconds(10),
                256, Duration.ofMillis(300)))).greeted();

        assertThat(c.replyLine()).isEqualTo("421 Login timeout; closing the connection.");
        assertThat(c.closedByServer()).isTrue();
    }

    // SECURITY: REIN, like NOOP, must not let a client that never logs in stay connected for ever: before
    // login the login clock keeps running from the connection (PreLogin.Step.Reinitialize).
    @Test
    void reinBeforeLoginDoesNotRestartTheLoginTimeout() throws Exception {
        ControlClient c = start(s -> s.withLimits(new Limits(100, 10, Duration.ofSeconds(30), Duration.ofSeconds(10),
                256, Duration.ofMillis(1000)))).connect();
        long connected = System.nanoTime();
        c.replyLine();
        Thread.sleep(700);

        assertThat(c.command("REIN")).isEqualTo("220 Service ready for new user.");

        assertThat(c.replyLine()).isEqualTo("421 Login timeout; closing the connection.");
        // Restarted by the REIN, the timeout would come 1,700 ms after the connection.
        assertThat((System.nanoTime() - connected) / 1_000_000L).isLessThan(1500);
        assertThat(c.closedByServer()).isTrue();
    }

    @Test
    void reinAfterALoginStartsTheLoginTimeoutAfresh() throws Exception {
        ControlClient c = start(s -> s.withLimits(new Limits(100, 10, Duration.ofSeconds(30), Duration.ofSeconds(10),
                256, Duration.ofMillis(600)))).greeted();
        c.login("alice", InMemoryServer.PASSWORD);
        Thread.sleep(700);

        assertThat(c.command("REIN")).isEqualTo("220 Service ready for new user.");

        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
        assertThat(c.replyLine()).isEqualTo("421 Login timeout; closing the connection.");
    }

    @Test
    void theIdleTimeoutClosesAnIdleSessionWith421() throws Exception {
        ControlClient c = start(s -> s.withLimits(new Limits(100, 10, Duration.ofMillis(300), Duration.ofSeconds(10),
                256, Duration.ofSeconds(30)))).loggedIn("alice");

        assertThat(c.replyLine()).isEqualTo("421 Idle timeout; closing the connection.");
        assertThat(c.closedByServer()).isTrue();
        assertThat(server.context.sessions().count()).isZero();
    }

    /**
     * The shared session count (the database) cannot be asked: an account with max-sessions is refused with 421 (its
     * limit cannot be checked), no guess is counted, and an account without a limit is not even asked about.
     */
    @Test
    void aSessionLimitThatCannotBeCheckedRefusesTheLoginWith421() throws Exception {
        LocalSessionLimits counts = new LocalSessionLimits("test");
        SessionLimits unreachable = new SessionLimits() {
            @Override
            public Lease acquire(String user, int max, String sessionId) {
                if (max > 0) {
                    throw new LimitsUnavailableException("database down",
                            new java.sql.SQLTransientConnectionException("Connection is not available"));
                }
                return counts.acquire(user, max, sessionId);
            }

            @Override
            public java.util.Map<String, Integer> counts() {
                return counts.counts();
            }
        };
        ServerSettings s = InMemoryServer.settings(root);
        s = s.withUsers(s.users().stream()
                .map(u -> u.name().equals("alice") ? u.withPolicy(AccountPolicy.NONE.withMaxSessions(2)) : u)
                .toList(), null);
        server = new InMemoryServer(s, StorageEngines.of(new HomeStorage()), unreachable);
        ControlClient limited = server.greeted();
        limited.command("USER alice");
        assertThat(limited.command("PASS " + InMemoryServer.PASSWORD))
                .isEqualTo("421 Login service unavailable; try again later. Closing the connection.");
        assertThat(limited.closedByServer()).isTrue();
        assertThat(server.context.bans().isBanned(InMemoryServer.CLIENT_ADDRESS.getAddress())).isFalse();

        ControlClient free = server.greeted();
        free.command("USER reader");
        assertThat(free.command("PASS " + InMemoryServer.PASSWORD)).startsWith("230 ");
        assertThat(counts.counts()).containsEntry("reader", 1);
    }

    /**
     * With a shared ban list (the database), a login relayed by a balancer is counted by the balancer, which sees its
     * reply: the server counting it too would ban after half the failures. A direct session is still counted here.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void aRelayedLoginIsCountedHereOnlyWhenTheBanListIsNotShared(boolean shared) throws Exception {
        ServerSettings s = InMemoryServer.settings(root)
                .withLoginPolicy(new LoginPolicy(Duration.ZERO, 5, 2, Duration.ofMinutes(5), Duration.ofMinutes(15),
                        Duration.ofMinutes(15)));
        LocalBanList local = new LocalBanList(s.loginPolicy().banRules(), java.time.Clock.systemUTC(), "test");
        BanList bans = new BanList() {
            @Override public boolean isBanned(java.net.InetAddress a) { return local.isBanned(a); }
            @Override public boolean recordFailure(java.net.InetAddress a) { return local.recordFailure(a); }
            @Override public void recordSuccess(java.net.InetAddress a) { local.recordSuccess(a); }
            @Override public java.util.List<Ban> bans() { return local.bans(); }
            @Override public Ban ban(java.net.InetAddress a, Duration d, String r, String o) { return local.ban(a, d, r, o); }
            @Override public boolean lift(java.net.InetAddress a) { return local.lift(a); }
            @Override public boolean shared() { return shared; }
        };
        server = new InMemoryServer(s, StorageEngines.of(new HomeStorage()), new LocalSessionLimits("test"), bans);
        java.net.InetSocketAddress client = InMemoryServer.socketAddress("192.0.2.7", 40000);
        ControlClient relayed = server.connectRelayed(client, InMemoryServer.socketAddress("127.0.0.5", 50000));
        relayed.replyLine();
        for (int i = 0; i < 2; i++) {
            relayed.command("USER alice");
            relayed.command("PASS wrong");
        }
        assertThat(bans.isBanned(client.getAddress())).as("counted here: %s", !shared).isEqualTo(!shared);

        ControlClient direct = server.connect(InMemoryServer.socketAddress("192.0.2.8", 40001));
        direct.replyLine();
        for (int i = 0; i < 2; i++) {
            direct.command("USER alice");
            direct.command("PASS wrong");
        }
        assertThat(bans.isBanned(InMemoryServer.socketAddress("192.0.2.8", 1).getAddress())).isTrue();
    }

    @Test
    void sessionsOverTheLimitAreTold421() throws Exception {
        start(s -> s.withLimits(s.limits().withMaxSessions(1)));
        ControlClient first = server.greeted();

        ControlClient second = server.connect();

        assertThat(second.replyLine()).isEqualTo("421 Too many users connected; try again later.");
        assertThat(second.closedByServer()).isTrue();
        assertThat(first.command("NOOP")).isEqualTo("200 NOOP ok.");
        assertThat(server.context.sessions().count()).isEqualTo(1);
    }

    @Test
    void sessionsOverThePerAddressLimitAreTold421() throws Exception {
        start(s -> s.withLimits(s.limits().withMaxSessionsPerAddress(1)));
        server.greeted();

        ControlClient sameAddress = server.connect();
        ControlClient otherAddress = server.connect(InMemoryServer.socketAddress("127.0.0.2", 40001));

        assertThat(sameAddress.replyLine()).isEqualTo("421 Too many connections from your address; try again later.");
        assertThat(sameAddress.closedByServer()).isTrue();
        assertThat(otherAddress.replyLine()).startsWith("220 ");
    }

    // House rule: never log a password. The session logs every command at DEBUG.
    @Test
    void passwordsNeverReachTheLog() throws Exception {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("ferry.session");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        Level level = log.getLevel();
        log.setLevel(Level.DEBUG);
        log.addAppender(events);
        try {
            ControlClient c = start().greeted();
            c.command("USER alice");
            c.command("PASS Tr0ub4dor&3");
            c.command("USER nobody");
            c.command("PASS correct horse");
            c.login("alice", InMemoryServer.PASSWORD);
            c.command("QUIT");
            assertThat(c.closedByServer()).isTrue();
        } finally {
            log.detachAppender(events);
            log.setLevel(level);
        }

        assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.contains(" event=command ") && m.endsWith(" cmd=\"PASS ****\""))
                .noneMatch(m -> m.contains("Tr0ub4dor") || m.contains("horse") || m.contains(InMemoryServer.PASSWORD));
    }

    @Test
    void quitSays221AndEndsTheSession() throws Exception {
        ControlClient c = start().loggedIn("alice");

        assertThat(c.command("QUIT")).isEqualTo("221 Goodbye.");

        assertThat(c.closedByServer()).isTrue();
        assertThat(server.context.sessions().count()).isZero();
    }

    @Test
    void quitWorksBeforeLogin() throws Exception {
        ControlClient c = start().greeted();

        assertThat(c.command("QUIT")).isEqualTo("221 Goodbye.");
        assertThat(c.closedByServer()).isTrue();
    }

    @Test
    void theClientHangingUpEndsTheSession() throws Exception {
        ControlClient c = start().loggedIn("alice");

        assertThat(c.hangUp()).as("session thread ended").isTrue();

        assertThat(server.context.sessions().count()).isZero();
    }
}
