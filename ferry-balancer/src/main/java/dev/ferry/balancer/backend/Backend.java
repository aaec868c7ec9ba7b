package dev.ferry.balancer.backend;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.protocol.Printable;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.log.NodeName;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * One backend at run time: its two independent states (what checks say, what the operator set), its
 * session counters and traffic counters, its last check, and the features its FEAT listed.
 *
 * <p>Thread-safe. Counters are lock-free (sessions start and end on many threads); the health counter
 * and the state it drives change under this object's lock, so a check result and a frontend's connect
 * failure arriving together cannot lose a transition. State reads are volatile and lock-free, because
 * every balancing choice reads them.
 */
public final class Backend {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer");
    public static final int MAX_WEIGHT = BalancerSettings.BackendSpec.MAX_WEIGHT;

    private final BalancerSettings.BackendSpec spec;
    /** The balancer's log: a backend's state, weight and features changes are daemon lines. */
    private final EventLog log;
    private HealthCounter health;   // guarded by this

    private volatile CheckState checkState;
    private volatile AdminState adminState = AdminState.READY;
    private volatile Instant stateSince = Instant.now();
    private volatile CheckResult lastCheck;
    /** The feature lines of the backend's last FEAT (immutable), or null before any was heard. */
    private volatile List<String> features;
    /** Starts as configured; the operator may change it at run time (admin API). */
    private volatile int weight;

    private final AtomicInteger active = new AtomicInteger();
    /** Connections being opened (connect until greeting); fair, so a burst is served in arrival order. */
    private final Semaphore openingSlots;
    private final AtomicInteger opening = new AtomicInteger();
    private final LongAdder total = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder bytesUp = new LongAdder();
    private final LongAdder bytesDown = new LongAdder();
    private final LongAdder transfers = new LongAdder();

    /** A backend logging as the local host's node (tests, tools). */
    public Backend(BalancerSettings.BackendSpec spec, int rise, int fall) {
        this(spec, rise, fall, new EventLog(LOG, NodeName.local()));
    }

    public Backend(BalancerSettings.BackendSpec spec, int rise, int fall, EventLog log) {
        this.log = Objects.requireNonNull(log, "log");
        this.spec = Objects.requireNonNull(spec, "spec");
        this.health = new HealthCounter(rise, fall, CheckState.UP);
        this.checkState = health.state();
        this.openingSlots = new Semaphore(spec.maxConnecting(), true);
        this.weight = spec.weight();
    }

    public String name() { return spec.name(); }
    public InetSocketAddress address() { return spec.address(); }
    public int weight() { return weight; }

    /** As configured (the weight may have changed since: {@link #weight()}). */
    public BalancerSettings.BackendSpec spec() { return spec; }

    /**
     * Changes the share of new sessions (0..256, HAProxy's range); 0 takes none. Sessions in
     * progress stay where they are. Policies read {@link #weight()} at each choice.
     */
    public void setWeight(int w) {
        if (w < 0 || w > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight must be 0.." + MAX_WEIGHT + ", got " + w);
        }
        int before = weight;
        weight = w;
        if (before != w) {
            log.info("backend-weight").with("backend", name()).with("weight", w).with("previous_weight", before).log();
        }
    }

    public CheckState checkState() { return checkState; }
    public AdminState adminState() { return adminState; }

    /** When the check state or the admin state last changed (construction time if never). */
    public Instant stateSince() { return stateSince; }

    public synchronized void setAdminState(AdminState s) {
        Objects.requireNonNull(s, "admin state");
        if (s == adminState) {
            return;
        }
        adminState = s;
        stateSince = Instant.now();
        log.info("backend-admin").with("backend", name()).with("admin", s.name().toLowerCase())
                .with("state", checkState.name().toLowerCase()).log();
    }

    /** Up and READY and weight > 0: may receive new sessions. */
    public boolean eligible() {
        return checkState == CheckState.UP && adminState == AdminState.READY && weight > 0;
    }

    /**
     * Sessions on this backend now, counting those whose connection is still being opened: a drained
     * backend may be stopped only when this is 0 (docs/balancer.md, rolling restart). A session is
     * counted as started before it stops counting as opening, so for an instant it may count twice,
     * never zero times.
     */
    public int activeSessions() { return active.get() + opening.get(); }
    public long totalSessions() { return total.sum(); }

    public void sessionStarted() {
        active.incrementAndGet();
        total.increment();
    }

    /**
     * Waits up to {@code wait} for one of the backend's {@code max-connecting} slots; the caller then
     * opens its connection and calls {@link #endOpening} once the greeting came (or did not).
     */
    public boolean beginOpening(Duration wait) throws InterruptedException {
        if (!openingSlots.tryAcquire(Math.max(0, wait.toNanos()), TimeUnit.NANOSECONDS)) {
            return false;
        }
        opening.incrementAndGet();
        return true;
    }

    public void endOpening() {
        opening.decrementAndGet();
        openingSlots.release();
    }

    public int openingConnections() { return opening.get(); }

    /** The most connections opened to this backend at once (its spec's max-connecting). */
    public int maxConnecting() { return spec.maxConnecting(); }

    /**
     * Sessions plus connections being opened: what leastconn weighs, so that a burst arriving before
     * any connection is up does not all go to the backend that looked emptiest.
     */
    public int load() { return activeSessions(); }

    public void sessionEnded() {
        // Never below zero, even if a caller ends a session twice: a negative count would attract every new session.
        active.updateAndGet(n -> n > 0 ? n - 1 : 0);
    }

    /** Keeps the result and feeds the health counter; logs one line when the check state flips. */
    public void recordCheck(CheckResult r) {
        Objects.requireNonNull(r, "check result");
        synchronized (this) {
            lastCheck = r;
            feed(r.ok(), r.at(), r.detail(), r.latency());
        }
    }

    public CheckResult lastCheck() { return lastCheck; }

    /**
     * What the backend answered to FEAT when a check last asked (RFC 2389 feature lines, without the
     * leading space; empty when it offers none), or null before any check heard it.
     */
    public List<String> features() { return features; }

    /** A check heard the backend's FEAT: kept for the FEAT clients get, one log line when it changed. */
    public void learnFeatures(List<String> offered) {
        List<String> now = List.copyOf(offered);
        List<String> before = features;
        features = now;
        if (!now.equals(before)) {
            log.info("features").with("backend", name()).with("features", Printable.of(String.join(",", now), 600)).log();
        }
    }

    /** New rise/fall thresholds (a reload): the state stays, the streak towards a change restarts. */
    public synchronized void setThresholds(int rise, int fall) {
        health = new HealthCounter(rise, fall, checkState);
    }

    /**
     * A connect or greeting failure seen by the frontend: counted as an error (the session moves to
     * another backend). It does not feed the health counter: under a burst an overloaded backend
     * refuses a few connects while it is perfectly alive, and marking it down from traffic would turn
     * a short overload into every session being refused. Up and down are the checks' decision.
     */
    public void countConnectFailure() {
        errors.increment();
    }

    /**
     * A failure of the backend seen by a session after it took it: a command left unanswered for the
     * server-idle timeout, a broken reply, a data port that cannot be reached, a transfer it stalled.
     * Counted with the connect failures (HAProxy's econ and eresp are one column here); not fed to the
     * health counter, for the reason given at {@link #countConnectFailure}.
     */
    public void countError() {
        errors.increment();
    }

    private void feed(boolean ok, Instant at, String detail, Duration latency) {
        CheckState before = checkState;
        CheckState after = health.record(ok);
        if (after != before) {
            checkState = after;
            stateSince = at;
            // A backend going down is what an operator must notice: WARN; coming back up is INFO.
            log.at(after == CheckState.DOWN ? Level.WARN : Level.INFO, after == CheckState.DOWN ? "backend-down" : "backend-up")
                    .with("backend", name()).with("state", after.name().toLowerCase()).with("check", ok ? "ok" : "failed")
                    .with("detail", detail).with("latency_ms", latency == null ? null : latency.toMillis()).log();
        }
    }

    public long errors() { return errors.sum(); }
    public long retries() { return retries.sum(); }
    public void countRetry() { retries.increment(); }

    public void addBytes(long up, long down) {
        bytesUp.add(up);
        bytesDown.add(down);
    }

    public long bytesUp() { return bytesUp.sum(); }
    public long bytesDown() { return bytesDown.sum(); }
    public void countTransfer() { transfers.increment(); }
    /** Transfers of a session that ended (live sessions are counted by whoever reports them). */
    public void addTransfers(long n) { transfers.add(n); }
    public long transfers() { return transfers.sum(); }

    @Override
    public String toString() {
        return "Backend[" + name() + " " + address() + " weight=" + weight() + " " + checkState + "/" + adminState + "]";
    }
}
