package dev.ferry.server.command;

import dev.ferry.protocol.command.FeatureList;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.data.DataEndpoint;
import dev.ferry.server.data.PassiveListener;
import dev.ferry.server.data.DataTls;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.policy.BandwidthLimits;
import dev.ferry.server.policy.Throttle;
import java.util.Set;

/**
 * What one control connection has been told so far, typed and in one place: the login, the transfer
 * parameters (TYPE, REST, EPSV ALL, the OPTS choices), the data endpoint (PASV/EPSV/PORT/EPRT), the FTPS
 * state ({@link ControlProtection}) and a pending RNFR. The handlers in this package and the {@link Gate}
 * read and change it; the session's loop owns the connection and the lifecycle, not this.
 *
 * <p>Confined to the session's control thread: a transfer thread gets what it needs in its
 * {@link dev.ferry.server.data.TransferPlan}, taken before it starts.
 */
public final class SessionState {

    /** OPTS HASH's default (draft-bryan-ftpext-hash §3.1: SHA-256 is what clients ask for first). */
    static final String DEFAULT_HASH = FeatureList.HASH_ALGORITHMS.get(0);
    private static final Set<String> ALL_FACTS = Set.copyOf(FeatureList.MLST_FACTS);

    private final ControlProtection protection;

    // Login (RFC 959 §4.1.1)
    private String pendingUser;
    private int failedLogins;
    private LoginResult.Success account;
    private Storage storage;
    /** The logged-in account's hold on its bandwidth buckets (and the server's); null before login. */
    private BandwidthLimits.Lease bandwidth;
    private VirtualPath cwd = VirtualPath.ROOT;
    /** When the login timeout started: the connection, or the REIN that ended a login. */
    private long loginClockNanos;

    // Transfer parameters (RFC 959 §4.1.2, RFC 2428 §4, RFC 3659 §7.9)
    private boolean ascii;
    private long restOffset;
    private boolean epsvAll;
    private String hashAlgorithm = DEFAULT_HASH;
    private Set<String> mlstFacts = ALL_FACTS;
    private DataEndpoint endpoint;
    /** The listener the last passive transfer used, which it may have kept open for the next PASV/EPSV. */
    private PassiveListener lastPassive;
    /** Protected data connections' TLS, from the control connection's handshake; null before one. */
    private DataTls dataTls;

    /** The login's place in its user's session count (SessionLimits); null when not logged in. */
    private SessionLimits.Lease lease;

    /** RNFR accepted: the next command must be RNTO (RFC 959 §4.1.3). */
    private VirtualPath renameFrom;

    public SessionState(ControlProtection protection, long connectedNanos) {
        this.protection = protection;
        this.loginClockNanos = connectedNanos;
    }

    public ControlProtection protection() { return protection; }

    // Login

    public boolean loggedIn() { return account != null; }
    /** The logged-in account, or null. */
    public LoginResult.Success account() { return account; }
    public String user() { return account == null ? null : account.user(); }
    public Storage storage() { return storage; }
    public VirtualPath cwd() { return cwd; }
    void cwd(VirtualPath dir) { this.cwd = dir; }
    public String pendingUser() { return pendingUser; }
    void pendingUser(String name) { this.pendingUser = name; }
    int failedLogin() { return ++failedLogins; }
    public long loginClockNanos() { return loginClockNanos; }

    void sessionLease(SessionLimits.Lease held) {
        releaseLease();
        this.lease = held;
    }

    /** Gives the login's place in its user's session count back: at logout, REIN, AUTH after login, session end. */
    public void releaseLease() {
        SessionLimits.Lease held = lease;
        lease = null;
        if (held != null) {
            held.close();
        }
    }

    void loggedIn(LoginResult.Success account, Storage storage) {
        this.account = account;
        this.storage = storage;
        this.cwd = VirtualPath.ROOT;
    }

    void bandwidth(BandwidthLimits.Lease lease) {
        releaseBandwidth();
        this.bandwidth = lease;
    }

    /** What limits this session's uploads; {@link Throttle#NONE} before login or without a limit. */
    public Throttle uploadThrottle() { return bandwidth == null ? Throttle.NONE : bandwidth.upload(); }

    /** What limits this session's downloads; {@link Throttle#NONE} before login or without a limit. */
    public Throttle downloadThrottle() { return bandwidth == null ? Throttle.NONE : bandwidth.download(); }

    /**
     * Lets go of the account's bandwidth buckets (a user's go when its last session lets go). At the session's
     * end, after its transfers stopped; a transfer still running after REIN keeps the buckets it took.
     */
    public void releaseBandwidth() {
        if (bandwidth != null) {
            bandwidth.close();
            bandwidth = null;
        }
    }

    /**
     * Back to the state of a new connection (REIN, RFC 959 §4.1.1; a successful AUTH, RFC 4217 §4: "almost as
     * if a REIN command was issued"): logged out, transfer parameters reset, no data endpoint. The OPTS
     * choices stay, as they always have. {@code restartLoginClock}: the login timeout starts again, which only
     * a REIN that ends a login may do (SECURITY: before login, REIN or AUTH must not let a client that never
     * logs in stay for ever, PreLogin.Step.Reinitialize).
     */
    public void reset(boolean restartLoginClock) {
        discardEndpoint();
        releaseLease();
        account = null;
        storage = null;
        releaseBandwidth();
        pendingUser = null;
        cwd = VirtualPath.ROOT;
        ascii = false;
        restOffset = 0;
        epsvAll = false;
        if (restartLoginClock) {
            loginClockNanos = System.nanoTime();
        }
    }

    // Transfer parameters

    public boolean ascii() { return ascii; }
    void ascii(boolean on) { this.ascii = on; }
    void restOffset(long offset) { this.restOffset = offset; }
    /** A REST offset waits for the next transfer. */
    boolean restPending() { return restOffset > 0; }

    /** The REST offset for the transfer that consumes it (any transfer command does, RFC 3659 §5.3). */
    long takeRestOffset() {
        long o = restOffset;
        restOffset = 0;
        return o;
    }

    boolean epsvAll() { return epsvAll; }
    void epsvAll(boolean on) { this.epsvAll = on; }
    String hashAlgorithm() { return hashAlgorithm; }
    void hashAlgorithm(String algorithm) { this.hashAlgorithm = algorithm; }
    Set<String> mlstFacts() { return mlstFacts; }
    void mlstFacts(Set<String> facts) { this.mlstFacts = facts; }

    // Data endpoint and protection

    public DataEndpoint endpoint() { return endpoint; }

    /** A new endpoint replaces the one set before (its passive port goes back to the pool). */
    void endpoint(DataEndpoint next) {
        DataEndpoint.discard(endpoint);
        this.endpoint = next;
        if (next instanceof DataEndpoint.Active) {
            releasePassive();
        }
    }

    /** The endpoint, for the transfer that uses it: each PASV/PORT serves one transfer. */
    DataEndpoint takeEndpoint() {
        DataEndpoint e = endpoint;
        endpoint = null;
        if (e instanceof DataEndpoint.Passive p && p.listener() != lastPassive) {
            releasePassive();
            lastPassive = p.listener();
        }
        return e;
    }

    /**
     * The last passive transfer's listener, taken up again for a new PASV/EPSV on the same port
     * ({@link PassiveListener#reuse}); null when it cannot be (then it is closed, and a new one is opened).
     */
    PassiveListener reusablePassive() {
        PassiveListener last = lastPassive;
        lastPassive = null;
        if (last == null) {
            return null;
        }
        if (last.reuse()) {
            return last;
        }
        last.close();
        return null;
    }

    /** Gives the last passive transfer's kept listener back to the range (the session goes idle or ends). */
    public void releasePassive() {
        PassiveListener last = lastPassive;
        lastPassive = null;
        if (last != null) {
            last.close();
        }
    }

    /** Drops the endpoint set up and the kept listener of the last passive transfer. */
    public void discardEndpoint() {
        endpoint(null);
        releasePassive();
    }

    /** The control connection's handshake succeeded: protected data connections will use its TLS. */
    public void dataTls(DataTls tls) { this.dataTls = tls; }

    /** The protection for a transfer starting now: the handshake's TLS under PROT P, else null. */
    DataTls transferTls() {
        return protection.protectData() ? dataTls : null;
    }

    // Rename

    public VirtualPath renameFrom() { return renameFrom; }
    void renameFrom(VirtualPath from) { this.renameFrom = from; }

    /** Any command but RNTO ends a pending RNFR; RNTO consumes it (RFC 959 §4.1.3). */
    public VirtualPath takeRenameFrom() {
        VirtualPath from = renameFrom;
        renameFrom = null;
        return from;
    }
}
