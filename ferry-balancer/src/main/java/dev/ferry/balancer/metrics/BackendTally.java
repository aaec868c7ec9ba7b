package dev.ferry.balancer.metrics;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.backend.CheckState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The figures HAProxy's stats show that a {@link Backend} does not keep itself: failed checks, times it went
 * down, time spent down, and peak sessions (HAProxy's chkfail, chkdown, downtime, smax).
 *
 * <p>Design: nothing in the session or check code changes for these. Two feeds observe the backends: every
 * check result ({@link BalancerMetrics#checkDone}, before the backend records it) and a sampler (the admin
 * listener's, every second). A down period is seen when an observation finds the check state DOWN after UP;
 * it cannot be missed, because each state lasts at least until the next check, whose result is observed
 * first. Its end is the backend's {@link Backend#stateSince()} when an observation finds it UP again (that
 * instant may be a later admin-state change, so downtime is exact to the sampling second). Peaks are
 * sampled, so a burst shorter than a second may not reach them.
 */
public final class BackendTally {

    /** One backend's figures at a moment. */
    public record Figures(long checksFailed, long downs, long downtimeSeconds, int peakSessions) {}

    private static final class Track {
        long checksFailed;
        long downs;
        Instant downSince;
        Duration downtime = Duration.ZERO;
        int peakSessions;
    }

    /** Weak: a backend a reload removed leaves with its figures. Guarded by this. */
    private final Map<Backend, Track> tracks = new WeakHashMap<>();
    private int frontendPeak;
    private int backendPeak;

    /** One check of {@code backend} finished with {@code result} (not yet recorded by the backend). */
    synchronized void checkDone(Backend backend, CheckResult result) {
        Track t = track(backend);
        if (!result.ok()) {
            t.checksFailed++;
        }
        observe(backend, t, result.at());
    }

    /** A sample: the backends in service and the frontend's sessions now. */
    public synchronized void observe(List<Backend> backends, int frontendSessions, Instant now) {
        frontendPeak = Math.max(frontendPeak, frontendSessions);
        int sum = 0;
        for (Backend b : backends) {
            observe(b, track(b), now);
            sum += b.activeSessions();
        }
        backendPeak = Math.max(backendPeak, sum);
    }

    /** {@code backend}'s figures now (an open down period counts up to {@code now}). */
    public synchronized Figures figures(Backend backend, Instant now) {
        Track t = track(backend);
        observe(backend, t, now);
        Duration down = t.downtime;
        if (t.downSince != null && now.isAfter(t.downSince)) {
            down = down.plus(Duration.between(t.downSince, now));
        }
        return new Figures(t.checksFailed, t.downs, down.toSeconds(), t.peakSessions);
    }

    /** The most sessions admitted at once, as sampled. */
    public synchronized int frontendPeak() {
        return frontendPeak;
    }

    /** The most sessions on all backends together at once, as sampled. */
    public synchronized int backendPeak() {
        return backendPeak;
    }

    private Track track(Backend b) {
        return tracks.computeIfAbsent(b, k -> new Track());
    }

    private static void observe(Backend b, Track t, Instant now) {
        t.peakSessions = Math.max(t.peakSessions, b.activeSessions());
        boolean down = b.checkState() == CheckState.DOWN;
        if (down && t.downSince == null) {
            t.downs++;
            Instant since = b.stateSince();
            t.downSince = since.isAfter(now) ? now : since;
        } else if (!down && t.downSince != null) {
            Instant end = b.stateSince();
            if (end.isBefore(t.downSince) || end.isAfter(now)) {
                end = now;
            }
            t.downtime = t.downtime.plus(Duration.between(t.downSince, end).isNegative() ? Duration.ZERO
                    : Duration.between(t.downSince, end));
            t.downSince = null;
        }
    }
}
