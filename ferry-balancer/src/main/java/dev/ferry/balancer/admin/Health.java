package dev.ferry.balancer.admin;

import dev.ferry.balancer.backend.Backend;
import java.util.List;

/**
 * {@code GET /health}: whether this balancer can serve a new session, for keepalived's {@code vrrp_script}
 * (moving the virtual address away from a balancer that cannot serve) and for any load balancer or monitor in
 * front (HAProxy's {@code monitor-uri}). Served without a login, as a monitor has none, and it tells nothing
 * an outsider could use beyond how many backends are up. The listener closes first when the balancer stops,
 * so a stopping balancer fails the check at once and keepalived moves the address during the grace period.
 *
 * @param eligible backends that may take a new session now (up, ready, weight above 0)
 * @param total    backends configured
 */
record Health(int eligible, int total) {

    static Health of(List<Backend> backends) {
        return new Health((int) backends.stream().filter(Backend::eligible).count(), backends.size());
    }

    /** 200 with at least one backend to send a session to, else 503 (RFC 9110 §15.6.4: cannot handle it now). */
    int status() {
        return eligible > 0 ? 200 : 503;
    }

    /** One line for a person or a log: {@code up: 2 of 3 backends take sessions}. */
    String text() {
        return (eligible > 0 ? "up: " : "down: ") + eligible + " of " + total + " backends take sessions\n";
    }
}
