package dev.ferry.balancer.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LoginSessionsTest {

    private final AtomicLong now = new AtomicLong();
    private final LoginSessions logins = new LoginSessions(now::get);

    @Test
    void aLoginIsFoundByItsIdAndCarriesItsRoleAndToken() {
        LoginSessions.Login login = logins.create("alice", AdminSettings.Role.ADMIN);
        assertThat(login.id()).matches("[A-Za-z0-9_-]{43}");
        assertThat(login.csrfToken()).matches("[A-Za-z0-9_-]{43}").isNotEqualTo(login.id());
        assertThat(logins.find(login.id())).isEqualTo(login);
        assertThat(login.toString()).doesNotContain(login.id()).doesNotContain(login.csrfToken());
    }

    @Test
    void idsAreRandom() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            ids.add(logins.create("alice", AdminSettings.Role.ADMIN).id());
        }
        assertThat(ids).hasSize(100);
    }

    @Test
    void unknownOrMalformedIdsFindNothing() {
        logins.create("alice", AdminSettings.Role.ADMIN);
        assertThat(logins.find(null)).isNull();
        assertThat(logins.find("")).isNull();
        assertThat(logins.find("x".repeat(43))).isNull();
        assertThat(logins.find("not a token; Path=/")).isNull();
    }

    @Test
    void anIdleLoginExpiresAndUseKeepsItAlive() {
        LoginSessions.Login login = logins.create("alice", AdminSettings.Role.READ_ONLY);
        now.addAndGet(LoginSessions.IDLE_TIMEOUT.toNanos() - 1);
        assertThat(logins.find(login.id())).as("used just in time").isNotNull();
        now.addAndGet(LoginSessions.IDLE_TIMEOUT.toNanos() + 1);
        assertThat(logins.find(login.id())).as("idle too long").isNull();
    }

    @Test
    void aLoginEndsAtItsMaximumAgeHoweverBusy() {
        LoginSessions.Login login = logins.create("alice", AdminSettings.Role.ADMIN);
        long step = LoginSessions.IDLE_TIMEOUT.toNanos() / 2;
        for (long t = 0; t < LoginSessions.MAX_AGE.toNanos() - step; t += step) {
            now.addAndGet(step);
            assertThat(logins.find(login.id())).isNotNull();
        }
        now.addAndGet(step + 1);
        assertThat(logins.find(login.id())).isNull();
    }

    @Test
    void logoutEndsIt() {
        LoginSessions.Login login = logins.create("alice", AdminSettings.Role.ADMIN);
        logins.end(login.id());
        assertThat(logins.find(login.id())).isNull();
    }

    @Test
    void boundedTheLeastRecentlyUsedGoesFirst() {
        LoginSessions.Login first = logins.create("alice", AdminSettings.Role.ADMIN);
        LoginSessions.Login second = logins.create("alice", AdminSettings.Role.ADMIN);
        logins.find(first.id());
        for (int i = 0; i < LoginSessions.MAX_LOGINS - 1; i++) {
            logins.create("bob", AdminSettings.Role.ADMIN);
        }
        assertThat(logins.size()).isEqualTo(LoginSessions.MAX_LOGINS);
        assertThat(logins.find(second.id())).as("least recently used").isNull();
        assertThat(logins.find(first.id())).isNotNull();
    }

    @Test
    void theCsrfTokenMustMatchExactly() {
        LoginSessions.Login login = logins.create("alice", AdminSettings.Role.ADMIN);
        assertThat(LoginSessions.csrfMatches(login, login.csrfToken())).isTrue();
        assertThat(LoginSessions.csrfMatches(login, null)).isFalse();
        assertThat(LoginSessions.csrfMatches(login, "")).isFalse();
        assertThat(LoginSessions.csrfMatches(login, login.id())).isFalse();
        assertThat(LoginSessions.csrfMatches(login, login.csrfToken() + "x")).isFalse();
    }
}
