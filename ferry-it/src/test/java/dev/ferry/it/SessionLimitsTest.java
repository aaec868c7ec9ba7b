package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Session limits and login protection, seen from raw sockets: each over-limit case gets its 421 and
 * a closed connection, and the sessions within the limits are not disturbed.
 */
class SessionLimitsTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private static ServerSettings.Limits limits(ServerSettings s, Duration idle, Duration login) {
        ServerSettings.Limits l = s.limits();
        return new ServerSettings.Limits(l.maxSessions(), l.maxSessionsPerAddress(), idle, l.dataTimeout(),
                l.maxCommandLength(), login);
    }

    private static ServerSettings.LoginPolicy loginPolicy(Duration delay, int banAfter) {
        return new ServerSettings.LoginPolicy(delay, 3, banAfter, Duration.ofMinutes(1), Duration.ofMinutes(1),
                Duration.ofMinutes(15));
    }

    @Test
    void sessionsBeyondMaxSessionsGet421AndTheOthersKeepWorking() throws Exception {
        ferry.restart(s -> s.withLimits(s.limits().withMaxSessions(2)));
        try (RawFtp first = RawFtp.greeted(ferry.port());
             RawFtp second = RawFtp.loggedIn(ferry.port(), USER, PASSWORD);
             RawFtp third = RawFtp.connect(ferry.port())) {
            assertThat(third.reply().toString()).isEqualTo("421 Too many users connected; try again later.");
            assertThat(third.closedByServer()).isTrue();

            first.login(USER, PASSWORD);
            first.command("PWD", 257);
            second.command("NOOP", 200);

            // A session that ends frees its place.
            first.command("QUIT", 221);
            assertThat(first.closedByServer()).isTrue();
            TestData.await("a new session is admitted", () -> {
                try (RawFtp next = RawFtp.connect(ferry.port())) {
                    return next.reply().code() == 220;
                }
            });
            second.command("NOOP", 200);
        }
    }

    @Test
    void sessionsBeyondMaxSessionsPerAddressGet421() throws Exception {
        InetAddress other = TestData.secondLoopback();
        InetAddress server = InetAddress.getByName("127.0.0.1");
        ferry.restart(s -> s.withLimits(s.limits().withMaxSessionsPerAddress(1)));
        try (RawFtp first = RawFtp.loggedIn(ferry.port(), USER, PASSWORD);
             RawFtp second = RawFtp.connect(ferry.port())) {
            assertThat(second.reply().toString()).isEqualTo("421 Too many connections from your address; try again later.");
            assertThat(second.closedByServer()).isTrue();

            // Another address has its own count.
            try (RawFtp elsewhere = RawFtp.connect(other, server, ferry.port())) {
                elsewhere.expect(220);
                elsewhere.login(USER, PASSWORD);
            }
            first.command("NOOP", 200);
        }
    }

    @Test
    void anIdleSessionGets421AndIsClosed() throws Exception {
        ferry.restart(s -> s.withLimits(limits(s, Duration.ofSeconds(1), Duration.ofMinutes(1))));
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            ftp.command("NOOP", 200);
            assertThat(ftp.reply().toString()).isEqualTo("421 Idle timeout; closing the connection.");
            assertThat(ftp.closedByServer()).isTrue();
        }
    }

    @Test
    void aSessionThatDoesNotLogInGets421AndIsClosed() throws Exception {
        ferry.restart(s -> s.withLimits(limits(s, Duration.ofMinutes(5), Duration.ofSeconds(1))));
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            assertThat(ftp.reply().toString()).isEqualTo("421 Login timeout; closing the connection.");
            assertThat(ftp.closedByServer()).isTrue();
        }
    }

    @Test
    void aFailedLoginIsAnsweredAfterTheDelay() throws Exception {
        Duration delay = Duration.ofMillis(500);
        ferry.restart(s -> s.withLoginPolicy(loginPolicy(delay, 0)));
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            ftp.command("USER " + USER, 331);
            long start = System.nanoTime();
            assertThat(ftp.command("PASS wrong").toString()).isEqualTo("530 Login incorrect.");
            // A lower bound only: the delay is a sleep before the reply (RFC 2577 §5).
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(delay);
            ftp.login(USER, PASSWORD);
        }
    }

    @Test
    void theLastAllowedFailedLoginEndsTheSessionWith421() throws Exception {
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            for (int attempt = 1; attempt < FerryServerExtension.FAST_LOGIN_POLICY.maxAttemptsPerSession(); attempt++) {
                ftp.command("USER " + USER, 331);
                assertThat(ftp.command("PASS wrong").toString()).isEqualTo("530 Login incorrect.");
            }
            ftp.command("USER " + USER, 331);
            // RFC 2577 §5: a limit on attempts per connection.
            assertThat(ftp.command("PASS wrong").toString()).isEqualTo("421 Too many failed logins; closing the connection.");
            assertThat(ftp.closedByServer()).isTrue();
        }
        // Banning is off in this configuration: the address may connect again at once.
        try (RawFtp again = RawFtp.greeted(ferry.port())) {
            again.login(USER, PASSWORD);
        }
    }

    @Test
    void repeatedFailuresBanTheAddress() throws Exception {
        InetAddress other = TestData.secondLoopback();
        ferry.restart(s -> s.withLoginPolicy(loginPolicy(Duration.ofMillis(10), 2)));
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            ftp.command("USER " + USER, 331);
            ftp.command("PASS wrong", 530);
            ftp.command("USER " + USER, 331);
            // The second failure within the window starts the ban and ends this session.
            assertThat(ftp.command("PASS wrong again").toString()).isEqualTo("421 Too many failed logins; closing the connection.");
            assertThat(ftp.closedByServer()).isTrue();
        }
        try (RawFtp again = RawFtp.connect(ferry.port())) {
            assertThat(again.reply().toString()).isEqualTo("421 Too many failed logins from your address; try again later.");
            assertThat(again.closedByServer()).isTrue();
        }
        // Other addresses are not affected.
        try (RawFtp elsewhere = RawFtp.connect(other, InetAddress.getByName("127.0.0.1"), ferry.port())) {
            elsewhere.expect(220);
            elsewhere.login(USER, PASSWORD);
        }
    }

    @Test
    void theConnectionIsClosedAfterQuit() throws IOException {
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            assertThat(ftp.command("QUIT").toString()).isEqualTo("221 Goodbye.");
            assertThat(ftp.closedByServer()).isTrue();
        }
    }
}
