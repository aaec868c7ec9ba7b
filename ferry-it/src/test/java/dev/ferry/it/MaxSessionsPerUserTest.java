package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.READER;
import static dev.ferry.it.FerryServerExtension.READER_PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.policy.AccountPolicy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPConnectionClosedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An account's {@code max-sessions}, seen by Commons Net over real sockets: the login past the limit is answered
 * 421 and closed, the sessions within it keep working, and a session that ends (QUIT, REIN, a dropped connection)
 * gives its place back at once.
 */
class MaxSessionsPerUserTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private final List<FTPClient> clients = new ArrayList<>();

    @AfterEach
    void disconnect() {
        for (FTPClient c : clients) {
            try {
                c.disconnect();
            } catch (IOException ignored) {
                // already closed by the test or the server
            }
        }
    }

    private void aliceMayHold(int max) throws IOException {
        ferry.restart(s -> s.withUsers(s.users().stream()
                .map(u -> u.name().equals(USER) ? u.withPolicy(AccountPolicy.NONE.withMaxSessions(max)) : u)
                .toList(), s.usersFile()));
    }

    private FTPClient connected() throws IOException {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.setConnectTimeout(10_000);
        clients.add(c);
        c.connect("127.0.0.1", ferry.port());
        c.setSoTimeout(10_000);
        return c;
    }

    /** Commons Net reports a 421 as the connection closing, with the reply kept. */
    private static void assertRefused(FTPClient c) {
        assertThatThrownBy(() -> c.login(USER, PASSWORD)).isInstanceOf(FTPConnectionClosedException.class);
        assertThat(c.getReplyString().strip()).isEqualTo("421 Too many sessions for this user; try again later.");
    }

    @Test
    void aThirdLoginOfAUserWithTwoIsRefusedUntilOneQuits() throws Exception {
        aliceMayHold(2);
        FTPClient first = connected();
        FTPClient second = connected();
        assertThat(first.login(USER, PASSWORD)).isTrue();
        assertThat(second.login(USER, PASSWORD)).isTrue();

        FTPClient third = connected();
        assertRefused(third);
        assertThat(ferry.logLines()).anySatisfy(l -> assertThat(l).contains("event=refused").contains("user=alice")
                .contains("reason=max-sessions").contains("max_sessions=2"));

        FTPClient reader = connected();
        assertThat(reader.login(READER, READER_PASSWORD)).as("another user has a count of his own").isTrue();
        assertThat(first.sendNoOp()).isTrue();

        assertThat(first.logout()).isTrue();
        first.disconnect();
        FTPClient fourth = connected();
        assertThat(fourth.login(USER, PASSWORD)).as("the quit session's place is free at once").isTrue();
        assertThat(second.printWorkingDirectory()).isEqualTo("/");
    }

    @Test
    void reinAndADroppedConnectionGiveThePlaceBack() throws Exception {
        aliceMayHold(1);
        FTPClient first = connected();
        assertThat(first.login(USER, PASSWORD)).isTrue();
        assertThat(first.sendCommand("REIN")).isEqualTo(220);
        FTPClient second = connected();
        assertThat(second.login(USER, PASSWORD)).as("REIN logged the first one out").isTrue();
        assertRefused(first);

        second.disconnect();   // no QUIT: the connection just goes
        TestData.await("the dropped session's place is free", () -> {
            FTPClient next = connected();
            try {
                return next.login(USER, PASSWORD);
            } finally {
                next.disconnect();
            }
        });
    }
}
