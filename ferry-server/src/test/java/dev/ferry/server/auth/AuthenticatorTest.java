package dev.ferry.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.runtime.password.CredentialCache;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.auth.LoginResult.Failure;
import dev.ferry.server.auth.LoginResult.Reason;
import dev.ferry.server.auth.LoginResult.Success;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AuthenticatorTest {

    private static final Path ALICE_HOME = Path.of("/srv/ftp/alice");
    private static final Path PUBLIC = Path.of("/srv/ftp/pub");

    // Cheap parameters: these tests are about decisions, not hash strength.
    private static String aliceHash;
    private static String bobHash;
    private static String carolHash;

    private final AtomicInteger verifications = new AtomicInteger();

    @BeforeAll
    static void hashPasswords() {
        aliceHash = PasswordHasher.hash("alice-pw".toCharArray(), 64, 1, 1);
        bobHash = PasswordHasher.hash("bob-pw".toCharArray(), 64, 1, 1);
        carolHash = PasswordHasher.hash("carol-pw".toCharArray(), 64, 1, 1);
    }

    private List<UserAccount> accounts() {
        return List.of(
                new UserAccount("alice", aliceHash, ALICE_HOME, true, true),
                new UserAccount("bob", bobHash, null, false, true),
                new UserAccount("carol", carolHash, null, true, false));
    }

    private Authenticator authenticator(Anonymous anonymous) {
        CredentialCache counting = new CredentialCache(Duration.ofMinutes(15), 16, (password, phc) -> {
            verifications.incrementAndGet();
            return PasswordHasher.verify(password, phc);
        }, System::nanoTime, 2);
        return new Authenticator(accounts(), anonymous, counting);
    }

    private static char[] pw(String s) {
        return s.toCharArray();
    }

    @Test
    void rightPasswordLogsInWithTheAccountsHomeAndRights() {
        Authenticator auth = authenticator(Anonymous.OFF);

        assertThat(auth.login("alice", pw("alice-pw"))).isEqualTo(new Success("alice", ALICE_HOME, true, false));
        assertThat(auth.login("bob", pw("bob-pw"))).isEqualTo(new Success("bob", null, false, false));
    }

    @Test
    void wrongPasswordFails() {
        assertThat(authenticator(Anonymous.OFF).login("alice", pw("bob-pw")))
                .isEqualTo(new Failure("alice", Reason.BAD_PASSWORD));
    }

    @Test
    void unknownUserFailsAfterTheSameWorkAsAKnownOne() {
        Authenticator auth = authenticator(Anonymous.OFF);

        assertThat(auth.login("mallory", pw("x"))).isEqualTo(new Failure("mallory", Reason.UNKNOWN_USER));
        assertThat(verifications).hasValue(1);
    }

    @Test
    void theStandInHashCostsWhatARealDefaultHashCosts() {
        assertThat(PasswordHasher.problemWith(Authenticator.UNMATCHABLE_HASH)).isNull();
        assertThat(Authenticator.UNMATCHABLE_HASH).startsWith("$argon2id$v=19$m=19456,t=2,p=1$");
    }

    @Test
    void namesAreCaseSensitive() {
        assertThat(authenticator(Anonymous.OFF).login("Alice", pw("alice-pw")))
                .isEqualTo(new Failure("Alice", Reason.UNKNOWN_USER));
    }

    @ParameterizedTest
    @ValueSource(strings = {"carol-pw", "wrong"})
    void disabledAccountFailsWhateverThePassword(String password) {
        Authenticator auth = authenticator(Anonymous.OFF);

        assertThat(auth.login("carol", pw(password))).isEqualTo(new Failure("carol", Reason.DISABLED));
        assertThat(verifications).as("verified anyway, for even timing").hasValue(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"anonymous", "ftp", "FTP", "Anonymous"})
    void anonymousWhenEnabledIsReadOnlyWithAnyPassword(String name) {
        Authenticator auth = authenticator(new Anonymous(true, PUBLIC));

        assertThat(auth.isAnonymousName(name)).isTrue();
        assertThat(auth.login(name, pw("guest@example.org"))).isEqualTo(new Success("anonymous", PUBLIC, false, true));
        assertThat(auth.login(name, null)).isEqualTo(new Success("anonymous", PUBLIC, false, true));
        assertThat(verifications).hasValue(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"anonymous", "ftp"})
    void anonymousIsOffByDefault(String name) {
        Authenticator auth = authenticator(Anonymous.OFF);

        assertThat(auth.isAnonymousName(name)).isFalse();
        assertThat(auth.login(name, pw("guest@example.org"))).isEqualTo(new Failure(name, Reason.ANONYMOUS_DISABLED));
    }

    @Test
    void otherNamesAreNotAnonymous() {
        Authenticator auth = authenticator(new Anonymous(true, null));

        assertThat(auth.isAnonymousName("alice")).isFalse();
        assertThat(auth.isAnonymousName("anonymous2")).isFalse();
        assertThat(auth.isAnonymousName(null)).isFalse();
    }

    @Test
    void withAnonymousOffAnAccountNamedFtpIsAnOrdinaryAccount() {
        String hash = PasswordHasher.hash(pw("ftp-pw"), 64, 1, 1);
        Authenticator auth = new Authenticator(List.of(new UserAccount("ftp", hash, null, true, true)),
                Anonymous.OFF, Duration.ZERO);

        assertThat(auth.login("ftp", pw("ftp-pw"))).isEqualTo(new Success("ftp", null, true, false));
        assertThat(auth.login("ftp", pw("other"))).isEqualTo(new Failure("ftp", Reason.BAD_PASSWORD));
    }

    @Test
    void repeatedLoginsVerifyOnce() {
        Authenticator auth = authenticator(Anonymous.OFF);
        for (int i = 0; i < 5; i++) {
            assertThat(auth.login("alice", pw("alice-pw"))).isInstanceOf(Success.class);
        }
        assertThat(verifications).hasValue(1);
    }

    @Test
    void nullUserOrPasswordIsAFailureNotACrash() {
        Authenticator auth = authenticator(Anonymous.OFF);

        assertThat(auth.login(null, pw("x"))).isEqualTo(new Failure("", Reason.UNKNOWN_USER));
        assertThat(auth.login("alice", null)).isEqualTo(new Failure("alice", Reason.BAD_PASSWORD));
    }

    @Test
    void duplicateAccountNamesAreRefused() {
        List<UserAccount> twice = List.of(new UserAccount("alice", aliceHash, null, true, true),
                new UserAccount("alice", bobHash, null, true, true));

        assertThatThrownBy(() -> new Authenticator(twice, Anonymous.OFF, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("alice");
    }
}
