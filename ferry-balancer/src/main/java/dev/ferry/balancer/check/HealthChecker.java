package dev.ferry.balancer.check;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.log.NodeName;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the checks of all backends on a schedule.
 *
 * <p>One platform thread only keeps time; each due check runs on its own virtual thread, so a backend
 * that hangs until the timeout never delays another's check. Each backend's first check is offset by
 * a share of the interval so N backends are not all probed in the same instant. A check still running
 * when its next turn comes is not started twice (the turn is skipped). Backends in MAINT are checked
 * too, so their state is current when the operator puts them back.
 *
 * <p>The ftp and ftp-login checks ask FEAT, and what a backend answers is kept on it for the FEAT the
 * balancer answers clients; with the tcp check the ftp check is run for that alone, bounded by the same
 * timeout, when a backend's features are not known yet or it is down (so maybe coming back, maybe
 * upgraded), never affecting its state.
 */
public final class HealthChecker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

    private final List<Backend> backends;
    private final BalancerSettings.Check check;
    private final Probe probe;
    /** With the tcp check, which hears no FEAT: the ftp check, run to learn a backend's features. */
    private final Probe featureProbe;
    private final List<AtomicBoolean> running;
    private final ScheduledExecutorService scheduler;
    private final AtomicBoolean started = new AtomicBoolean();
    private final BiConsumer<Backend, CheckResult> onResult;
    private final EventLog log;

    /** {@code proxyProtocol}: the header sent to backends, which every check then sends too. */
    public HealthChecker(List<Backend> backends, BalancerSettings.Check check, BalancerSettings.ProxyProtocol proxyProtocol) {
        this(backends, check, proxyProtocol, (backend, result) -> { });
    }

    /**
     * As above; {@code onResult} sees every result just before its backend does (metrics): whoever
     * sees a backend's state change then also sees the check that changed it counted.
     */
    public HealthChecker(List<Backend> backends, BalancerSettings.Check check, BalancerSettings.ProxyProtocol proxyProtocol,
                         BiConsumer<Backend, CheckResult> onResult) {
        this(backends, check, proxyProtocol, null, onResult);
    }

    /** As above, with {@code tls} the FTPS client for backends that speak FTPS (the login check then does), or null. */
    public HealthChecker(List<Backend> backends, BalancerSettings.Check check, BalancerSettings.ProxyProtocol proxyProtocol,
                         dev.ferry.balancer.tls.BackendTlsClient tls, BiConsumer<Backend, CheckResult> onResult) {
        this(backends, check, proxyProtocol, null, tls, onResult);
    }

    /**
     * As above, each check connection coming from {@code source} (the balancer's {@code source} setting), or
     * from where routing picks when null: checks take the sessions' path, address and PROXY header alike.
     */
    public HealthChecker(List<Backend> backends, BalancerSettings.Check check, BalancerSettings.ProxyProtocol proxyProtocol,
                         InetAddress source, dev.ferry.balancer.tls.BackendTlsClient tls,
                         BiConsumer<Backend, CheckResult> onResult) {
        this(backends, check, proxyProtocol, source, tls, onResult, new EventLog(LOG, NodeName.local()));
    }

    /** As above, logging to {@code log} (the balancer's, whose node names it). */
    public HealthChecker(List<Backend> backends, BalancerSettings.Check check, BalancerSettings.ProxyProtocol proxyProtocol,
                         InetAddress source, dev.ferry.balancer.tls.BackendTlsClient tls,
                         BiConsumer<Backend, CheckResult> onResult, EventLog log) {
        this.log = Objects.requireNonNull(log, "log");
        this.onResult = Objects.requireNonNull(onResult, "onResult");
        this.backends = List.copyOf(backends);
        this.check = Objects.requireNonNull(check, "check");
        if (check.interval().isNegative() || check.interval().isZero()) {
            throw new IllegalArgumentException("check interval must be positive, got " + check.interval());
        }
        if (check.timeout().isNegative() || check.timeout().isZero()) {
            throw new IllegalArgumentException("check timeout must be positive, got " + check.timeout());
        }
        this.probe = Probe.of(check, proxyProtocol, source, tls);
        this.featureProbe = check.type() == BalancerSettings.CheckType.TCP
                ? new FtpProbe(CheckHeader.of(proxyProtocol), source) : null;
        this.running = new ArrayList<>(this.backends.size());
        for (int i = 0; i < this.backends.size(); i++) {
            running.add(new AtomicBoolean());
        }
        this.scheduler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("ferry-health-checker").daemon(true).factory());
    }

    /** Starts the periodic checks (once; later calls do nothing). */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        long intervalMillis = Math.max(1, check.interval().toMillis());
        int n = backends.size();
        for (int i = 0; i < n; i++) {
            int index = i;
            long offset = intervalMillis * i / Math.max(1, n);
            scheduler.scheduleAtFixedRate(() -> launch(index), offset, intervalMillis, TimeUnit.MILLISECONDS);
        }
        log.info("checks-started").with("type", check.type().name().toLowerCase()).with("backends", n)
                .with("inter_ms", intervalMillis).with("timeout_ms", check.timeout().toMillis()).with("rise", check.rise())
                .with("fall", check.fall()).log();
    }

    /** One round over every backend, in parallel, returning when all have finished (each is bounded by the timeout). */
    public void checkNow() {
        try (ExecutorService round = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < backends.size(); i++) {
                int index = i;
                round.submit(() -> runGuarded(index));
            }
        }
    }

    private void launch(int index) {
        Thread.ofVirtual().name("ferry-check-" + backends.get(index).name()).start(() -> runGuarded(index));
    }

    private void runGuarded(int index) {
        AtomicBoolean busy = running.get(index);
        if (!busy.compareAndSet(false, true)) {
            return;
        }
        try {
            Backend backend = backends.get(index);
            Checked checked = check(probe, backend.address(), check.timeout(), check.password());
            if (checked.features() != null) {
                backend.learnFeatures(checked.features());
            }
            boolean wasDown = backend.checkState() == CheckState.DOWN;
            onResult.accept(backend, checked.result());
            backend.recordCheck(checked.result());
            // A tcp check hears no FEAT: a backend's features are asked once when first seen (at start, when a
            // reload adds it) and whenever it may be coming back up, maybe upgraded. After its result is
            // recorded: what a check says of a backend's health never waits for what is only informative.
            if (featureProbe != null && checked.result().ok() && (backend.features() == null || wasDown)) {
                List<String> features = check(featureProbe, backend.address(), check.timeout(), null).features();
                if (features != null) {
                    backend.learnFeatures(features);
                }
            }
        } catch (RuntimeException e) {
            log.warn("check-failed-internally").with("backend", backends.get(index).name()).log(e);
        } finally {
            busy.set(false);
        }
    }

    /** Runs one probe and turns its outcome or I/O failure into a result with latency. */
    static CheckResult runOnce(Probe probe, InetSocketAddress target, Duration timeout, String password) {
        return check(probe, target, timeout, password).result();
    }

    /** A check's result, and the features it heard (null: none heard). */
    record Checked(CheckResult result, List<String> features) {}

    /** {@link #runOnce}, with the features the probe heard. */
    static Checked check(Probe probe, InetSocketAddress target, Duration timeout, String password) {
        long startNanos = System.nanoTime();
        Instant deadline = Instant.now().plus(timeout);
        boolean ok;
        String detail;
        List<String> features = null;
        try {
            Probe.Outcome outcome = probe.run(target, deadline);
            ok = outcome.ok();
            detail = outcome.detail();
            features = outcome.features();
        } catch (ConnectException e) {
            ok = false;
            detail = "connect refused";
        } catch (NoRouteToHostException e) {
            ok = false;
            detail = "no route to host";
        } catch (SocketTimeoutException e) {
            ok = false;
            detail = e.getMessage() == null ? "timeout" : e.getMessage();
        } catch (IOException e) {
            ok = false;
            detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        Duration latency = Duration.ofNanos(System.nanoTime() - startNanos);
        return new Checked(new CheckResult(ok, redact(detail, password), latency, Instant.now()), features);
    }

    // SECURITY: a backend may echo what it was sent ("530 bad password pw"); the detail is logged and
    // shown on the admin page, so the check account's password must never survive into it.
    static String redact(String detail, String password) {
        if (password == null || password.isEmpty() || !detail.contains(password)) {
            return detail;
        }
        return detail.replace(password, "***");
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
