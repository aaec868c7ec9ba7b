package dev.ferry.balancer.backend;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Outcome of one check: ok, a short reply or description ("220 greeting", "connect refused", "timeout"),
 * how long it took, and when it finished. The detail never holds a password.
 */
public record CheckResult(boolean ok, String detail, Duration latency, Instant at) {
    public CheckResult {
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(latency, "latency");
        Objects.requireNonNull(at, "at");
    }
}
