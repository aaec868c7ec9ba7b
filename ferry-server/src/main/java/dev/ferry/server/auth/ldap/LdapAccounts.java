package dev.ferry.server.auth.ldap;

import com.unboundid.ldap.sdk.BindRequest;
import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.DereferencePolicy;
import com.unboundid.ldap.sdk.FailoverServerSet;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPSearchException;
import com.unboundid.ldap.sdk.OperationType;
import com.unboundid.ldap.sdk.PostConnectProcessor;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.ServerSet;
import com.unboundid.ldap.sdk.SimpleBindRequest;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldap.sdk.StartTLSPostConnectProcessor;
import com.unboundid.util.ssl.HostNameSSLSocketVerifier;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.auth.Accounts;
import dev.ferry.server.auth.AnonymousLogin;
import dev.ferry.server.auth.ChrootHome;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.auth.LoginResult.Reason;
import dev.ferry.server.auth.OutageLog;
import dev.ferry.server.auth.SuccessCache;
import dev.ferry.server.policy.AccountPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.LoggerFactory;

/**
 * Logins checked against an LDAP directory: search, then bind (docs/users.md, "LDAP").
 *
 * <p>Design. A pool of connections bound as the service account ({@code bind-dn}) searches the user by the
 * configured filter, its value escaped (RFC 4515 §3), so a name such as {@code *} or {@code a)(uid=*} matches
 * nothing but itself. The one entry found is then bound with the client's password on a pooled connection, which the
 * pool binds back as the service afterwards ({@code bindAndRevertAuthentication}): the directory checks the
 * password, with its own hashes and policies (lockout, expiry); Ferry never sees or compares a hash. The groups
 * come from the entry's memberOf (or a group search), the home from an attribute or a template, kept inside the
 * server root. The servers are tried in order ({@link FailoverServerSet}); when none answers, or one answers with
 * anything but a verdict on the user, the login is {@link Reason#UNAVAILABLE} (421, no guess counted).
 *
 * <p>Bounds: at most {@code pool-size} connections; an operation waits at most {@code response-timeout} for its
 * answer and for a free connection; a connection attempt at most {@code connect-timeout}.
 */
public final class LdapAccounts implements Accounts {

    /** Most users whose last login is remembered. */
    static final int MAX_REMEMBERED_USERS = 65_536;
    private static final String NO_ATTRIBUTES = "1.1";   // RFC 4511 §4.5.1.8
    /** The attribute a filter compares the name with, as in (uid={user}) or (&(objectClass=x)(sAMAccountName={user})). */
    private static final java.util.regex.Pattern NAME_ATTRIBUTE =
            java.util.regex.Pattern.compile("\\(([A-Za-z][A-Za-z0-9-]*)=\\{user\\}\\)");

    private final LdapSettings settings;
    private final Path root;
    private final AnonymousLogin anonymous;
    private final LDAPConnectionPool pool;
    private final SuccessCache cache;
    private final EventLog log;
    private final Map<DN, LdapSettings.Access> groups = new HashMap<>();
    /** The attribute whose value is the account's name (the filter's), or null. */
    private final String nameAttribute;
    /** Where a failed search binds, so that an unknown name costs a bind as a known one does. */
    private final String absentDn;
    /** Logins in progress, plus one while not closed: the pool closes when it reaches zero. */
    private final AtomicInteger leases = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final OutageLog outages = new OutageLog();

    private LdapAccounts(LdapSettings settings, Path root, Anonymous anonymous, LDAPConnectionPool pool, EventLog log) {
        this.settings = settings;
        this.root = root.toAbsolutePath().normalize();
        this.anonymous = new AnonymousLogin(anonymous);
        this.pool = pool;
        this.log = log;
        this.cache = new SuccessCache(settings.cacheTtl(), MAX_REMEMBERED_USERS);
        for (Map.Entry<String, LdapSettings.Access> g : settings.groups().entrySet()) {
            try {
                groups.put(new DN(g.getKey()), g.getValue());
            } catch (LDAPException e) {
                throw new IllegalArgumentException("ldap.groups: " + g.getKey() + " is not a DN", e);
            }
        }
        this.absentDn = "cn=ferry-absent-user," + settings.baseDn();
        java.util.regex.Matcher m = NAME_ATTRIBUTE.matcher(settings.userFilter());
        this.nameAttribute = m.find() ? m.group(1) : null;
    }

    /**
     * Builds the pool. A directory that does not answer yet is no error (logins answer 421 until it does); an
     * unreadable password or CA file is.
     */
    public static LdapAccounts open(LdapSettings settings, Path root, Anonymous anonymous, String node) throws IOException {
        EventLog log = new EventLog(LoggerFactory.getLogger("ferry.server"), node);
        BindRequest service = null;
        if (settings.bindDn() != null) {
            service = new SimpleBindRequest(settings.bindDn(), firstLine(settings.bindPasswordFile()));
        }
        LDAPConnectionOptions options = new LDAPConnectionOptions();
        options.setConnectTimeoutMillis(millis(settings.connectTimeout()));
        options.setResponseTimeoutMillis(millis(settings.responseTimeout()));
        // SECURITY: the certificate must name the host of the URL, or anyone on the path with any trusted
        // certificate could collect passwords.
        options.setSSLSocketVerifier(new HostNameSSLSocketVerifier(true));
        // RFC 4513 §5.1.2: a simple bind with a name and an empty password is an unauthenticated bind, which many
        // directories accept; the SDK refuses to send one (and login() never tries).
        options.setBindWithDNRequiresPassword(true);
        SSLContext ssl = settings.urls().stream().anyMatch(u -> u.getScheme().equalsIgnoreCase("ldaps")) || settings.startTls()
                ? sslContext(settings.caFile()) : null;
        List<ServerSet> servers = new ArrayList<>();
        for (URI url : settings.urls()) {
            boolean ldaps = url.getScheme().equalsIgnoreCase("ldaps");
            SocketFactory sockets = ldaps ? new IdentifyingSocketFactory(ssl.getSocketFactory())
                    : SocketFactory.getDefault();
            PostConnectProcessor startTls = settings.startTls()
                    ? new StartTLSPostConnectProcessor(new IdentifyingSocketFactory(ssl.getSocketFactory()))
                    : null;
            servers.add(new SingleServerSet(url.getHost(), LdapSettings.port(url), sockets, options, null, startTls));
        }
        ServerSet set = servers.size() == 1 ? servers.get(0) : new FailoverServerSet(servers);
        LDAPConnectionPool pool;
        try {
            // No connection at start is required: a directory that is down now is a 421 per login, not a failed start.
            pool = new LDAPConnectionPool(set, service, 0, settings.poolSize(), 1, null, false);
        } catch (LDAPException e) {
            throw new IOException("ldap: " + e.getMessage(), e);
        }
        pool.setConnectionPoolName("ferry-ldap");
        pool.setCreateIfNecessary(false);
        pool.setMaxWaitTimeMillis(millis(settings.responseTimeout()));
        // A connection the directory closed (it restarted) is replaced and the operation tried once more.
        pool.setRetryFailedOperationsDueToInvalidConnections(EnumSet.of(OperationType.SEARCH, OperationType.BIND));
        for (URI url : settings.urls()) {
            // SECURITY: every login's password goes to the directory in the bind; without TLS anyone on the path
            // reads it. Allowed (a directory on this host, a trusted network), but said once at start.
            if (url.getScheme().equalsIgnoreCase("ldap") && !settings.startTls() && !isLoopback(url.getHost())) {
                log.warn("ldap-cleartext").with("url", url)
                        .with("hint", "passwords cross the network unencrypted; use ldaps:// or start-tls: true").log();
            }
        }
        return new LdapAccounts(settings, root, anonymous, pool, log);
    }

    /**
     * TLS whose trust is the CA file's certificates, or the JDK's trust store. The JDK's PKIX trust manager, because it
     * checks the endpoint identification that {@link IdentifyingSocketFactory} asks for (the SDK's PEM trust manager
     * is a plain X509TrustManager, and was seen to let a certificate for another address through).
     */
    private static SSLContext sslContext(Path caFile) throws IOException {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (caFile == null) {
                tmf.init((KeyStore) null);
            } else {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                int n = 0;
                try (InputStream in = Files.newInputStream(caFile)) {
                    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        store.setCertificateEntry("ca-" + n++, c);
                    }
                } catch (IOException e) {
                    throw new IOException("ldap.ca-file: cannot read " + caFile + ": " + e.getMessage(), e);
                }
                if (n == 0) {
                    throw new IOException("ldap.ca-file: " + caFile + " holds no PEM certificate");
                }
                tmf.init(store);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("ldap.ca-file: " + (caFile == null ? "the JDK trust store" : caFile) + ": "
                    + e.getMessage(), e);
        }
    }

    /** A loopback host as written in the URL (no name lookup): localhost, 127.0.0.0/8, ::1. */
    static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equalsIgnoreCase("localhost") || h.startsWith("127.") || h.equals("::1");
    }

    private static String firstLine(Path file) throws IOException {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int end = text.indexOf('\n');
            String line = end < 0 ? text : text.substring(0, end);
            return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
        } catch (IOException e) {
            throw new IOException("ldap.bind-password-file: cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static int millis(java.time.Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, d.toMillis()));
    }

    @Override
    public boolean isAnonymousName(String user) {
        return anonymous.matches(user);
    }

    /** The directory sets no TLS policy of its own: the server's applies. */
    @Override
    public TlsPolicy tlsPolicy(String user) {
        return null;
    }

    @Override
    public LoginResult login(String user, char[] password, InetAddress client) {
        String name = user == null ? "" : user;
        LoginResult first = anonymous.answerFirst(name);
        if (first != null) {
            return first;
        }
        if (!lease()) {
            return new LoginResult.Failure(name, Reason.UNAVAILABLE);   // closed by a reload or a stop
        }
        try {
            LoginResult.Success remembered = cache.get(name, password);
            if (remembered != null) {
                return remembered;
            }
            LoginResult result = ask(name, password);
            if (result instanceof LoginResult.Success ok) {
                cache.put(name, password, ok);
            }
            return result;
        } finally {
            release();
        }
    }

    private LoginResult ask(String name, char[] password) {
        // SECURITY: a name with a control character or a path separator is no directory user of ours, and would
        // otherwise reach the home template; an empty password would make the bind unauthenticated (RFC 4513 §5.1.2).
        if (name.isEmpty() || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '/' || c == '\\')) {
            return new LoginResult.Failure(name, Reason.UNKNOWN_USER);
        }
        if (password == null || password.length == 0) {
            return new LoginResult.Failure(name, Reason.BAD_PASSWORD);
        }
        SearchResultEntry entry;
        try {
            entry = findUser(name);
        } catch (LDAPException e) {
            if (e.getResultCode() == ResultCode.SIZE_LIMIT_EXCEEDED) {
                log.warn("ldap-ambiguous-user").with("user", name)
                        .with("hint", "user-filter matches several entries; it must match one").log();
                return new LoginResult.Failure(name, Reason.DISABLED);
            }
            return unavailable(name, "search", e);
        }
        String dn = entry == null ? absentDn : entry.getDN();
        byte[] secret = utf8(password);
        try {
            // SECURITY: the directory checks the password; an unknown name binds too (to a DN that does not
            // exist), so that it costs what a wrong password costs.
            pool.bindAndRevertAuthentication(new SimpleBindRequest(dn, secret));
        } catch (LDAPException e) {
            ResultCode rc = e.getResultCode();
            if (rc == ResultCode.INVALID_CREDENTIALS || rc == ResultCode.INVALID_DN_SYNTAX
                    || rc == ResultCode.NO_SUCH_OBJECT || rc == ResultCode.INAPPROPRIATE_AUTHENTICATION) {
                return new LoginResult.Failure(name, entry == null ? Reason.UNKNOWN_USER : Reason.BAD_PASSWORD);
            }
            if (rc == ResultCode.UNWILLING_TO_PERFORM || rc == ResultCode.INSUFFICIENT_ACCESS_RIGHTS) {
                // A locked or disabled account, in the words of most directories.
                return new LoginResult.Failure(name, entry == null ? Reason.UNKNOWN_USER : Reason.DISABLED);
            }
            return unavailable(name, "bind", e);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
        if (entry == null) {
            // A directory that lets anybody bind as a name it does not hold is misconfigured; still no login.
            return new LoginResult.Failure(name, Reason.UNKNOWN_USER);
        }
        LdapSettings.Access access;
        try {
            access = access(entry);
        } catch (LDAPException e) {
            return unavailable(name, "group-search", e);
        }
        if (access == null) {
            log.info("ldap-no-group").with("user", name).with("dn", entry.getDN()).log();
            return new LoginResult.Failure(name, Reason.DISABLED);
        }
        // The directory matched the name without regard to case (uid is caseIgnoreMatch): the account is the
        // entry's own spelling, so that ALICE and alice are one user for session limits, quotas and logs.
        String account = canonicalName(name, entry);
        Path home = home(account, entry);
        if (home == null) {
            return new LoginResult.Failure(name, Reason.DISABLED);
        }
        return new LoginResult.Success(account, home, access == LdapSettings.Access.READ_WRITE, false, null, null,
                AccountPolicy.NONE);
    }

    private String canonicalName(String typed, SearchResultEntry entry) {
        if (nameAttribute == null) {
            return typed;
        }
        String[] values = entry.getAttributeValues(nameAttribute);
        if (values == null) {
            return typed;
        }
        for (String v : values) {
            if (v.equalsIgnoreCase(typed)) {
                return v;
            }
        }
        // SECURITY: the directory's match is looser than case: caseIgnoreMatch drops leading and repeated spaces
        // (RFC 4518 §2.6.1), so " alice" found alice's entry. The typed spelling would be a second account (and a
        // second home, from the template) for one person: the entry's one name is the account.
        return values.length == 1 ? values[0] : typed;
    }

    /** The one entry the filter finds, or null; a search that finds several fails with SIZE_LIMIT_EXCEEDED. */
    private SearchResultEntry findUser(String name) throws LDAPException {
        Filter filter = Filter.create(settings.userFilter().replace("{user}", Filter.encodeValue(name)));
        List<String> attributes = new ArrayList<>();
        attributes.add(settings.groupBaseDn() == null ? settings.groupAttribute() : NO_ATTRIBUTES);
        if (settings.homeAttribute() != null) {
            attributes.add(settings.homeAttribute());
        }
        if (nameAttribute != null) {
            attributes.add(nameAttribute);
        }
        SearchRequest request = new SearchRequest(settings.baseDn(), SearchScope.SUB, DereferencePolicy.NEVER, 2,
                timeLimitSeconds(), false, filter, attributes.toArray(String[]::new));
        SearchResult result;
        try {
            result = pool.search(request);
        } catch (LDAPSearchException e) {
            if (e.getResultCode() == ResultCode.SIZE_LIMIT_EXCEEDED && e.getEntryCount() < 2) {
                // Only the service account's own limit was hit with one entry: a directory quirk, not two users.
                return e.getEntryCount() == 1 ? e.getSearchEntries().get(0) : null;
            }
            throw e;
        }
        List<SearchResultEntry> found = result.getSearchEntries();
        if (found.size() > 1) {
            throw new LDAPException(ResultCode.SIZE_LIMIT_EXCEEDED, "several entries");
        }
        return found.isEmpty() ? null : found.get(0);
    }

    /** Read-write if any group gives it, else read-only if any group gives that, else the default (maybe null). */
    private LdapSettings.Access access(SearchResultEntry entry) throws LDAPException {
        if (groups.isEmpty()) {
            return settings.defaultAccess() != null ? settings.defaultAccess() : LdapSettings.Access.READ_WRITE;
        }
        List<String> memberOf = new ArrayList<>();
        if (settings.groupBaseDn() == null) {
            String[] values = entry.getAttributeValues(settings.groupAttribute());
            if (values != null) {
                memberOf.addAll(Arrays.asList(values));
            }
        } else {
            String escapedDn = Filter.encodeValue(entry.getDN());
            Filter filter = Filter.create(settings.groupFilter().replace("{dn}", escapedDn));
            SearchRequest request = new SearchRequest(settings.groupBaseDn(), SearchScope.SUB, DereferencePolicy.NEVER,
                    0, timeLimitSeconds(), false, filter, NO_ATTRIBUTES);
            for (SearchResultEntry group : pool.search(request).getSearchEntries()) {
                memberOf.add(group.getDN());
            }
        }
        LdapSettings.Access best = null;
        for (String group : memberOf) {
            LdapSettings.Access a;
            try {
                a = groups.get(new DN(group));
            } catch (LDAPException e) {
                continue;   // a value that is no DN names no group of ours
            }
            if (a == LdapSettings.Access.READ_WRITE) {
                return a;
            }
            if (a != null) {
                best = a;
            }
        }
        return best != null ? best : settings.defaultAccess();
    }

    /** The home below the server root, or null (logged) when the entry's names one outside it. */
    private Path home(String name, SearchResultEntry entry) {
        String relative = null;
        if (settings.homeAttribute() != null) {
            relative = entry.getAttributeValue(settings.homeAttribute());
        }
        if (relative == null && settings.homeTemplate() != null) {
            relative = settings.homeTemplate().replace("{user}", name);
        }
        // An absolute directory attribute (homeDirectory: /home/alice) is read below the root, as chroot would.
        Path home = ChrootHome.resolve(root, relative);
        if (home == null) {
            log.warn("ldap-home-outside-root").with("user", name).with("home", relative).with("root", root).log();
            return null;
        }
        return home;
    }

    private int timeLimitSeconds() {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (settings.responseTimeout().toMillis() + 999) / 1000));
    }

    private LoginResult unavailable(String name, String operation, LDAPException e) {
        Event line = outages.warn(log, "ldap-unavailable");
        if (line != null) {
            line.with("operation", operation).with("result", e.getResultCode().getName())
                    .with("error", e.getDiagnosticMessage() != null ? e.getDiagnosticMessage() : e.getMessage()).log();
        }
        return new LoginResult.Failure(name, Reason.UNAVAILABLE);
    }

    private static byte[] utf8(char[] password) {
        ByteBuffer b = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        byte[] out = new byte[b.remaining()];
        b.get(out);
        if (b.hasArray()) {
            Arrays.fill(b.array(), (byte) 0);
        }
        return out;
    }

    /** Cached logins (for tests and the closing note's figures). */
    int remembered() {
        return cache.size();
    }

    private boolean lease() {
        while (true) {
            int n = leases.get();
            if (n == 0) {
                return false;
            }
            if (leases.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    private void release() {
        if (leases.decrementAndGet() == 0) {
            pool.close();
        }
    }

    /** Closes the pool once the logins in progress have their answer. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }

    @Override
    public String toString() {
        return "ldap " + settings.urls();
    }

}
