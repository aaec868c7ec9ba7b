package dev.ferry.balancer.frontend;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.BackendConnect;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.log.RefusalLog;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.balancer.policy.BalancePolicy;
import dev.ferry.balancer.tls.BalancerTls;
import dev.ferry.runtime.limits.BanList;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.IdleParker;
import dev.ferry.runtime.net.PassiveAddressing;
import dev.ferry.runtime.net.Watchdog;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/**
 * What every proxied session of one balancer shares. {@code idleParker} may be null (pumps then keep
 * their threads).
 *
 * <p>Settings, backends and policy change on a configuration reload ({@link #reconfigure}): each is
 * one volatile reference to an immutable value, so a session reads a consistent settings object or
 * backend list, and a session that started before the reload simply goes on with what it read.
 */
public final class BalancerContext implements BackendConnect.Terms {

    private volatile BalancerSettings settings;
    private volatile List<Backend> backends;
    private volatile BalancePolicy policy;
    private final Watchdog watchdog;
    private final DataPorts dataPorts;
    private final PassiveAddressing addressing;
    private final BufferPool buffers;
    private final Admission admission;
    private final AtomicLong sessionIds;
    private final Set<ClientSession> live;
    private final IdleParker idleParker;
    private final BalancerMetrics metrics;
    private final BalancerTls tls;
    /** The balancer's log: {@code node=} from the settings it started with (the node is not reloadable). */
    private final EventLog log;
    private final RefusalLog refusals = new RefusalLog();
    private final BanList bans;
    private final SessionLimits sessions;

    /** {@code tls}: null unless the balancer terminates TLS. */
    public BalancerContext(BalancerSettings settings, List<Backend> backends, BalancePolicy policy, Watchdog watchdog,
                           DataPorts dataPorts, PassiveAddressing addressing, BufferPool buffers, Admission admission,
                           AtomicLong sessionIds, Set<ClientSession> live, IdleParker idleParker, BalancerMetrics metrics,
                           BalancerTls tls, BanList bans, SessionLimits sessions) {
        this.tls = tls;
        this.bans = Objects.requireNonNull(bans, "bans");
        this.sessions = Objects.requireNonNull(sessions, "sessions");
        this.log = new EventLog(LoggerFactory.getLogger("ferry.balancer"), settings.node());
        this.settings = Objects.requireNonNull(settings, "settings");
        this.backends = List.copyOf(backends);
        this.policy = Objects.requireNonNull(policy, "policy");
        this.watchdog = watchdog;
        this.dataPorts = dataPorts;
        this.addressing = addressing;
        this.buffers = buffers;
        this.admission = admission;
        this.sessionIds = sessionIds;
        this.live = live;
        this.idleParker = idleParker;
        this.metrics = metrics;
    }

    /** A reload: new sessions see these; sessions already running keep what they read. */
    public void reconfigure(BalancerSettings newSettings, List<Backend> newBackends, BalancePolicy newPolicy) {
        this.backends = List.copyOf(newBackends);
        this.policy = Objects.requireNonNull(newPolicy, "policy");
        this.settings = Objects.requireNonNull(newSettings, "settings");
    }

    public BalancerSettings settings() { return settings; }
    /** The balancer's daemon log; a session's log comes from it ({@link EventLog#session}). */
    public EventLog log() { return log; }
    /** The bound on refusal lines, shared by every session and data port of the balancer. */
    public RefusalLog refusals() { return refusals; }
    /** The backends in service (not those retired by a reload and still draining). */
    public List<Backend> backends() { return backends; }
    public BalancePolicy policy() { return policy; }
    @Override public Watchdog watchdog() { return watchdog; }
    public DataPorts dataPorts() { return dataPorts; }
    public PassiveAddressing addressing() { return addressing; }
    public BufferPool buffers() { return buffers; }
    public Admission admission() { return admission; }
    public AtomicLong sessionIds() { return sessionIds; }
    public Set<ClientSession> live() { return live; }

    /**
     * A session ended: its place among its address's connections (if {@link Admission#arrive} counted it)
     * and its admission slot (if it had one) are free, and it leaves the live set.
     */
    public void ended(ClientSession session, boolean arrived, boolean admitted) {
        if (admitted) {
            admission.leave();
        }
        if (arrived) {
            admission.depart(session.clientAddress().getAddress());
        }
        live.remove(session);
    }
    public IdleParker idleParker() { return idleParker; }

    // What connecting to a backend reads (BackendConnect.Terms), each from the settings in force.
    @Override public Duration connectTimeout() { return settings.timeouts().connect(); }
    @Override public int retries() { return settings.retries(); }
    @Override public BalancerSettings.ProxyProtocol proxyProtocol() { return settings.proxyProtocol(); }
    @Override public java.net.InetAddress source() { return settings.source(); }

    @Override
    public Backend choose(InetAddress client, String user, Set<Backend> tried) {
        return policy.choose(backends, client, user, tried);
    }

    public BalancerMetrics metrics() { return metrics; }
    /**
     * Failed logins and bans per client address, as the balancer sees them (the servers see only the balancer, or
     * the PROXY header's address): this balancer's, or every balancer's when the list is in the database.
     */
    public BanList bans() { return bans; }
    /** Logged-in sessions per user through this balancer (counted, never refused: the servers hold the limits). */
    public SessionLimits sessions() { return sessions; }
    /** TLS termination (the balancer's certificate, FTPS to backends), or null when it is off. */
    public BalancerTls tls() { return tls; }
}
