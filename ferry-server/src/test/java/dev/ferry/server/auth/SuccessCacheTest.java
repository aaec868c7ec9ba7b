package dev.ferry.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SuccessCacheTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private static final LoginResult.Success ALICE = new LoginResult.Success("alice", Path.of("/srv/a"), true, false);
    private static final LoginResult.Success BOB = new LoginResult.Success("bob", Path.of("/srv/b"), false, false);

    @Test
    void aRememberedLoginIsAnsweredUntilItsTtlEndsAndOnlyForTheSamePassword() {
        SuccessCache cache = new SuccessCache(Duration.ofSeconds(10), 10, now::get);
        cache.put("alice", "pw".toCharArray(), ALICE);
        assertThat(cache.get("alice", "pw".toCharArray())).isSameAs(ALICE);
        assertThat(cache.get("alice", "pW".toCharArray())).isNull();
        assertThat(cache.get("alice", "pw\0".toCharArray())).isNull();
        assertThat(cache.get("bob", "pw".toCharArray())).isNull();
        now.addAndGet(Duration.ofSeconds(10).toNanos() - 1);
        assertThat(cache.get("alice", "pw".toCharArray())).isSameAs(ALICE);
        now.incrementAndGet();
        assertThat(cache.get("alice", "pw".toCharArray())).as("a hit does not extend the entry").isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void aNewPasswordReplacesTheOldAndTheOldestUserIsForgottenFirst() {
        SuccessCache cache = new SuccessCache(Duration.ofMinutes(1), 1, now::get);
        cache.put("alice", "old".toCharArray(), ALICE);
        cache.put("alice", "new".toCharArray(), ALICE);
        assertThat(cache.get("alice", "old".toCharArray())).isNull();
        assertThat(cache.get("alice", "new".toCharArray())).isSameAs(ALICE);
        cache.put("bob", "pw".toCharArray(), BOB);
        assertThat(cache.size()).isEqualTo(1);
        assertThat(cache.get("alice", "new".toCharArray())).isNull();
        assertThat(cache.get("bob", "pw".toCharArray())).isSameAs(BOB);
    }

    @Test
    void zeroTtlRemembersNothing() {
        SuccessCache cache = new SuccessCache(Duration.ZERO, 10, now::get);
        cache.put("alice", "pw".toCharArray(), ALICE);
        assertThat(cache.get("alice", "pw".toCharArray())).isNull();
        assertThat(cache.enabled()).isFalse();
    }

    @Test
    void anAccountThatExpiresSoonerIsRememberedOnlyUntilThen() {
        SuccessCache cache = new SuccessCache(Duration.ofMinutes(1), 10, now::get);
        cache.put("alice", "pw".toCharArray(), ALICE, Duration.ofSeconds(2));
        cache.put("bob", "pw".toCharArray(), BOB, Duration.ZERO);
        assertThat(cache.get("bob", "pw".toCharArray())).as("already expired: not remembered").isNull();
        now.addAndGet(Duration.ofSeconds(2).toNanos() - 1);
        assertThat(cache.get("alice", "pw".toCharArray())).isSameAs(ALICE);
        now.incrementAndGet();
        assertThat(cache.get("alice", "pw".toCharArray())).isNull();
    }
}
