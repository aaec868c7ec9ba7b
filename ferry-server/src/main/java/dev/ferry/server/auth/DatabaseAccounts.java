package dev.ferry.server.auth;

import dev.ferry.database.Database;
import dev.ferry.database.Notifications;
import dev.ferry.database.UserRow;
import dev.ferry.database.UserTable;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.password.CredentialCache;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Bandwidth;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Quota;
import java.net.InetAddress;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Accounts of {@code users: database}: rows of {@code ferry_users}, shared by every server of a fleet.
 *
 * <p>Design. A login reads the user's row (through a short cache) and verifies the password with the same
 * {@link CredentialCache} as the users file, so repeated logins of one script still cost one hash per TTL. The
 * row cache is what makes a change felt at once on every server without a query per login: each change to the
 * table sends {@code NOTIFY ferry_users, '<name>'} in its transaction, and the {@link Notifications} connection
 * drops that name here; when the LISTEN connection was lost and is back, the whole cache goes (a NOTIFY may have been
 * missed), and nothing is cached or used from the cache while that connection is down. {@link #ROW_TTL} bounds how long a row lives even so. A lookup that raced a NOTIFY does not put its
 * (possibly older) row back: every drop bumps a generation, and a row read before the latest drop is not kept.
 *
 * <p>When the database cannot be asked (down, or slower than its timeouts) a login answers
 * {@link LoginResult.Reason#UNAVAILABLE}: 421 to the client, no guess counted. Sessions logged in already are not
 * touched: they hold what their login gave them. Anonymous logins do not need the database.
 */
public final class DatabaseAccounts implements Accounts {

    /** Longest life of a cached row, NOTIFY or not (a safety net for a notification lost in a way we cannot see). */
    public static final Duration ROW_TTL = Duration.ofSeconds(30);
    /**
     * After a failed query, how long logins are told UNAVAILABLE without asking again: during an outage each
     * attempt would otherwise hold its session for the whole connect timeout (twice: USER asks for the TLS policy,
     * PASS for the row), and a crowd of clients would hold that many threads.
     */
    static final Duration FAILURE_MEMORY = Duration.ofSeconds(1);
    /** Most rows cached; beyond it the cache starts afresh (names sprayed by a guesser must not grow it). */
    static final int MAX_CACHED_ROWS = 65_536;

    private final UserTable table;
    private final Path root;
    private final AnonymousLogin anonymous;
    private final CredentialCache credentials;
    private final EventLog log;
    private final Duration rowTtl;
    private final LongSupplier nanoTime;
    private final Map<String, Cached> rows = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();
    private final AutoCloseable onClose;
    private final Notifications notifications;
    private final Notifications.Listener listener;
    private final OutageLog outages = new OutageLog();
    /** nanoTime of the last failed query; valid only while {@link #failedRecently} is true. */
    private volatile long lastFailure;
    private volatile boolean failedRecently;

    /** A row (null: no such user) read at {@code readAt}. */
    private record Cached(UserRow row, long readAt) {}

    /**
     * @param database        open, schema current; its {@link Database#notifications()} is subscribed to here
     * @param root            what relative homes are under (as in the users file)
     * @param cacheTtl        how long a verified password is remembered (zero: verify every login)
     * @param rowTtl          longest life of a cached row (zero: read the row at every login)
     * @param closeDatabase   whether {@link #close()} closes the database too (it is this source's own)
     */
    public DatabaseAccounts(Database database, Path root, Anonymous anonymous, Duration cacheTtl, Duration rowTtl,
                            EventLog log, boolean closeDatabase) {
        this(database, root, anonymous, new CredentialCache(cacheTtl, Authenticator.MAX_REMEMBERED_USERS), rowTtl, log,
                closeDatabase, System::nanoTime);
    }

    DatabaseAccounts(Database database, Path root, Anonymous anonymous, CredentialCache credentials, Duration rowTtl,
                     EventLog log, boolean closeDatabase, LongSupplier nanoTime) {
        this.table = new UserTable(database);
        this.root = root.toAbsolutePath().normalize();
        this.anonymous = new AnonymousLogin(anonymous);
        this.credentials = credentials;
        this.log = log;
        this.rowTtl = rowTtl;
        this.nanoTime = nanoTime;
        this.onClose = closeDatabase ? database : () -> { };
        this.notifications = database.notifications();
        this.listener = new Notifications.Listener() {
            @Override
            public void notified(String channel, String payload) {
                forget(payload);
            }

            @Override
            public void everythingChanged() {
                forgetAll();
            }
        };
        notifications.subscribe(UserTable.CHANNEL, listener);
    }

    /** Drops one user's cached row (a NOTIFY named it). */
    void forget(String name) {
        generation.incrementAndGet();
        rows.remove(name);
    }

    void forgetAll() {
        generation.incrementAndGet();
        rows.clear();
    }

    @Override
    public boolean isAnonymousName(String user) {
        return anonymous.matches(user);
    }

    /** The account's own TLS policy, or null; null as well when the database cannot be asked (the server's applies). */
    @Override
    public TlsPolicy tlsPolicy(String user) {
        if (user == null || isAnonymousName(user)) {
            return null;
        }
        try {
            UserRow row = row(user).orElse(null);
            return row == null ? null : tls(row.tls());
        } catch (SQLException e) {
            return null;
        }
    }

    @Override
    public LoginResult login(String user, char[] password, InetAddress client) {
        String name = user == null ? "" : user;
        if (anonymous.matches(name)) {
            return anonymous.success();
        }
        UserRow row;
        try {
            row = row(name).orElse(null);
        } catch (SQLException e) {
            Event line = outages.warn(log, "database-unavailable");
            if (line != null) {
                line.with("user", name).with("error", e.getMessage()).log();
            }
            return new LoginResult.Failure(name, LoginResult.Reason.UNAVAILABLE);
        }
        if (row == null) {
            if (AnonymousLogin.isAnonymousWord(name)) {
                return new LoginResult.Failure(name, LoginResult.Reason.ANONYMOUS_DISABLED);
            }
            // SECURITY: same work as a real account, so timing does not reveal which names exist.
            credentials.verify(name, password, Authenticator.UNMATCHABLE_HASH);
            return new LoginResult.Failure(name, LoginResult.Reason.UNKNOWN_USER);
        }
        boolean matches = credentials.verify(name, password, row.passwordHash());
        // SECURITY: a disabled account is refused even with the right password, after the same work.
        if (!row.enabled()) {
            return new LoginResult.Failure(name, LoginResult.Reason.DISABLED);
        }
        if (!matches) {
            return new LoginResult.Failure(name, LoginResult.Reason.BAD_PASSWORD);
        }
        AccountPolicy policy;
        try {
            policy = policy(row);
        } catch (IllegalArgumentException e) {
            // SECURITY: rights that cannot be read must not become "no per-folder rights" (the whole home): the
            // login is refused, as an outage is (no guess counted: the password was right), and the log says why.
            log.warn("account-rights-invalid").with("user", name).with("error", e.getMessage()).log();
            return new LoginResult.Failure(name, LoginResult.Reason.UNAVAILABLE);
        }
        Path home = home(row.home());
        if (home == null && row.home() != null && !row.home().isEmpty()) {
            // SECURITY: a row naming ../x (written with SQL) must not take the account outside the served tree; as
            // with unreadable rights, the login is refused and the log names the row.
            log.warn("account-home-invalid").with("user", name).with("reason", "outside the root").log();
            return new LoginResult.Failure(name, LoginResult.Reason.UNAVAILABLE);
        }
        return new LoginResult.Success(name, home, row.writable(), false, null, null, policy);
    }

    /** The row of {@code name} (empty: no such user), from the cache while it is fresh. */
    private Optional<UserRow> row(String name) throws SQLException {
        // SECURITY: a name the table cannot hold has no row, and is not sent: a NUL in it makes the driver fail the
        // query, which would read as an outage and answer 421 to every login for FAILURE_MEMORY (one "USER a<NUL>"
        // a second would lock everybody out). Sprayed junk names do not reach the database or the row cache either.
        if (!UserTable.isPossibleName(name)) {
            return Optional.empty();
        }
        long now = nanoTime.getAsLong();
        if (failedRecently && now - lastFailure < FAILURE_MEMORY.toNanos()) {
            throw new SQLException("the database did not answer " + (now - lastFailure) / 1_000_000 + " ms ago");
        }
        // SECURITY: a cached row is trusted only while the LISTEN connection is up: without it a change would go
        // unheard (a disabled account let in), and a database that is down must answer 421, not a stale yes.
        boolean hearing = notifications.hearing(UserTable.CHANNEL);
        Cached cached = hearing ? rows.get(name) : null;
        if (cached != null && now - cached.readAt() < rowTtl.toNanos()) {
            return Optional.ofNullable(cached.row());
        }
        long before = generation.get();
        Optional<UserRow> found;
        try {
            found = table.find(name);
            failedRecently = false;
        } catch (SQLException e) {
            lastFailure = nanoTime.getAsLong();
            failedRecently = true;
            throw e;
        }
        if (hearing && !rowTtl.isZero() && generation.get() == before) {
            if (rows.size() >= MAX_CACHED_ROWS) {
                rows.clear();
            }
            rows.put(name, new Cached(found.orElse(null), now));
            // a NOTIFY that came in between the check and the put: do not keep what it made stale
            if (generation.get() != before) {
                rows.remove(name);
            }
        }
        return found;
    }

    /**
     * A home from the table, below the server root as {@link ChrootHome} reads every external source's ({@code alice}
     * and {@code /alice} are both {@code ROOT/alice}); null for none (the root) and when it leads out of the root.
     */
    Path home(String home) {
        return home == null || home.isEmpty() ? null : ChrootHome.resolve(root, home);
    }

    private static TlsPolicy tls(String text) {
        return text == null ? null : TlsPolicy.valueOf(text.toUpperCase(Locale.ROOT));
    }

    /**
     * The row's limits and per-folder rights ({@link FolderRights#parse}: the compact text form, e.g.
     * {@code /=list,download;/incoming=list,upload}; null or empty: none).
     *
     * @throws IllegalArgumentException the rights text is not that form
     */
    static AccountPolicy policy(UserRow row) {
        FolderRights rights = row.rights() == null ? FolderRights.NONE : FolderRights.parse(row.rights());
        return new AccountPolicy(new Quota(row.quotaBytes(), row.quotaFiles()),
                new Bandwidth(row.uploadRate(), row.downloadRate()), row.maxSessions(), rights);
    }

    @Override
    public void close() {
        // The shared database outlives this source (a reload replaces it): its listener must not keep it alive.
        notifications.unsubscribe(UserTable.CHANNEL, listener);
        try {
            onClose.close();
        } catch (Exception e) {
            log.warn("database-close-failed").with("error", e.toString()).log();
        }
    }
}
