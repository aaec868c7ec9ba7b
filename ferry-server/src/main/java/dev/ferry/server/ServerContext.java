package dev.ferry.server;

import dev.ferry.runtime.limits.BanList;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.IdleParker;
import dev.ferry.runtime.net.PassiveAddressing;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.TlsEndpoint;
import dev.ferry.server.auth.Accounts;
import dev.ferry.server.data.PassivePorts;
import dev.ferry.server.events.EventHooks;
import dev.ferry.server.fs.StorageEngine;
import dev.ferry.server.fs.StorageEngines;
import dev.ferry.server.metrics.ServerMetrics;
import dev.ferry.server.policy.MemoryQuotaLedger;
import dev.ferry.server.policy.QuotaLedger;
import dev.ferry.server.policy.BandwidthLimits;
import dev.ferry.server.proxy.UntrustedHeaders;
import dev.ferry.server.session.SessionRegistry;
import java.util.Objects;
import java.util.UUID;
import org.slf4j.LoggerFactory;

/**
 * What every session of one server shares. {@code idleParker} may be null (sessions then keep their thread
 * while idle); {@code tls} is null when FTPS is off (AUTH TLS is then answered 502).
 *
 * <p>A reload (SIGHUP) replaces the accounts and the TLS certificate: sessions read {@link #authenticator()}
 * at each login, and take {@link #tls()} once, at their control connection's handshake, so that their data
 * connections use the same TLS context (and can resume its session) even after a reload. Everything else is
 * fixed for the server's life.
 */
public final class ServerContext {

    private final ServerSettings settings;
    private volatile Accounts authenticator;
    private final BanList bans;
    private final SessionLimits sessionLimits;
    private final Watchdog watchdog;
    private final PassivePorts passivePorts;
    private final PassiveAddressing passiveAddressing;
    private final BufferPool buffers;
    private final SessionRegistry sessions;
    private final StorageEngines storage;
    private final IdleParker idleParker;
    private final ServerMetrics metrics;
    private volatile TlsEndpoint tls;
    private final UntrustedHeaders untrustedHeaders = new UntrustedHeaders();
    private final EventLog sessionLog;
    /** Where accounts with a quota are counted: this server's memory unless a shared ledger is set. */
    private volatile QuotaLedger quotaLedger = new MemoryQuotaLedger();
    /** This start of the server, in the owner of its quota reservations (a restart drops the earlier ones'). */
    private final String incarnation = UUID.randomUUID().toString();
    private final BandwidthLimits bandwidth;
    private final EventHooks events;

    public ServerContext(ServerSettings settings, Accounts authenticator, BanList bans, SessionLimits sessionLimits,
                         Watchdog watchdog,
                         PassivePorts passivePorts, PassiveAddressing passiveAddressing, BufferPool buffers,
                         SessionRegistry sessions, StorageEngine homes, IdleParker idleParker, ServerMetrics metrics,
                         TlsEndpoint tls) {
        this(settings, authenticator, bans, sessionLimits, watchdog, passivePorts, passiveAddressing, buffers, sessions,
                StorageEngines.of(homes), idleParker, metrics, tls);
    }

    /** @param storage the server's storage engine and those of accounts with a storage of their own */
    public ServerContext(ServerSettings settings, Accounts authenticator, BanList bans, SessionLimits sessionLimits,
                         Watchdog watchdog,
                         PassivePorts passivePorts, PassiveAddressing passiveAddressing, BufferPool buffers,
                         SessionRegistry sessions, StorageEngines storage, IdleParker idleParker, ServerMetrics metrics,
                         TlsEndpoint tls) {
        this.settings = settings;
        this.authenticator = authenticator;
        this.bans = bans;
        this.sessionLimits = sessionLimits;
        this.watchdog = watchdog;
        this.passivePorts = passivePorts;
        this.passiveAddressing = passiveAddressing;
        this.buffers = buffers;
        this.sessions = sessions;
        this.storage = storage;
        this.idleParker = idleParker;
        this.metrics = metrics;
        this.tls = tls;
        this.sessionLog = new EventLog(LoggerFactory.getLogger("ferry.session"), settings.node());
        this.bandwidth = new BandwidthLimits(settings.limits().bandwidth());
        this.events = EventHooks.start(settings.events(), metrics == null ? EventHooks.Counters.NONE : new EventHooks.Counters() {
            @Override public void delivered(String action) { metrics.eventDelivered(action, true); }
            @Override public void failed(String action) { metrics.eventDelivered(action, false); }
            @Override public void dropped() { metrics.eventDropped(); }
        }, new EventLog(LoggerFactory.getLogger("ferry.events"), settings.node()));
    }

    /** The settings the server started with (a reload changes only the accounts and the certificate). */
    public ServerSettings settings() { return settings; }
    /** Where logins are checked: the users file, the database, LDAP or an auth hook. */
    public Accounts authenticator() { return authenticator; }
    /** Failed logins and bans per client address (this server's, or the cluster's in the database). */
    public BanList bans() { return bans; }
    /** Sessions per user, against each account's {@code max-sessions} (this server's, or the cluster's). */
    public SessionLimits sessionLimits() { return sessionLimits; }
    /** Bounds the warnings about PROXY headers from peers the server does not trust. */
    public UntrustedHeaders untrustedHeaders() { return untrustedHeaders; }
    /** The log every session's lines go to (logger {@code ferry.session}), tagged with this server's node. */
    public EventLog sessionLog() { return sessionLog; }
    public Watchdog watchdog() { return watchdog; }
    public PassivePorts passivePorts() { return passivePorts; }
    public PassiveAddressing passiveAddressing() { return passiveAddressing; }
    public BufferPool buffers() { return buffers; }
    public SessionRegistry sessions() { return sessions; }
    /** The server's own storage engine. */
    public StorageEngine homes() { return storage.server(); }
    /** Every storage engine: the server's and those of accounts with a storage of their own. */
    public StorageEngines storage() { return storage; }
    public IdleParker idleParker() { return idleParker; }
    public ServerMetrics metrics() { return metrics; }
    /** The server's bandwidth buckets and its limited users' (shared by their sessions on this server). */
    public BandwidthLimits bandwidth() { return bandwidth; }
    /** Upload, delete and rename events; {@link EventHooks#NONE} when off. Closed by the server's stop. */
    public EventHooks events() { return events; }
    /** TLS for new control connections, or null when FTPS is off. */
    public TlsEndpoint tls() { return tls; }

    /** The quota ledger (docs/policy.md). */
    public QuotaLedger quotaLedger() { return quotaLedger; }

    /**
     * Uses {@code ledger} (the database's, shared by the cluster) for sessions that log in from now on, after
     * releasing what earlier starts of this node left reserved in it (a crash: their sessions are gone; how many is
     * returned). Node
     * names must therefore be unique in a cluster, as they already are for the logs.
     */
    public int quotaLedger(QuotaLedger ledger) throws java.io.IOException {
        int released = ledger.releaseAllBut(settings.node(), incarnation);
        this.quotaLedger = Objects.requireNonNull(ledger);
        return released;
    }

    /** Who holds the quota reservations of session {@code session} of this server. */
    public QuotaLedger.Owner quotaOwner(String session) {
        return new QuotaLedger.Owner(settings.node(), incarnation, session);
    }

    /** New logins use these accounts; sessions logged in keep theirs. */
    public void replaceAuthenticator(Accounts next) {
        this.authenticator = Objects.requireNonNull(next);
    }

    /** New TLS handshakes on control connections use this certificate; sessions already in TLS keep theirs. */
    public void replaceTls(TlsEndpoint next) {
        if (tls == null) {
            throw new IllegalStateException("FTPS is off on this server: turning it on needs a restart");
        }
        this.tls = Objects.requireNonNull(next);
    }
}
