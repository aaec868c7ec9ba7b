package dev.ferry.runtime.limits;

import java.time.Duration;

/**
 * When failed logins from one address start a ban: {@code afterFailures} failures within {@code window}
 * ban the address for {@code duration}. The same shape for the server's login policy and the balancer's
 * frontend. 0 failures (or a window or duration of no time) turns automatic bans off; bans made by hand
 * still hold.
 */
public record BanRules(int afterFailures, Duration window, Duration duration) {

    public static final BanRules OFF = new BanRules(0, Duration.ZERO, Duration.ZERO);

    public BanRules {
        if (afterFailures < 0) {
            throw new IllegalArgumentException("ban-after-failures must be 0 (off) or more, got " + afterFailures);
        }
        window = window == null ? Duration.ZERO : window;
        duration = duration == null ? Duration.ZERO : duration;
    }

    /** Whether failures can start a ban at all. */
    public boolean enabled() {
        return afterFailures > 0 && window.isPositive() && duration.isPositive();
    }
}
