package dev.ferry.balancer.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.limits.BanRules;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which of a backend's answers to a login the balancer counts against the client's address, and what a ban does. */
class ProxySessionBansTest {

    private ProxyHarness h;

    @AfterEach
    void close() {
        if (h != null) {
            h.close();
        }
    }

    /** Bans after one failure: the reply to PASS alone decides whether the client is banned at the end. */
    @ParameterizedTest(name = "{0} -> banned: {1}")
    @CsvSource(delimiter = '|', value = {
            "530 Login incorrect.                                            | true",
            "421 Too many failed logins; closing the connection.              | true",
            "421 Too many sessions for this user; try again later.            | false",
            "421 Login service unavailable; try again later. Closing the connection. | false",
            "230 User alice logged in.                                        | false",
    })
    void onlyAWrongPasswordCountsAsAFailedGuess(String reply, boolean banned) throws Exception {
        ScriptedBackend backend = new ScriptedBackend();
        backend.on("PASS", (b, l) -> b.reply(reply));
        h = new ProxyHarness(backend, s -> s.withBans(new BanRules(1, Duration.ofMinutes(1), Duration.ofMinutes(1))));
        h.command("USER alice", "331 Password required for alice.");
        h.command("PASS guess", reply);
        if (banned) {
            h.assertReply(ProxySession.BANNED.toString().strip());
        }

        assertThat(h.ctx.bans().isBanned(ProxyHarness.CLIENT.getAddress())).isEqualTo(banned);
    }

    @Test
    void aLoggedInUserIsCountedUntilTheSessionEnds() throws Exception {
        h = new ProxyHarness(new ScriptedBackend());
        h.login();
        assertThat(h.ctx.sessions().counts()).isEqualTo(Map.of("alice", 1));

        h.command("QUIT", "221 Goodbye.");
        h.awaitEnd();
        assertThat(h.ctx.sessions().counts()).isEmpty();
    }

    @Test
    void anAnonymousLoginDoesNotClearTheAddresssFailures() throws Exception {
        ScriptedBackend backend = new ScriptedBackend();
        backend.on("PASS", (b, l) -> b.reply(l.equals("PASS guest@") ? "230 Anonymous access granted." : "530 Login incorrect."));
        h = new ProxyHarness(backend, s -> s.withBans(new BanRules(2, Duration.ofMinutes(1), Duration.ofMinutes(1))));
        h.command("USER alice", "331 Password required for alice.");
        h.command("PASS guess-1", "530 Login incorrect.");
        h.command("USER anonymous", "331 Password required for anonymous.");
        h.command("PASS guest@", "230 Anonymous access granted.");
        h.command("USER alice", "331 Password required for alice.");
        h.command("PASS guess-2", "530 Login incorrect.");

        assertThat(h.ctx.bans().isBanned(ProxyHarness.CLIENT.getAddress())).as("both guesses counted").isTrue();
    }
}
