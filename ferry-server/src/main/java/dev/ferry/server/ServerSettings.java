package dev.ferry.server;

import dev.ferry.database.DatabaseSettings;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.limits.BanRules;
import dev.ferry.runtime.log.NodeName;
import dev.ferry.runtime.net.NetworkAddress;
import dev.ferry.runtime.tls.IdentityFiles;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.server.auth.AccountSource;
import dev.ferry.server.events.EventSettings;
import dev.ferry.server.fs.FileModes;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.StorageOverride;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Bandwidth;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Every setting of {@code ferry server}, validated once and then frozen. The CLI and the YAML
 * loader both build one of these; nothing else reads configuration.
 *
 * @param listen             control-connection address (default 127.0.0.1:2121)
 * @param root               local directory served as "/" to users whose home is not set
 * @param users              accounts; passwords are hashes only (see {@link UserAccount})
 * @param usersFile          optional YAML users file the accounts were read from (for messages and reload)
 * @param anonymous          anonymous read-only login ("anonymous"/"ftp"), off by default
 * @param passive            passive-mode settings
 * @param limits             session, line and time limits
 * @param loginPolicy        failed-login delay and address bans
 * @param allowActiveMode    PORT/EPRT allowed at all (always restricted to the client's address)
 * @param serverName         text shown in the 220 greeting
 * @param trustedProxies     networks (CIDR, e.g. "127.0.0.1/32") whose connections must start with a PROXY
 *                           protocol header naming the real client; empty: PROXY protocol off (the default)
 * @param metricsListen      where the Prometheus metrics listener serves GET /metrics; null: no listener (the default)
 * @param tls                FTPS: certificate, policy, data-channel session reuse, implicit listener (see {@link Tls})
 * @param stateDirectory     where what the server generates is kept (the self-signed certificate: the CLI points
 *                           {@code tls.selfSignedDirectory} there); null: not set, the CLI chooses
 * @param umask              permission bits taken away from what users create: files 0666, directories 0777
 *                           (default 022: 0644 and 0755), set explicitly whatever the process umask is
 * @param node               the name that tags every log line (HAProxy's {@code node}); default the host name
 * @param objectStore        files on an S3-compatible object store instead of below {@code root} (homes are then key
 *                           prefixes named by their path relative to {@code root}); null: local files (the default)
 * @param events             upload, delete and rename events to a webhook or a command (default: off)
 * @param accountSource      where logins are checked when not against {@code users} ({@code users: database},
 *                           {@code users: ldap}, {@code users: hook}); null: {@code users} (the users file and the inline list)
 * @param database           the shared PostgreSQL database ({@code database:}): accounts with {@code users: database}, and
 *                           what the fleet shares; null unless set
 */
// withX for every component comes from the generated ServerSettingsBuilder.With; only the withers that keep two
// components in step (users and their file, certificate and key, a port range) are written here.
@RecordBuilder
public record ServerSettings(
        InetSocketAddress listen,
        Path root,
        List<UserAccount> users,
        Path usersFile,
        Anonymous anonymous,
        Passive passive,
        Limits limits,
        LoginPolicy loginPolicy,
        boolean allowActiveMode,
        String serverName,
        List<String> trustedProxies,
        InetSocketAddress metricsListen,
        Tls tls,
        Path stateDirectory,
        int umask,
        String node,
        ObjectStore objectStore,
        EventSettings events,
        AccountSource accountSource,
        DatabaseSettings database) implements ServerSettingsBuilder.With {

    public ServerSettings {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(root, "root");
        users = List.copyOf(users);
        Objects.requireNonNull(anonymous, "anonymous");
        Objects.requireNonNull(passive, "passive");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(loginPolicy, "loginPolicy");
        Objects.requireNonNull(serverName, "serverName");
        trustedProxies = List.copyOf(trustedProxies);
        Objects.requireNonNull(tls, "tls");
        if (umask < 0 || umask > 0777) {
            throw new IllegalArgumentException("umask " + Integer.toOctalString(umask) + " is not within 0..0777");
        }
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(events, "events");
        if (accountSource != null && accountSource.kind().equals("database") && database == null) {
            throw new IllegalArgumentException("users: database needs the database settings");
        }
    }

    /** Every setting but TLS, the state directory and the umask, which keep their defaults. */
    public ServerSettings(InetSocketAddress listen, Path root, List<UserAccount> users, Path usersFile, Anonymous anonymous,
                          Passive passive, Limits limits, LoginPolicy loginPolicy, boolean allowActiveMode, String serverName,
                          List<String> trustedProxies, InetSocketAddress metricsListen) {
        this(listen, root, users, usersFile, anonymous, passive, limits, loginPolicy, allowActiveMode, serverName,
                trustedProxies, metricsListen, Tls.DEFAULTS, null, FileModes.DEFAULT_UMASK, NodeName.local(), null,
                EventSettings.OFF, null, null);
    }

    public static final int DEFAULT_PORT = 2121;

    /** Defaults of every setting; the CLI and the YAML loader start from these. */
    public static ServerSettings defaults(Path root) {
        return new ServerSettings(new InetSocketAddress("127.0.0.1", DEFAULT_PORT), root, List.of(), null,
                Anonymous.OFF, Passive.DEFAULTS, Limits.DEFAULTS, LoginPolicy.DEFAULTS, true, "Ferry FTP server",
                List.of(), null);
    }

    public ServerSettings withUsers(List<UserAccount> v, Path file) { return new ServerSettings(listen, root, v, file, anonymous, passive, limits, loginPolicy, allowActiveMode, serverName, trustedProxies, metricsListen, tls, stateDirectory, umask, node, objectStore, events, accountSource, database); }


    /**
     * One account. {@code home} is the directory the user sees as "/" (null: the server root): a local directory,
     * or on an object store the key prefix named by its path relative to the root.
     * {@code passwordHash} is a PHC string ($argon2id$...), never a plain password.
     * {@code storage} is the account's own storage (another bucket or prefix, or local files on a server whose
     * files are on an object store); null: the server's. {@code policy}: its quota, bandwidth, session limit and
     * per-folder rights.
     */
    public record UserAccount(String name, String passwordHash, Path home, boolean writable, boolean enabled,
                              TlsPolicy tls, StorageOverride storage, AccountPolicy policy) {
        public UserAccount {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(passwordHash, "passwordHash");
            Objects.requireNonNull(policy, "policy");
        }

        /** An account without limits or per-folder rights. */
        public UserAccount(String name, String passwordHash, Path home, boolean writable, boolean enabled,
                           TlsPolicy tls, StorageOverride storage) {
            this(name, passwordHash, home, writable, enabled, tls, storage, AccountPolicy.NONE);
        }

        /** An account on the server's storage. */
        public UserAccount(String name, String passwordHash, Path home, boolean writable, boolean enabled,
                           TlsPolicy tls) {
            this(name, passwordHash, home, writable, enabled, tls, null);
        }

        public UserAccount withPolicy(AccountPolicy p) {
            return new UserAccount(name, passwordHash, home, writable, enabled, tls, storage, p);
        }

        /** Whether this account's files are local (its own choice, else the server's). */
        public boolean storedLocally(ObjectStore serverStore) {
            return storage != null ? storage.local() : serverStore == null;
        }

        /** An account that follows the server's TLS policy. */
        public UserAccount(String name, String passwordHash, Path home, boolean writable, boolean enabled) {
            this(name, passwordHash, home, writable, enabled, null);
        }
    }



    /**
     * FTPS. With {@code enabled} (the default) AUTH TLS is offered on the control listener.
     *
     * @param certificate          PEM certificate chain (leaf first) or a PKCS#12 keystore; null: a self-signed one
     * @param key                  PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC); null for a PKCS#12 keystore
     * @param passwordFile         file whose first line is the password of the keystore or of an encrypted key
     *                             (else the FERRY_TLS_PASSWORD environment variable, else none)
     * @param selfSignedDirectory  where a self-signed certificate is kept and reused; null: made in memory for this run
     * @param policy               what must be protected, unless a user's own policy says otherwise
     * @param reuse                TLS session reuse on data connections
     * @param implicitListen       an implicit-FTPS listener (TLS from the first byte); null: none
     * @param handshakeTimeout     longest wait for a TLS handshake to complete, control and data
     * @param allowCcc             accept CCC after login (RFC 4217 §6: the control connection goes on in clear
     *                             text, for firewalls that must read it); refused (534) by default
     */
    @RecordBuilder
    public record Tls(boolean enabled, Path certificate, Path key, Path passwordFile, Path selfSignedDirectory,
                      TlsPolicy policy, SessionReuse reuse, InetSocketAddress implicitListen, Duration handshakeTimeout,
                      boolean allowCcc) implements ServerSettingsTlsBuilder.With {
        public Tls {
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(reuse, "reuse");
            Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        }

        /** Where the certificate and key come from. */
        public IdentityFiles identityFiles() {
            return new IdentityFiles(certificate, key, passwordFile, selfSignedDirectory);
        }

        public static final Tls DEFAULTS = new Tls(true, null, null, null, null, TlsPolicy.OPTIONAL,
                SessionReuse.PREFERRED, null, Duration.ofSeconds(15), false);

        public Tls withCertificate(Path cert, Path k) { return new Tls(enabled, cert, k, passwordFile, selfSignedDirectory, policy, reuse, implicitListen, handshakeTimeout, allowCcc); }
    }

    /**
     * Anonymous read-only access; {@code home} null means the server root. {@code uploadDirectory}: a
     * write-only directory below the anonymous home where anonymous users may store new files (null: none;
     * see {@link dev.ferry.server.auth.UploadDirectory}); never the home itself.
     */
    public record Anonymous(boolean enabled, Path home, VirtualPath uploadDirectory) {
        public static final Anonymous OFF = new Anonymous(false, null, null);

        public Anonymous {
            if (uploadDirectory != null && uploadDirectory.isRoot()) {
                throw new IllegalArgumentException("the anonymous upload directory cannot be the anonymous home itself");
            }
        }

        /** Without an upload directory. */
        public Anonymous(boolean enabled, Path home) {
            this(enabled, home, null);
        }

        public Anonymous withUploadDirectory(VirtualPath directory) {
            return new Anonymous(enabled, home, directory);
        }
    }

    /**
     * Passive mode. Ports {@code portLow..portHigh} inclusive (0-0: any ephemeral port).
     * {@code publicAddress}: what 227 replies advertise (an IP or a host name; null: the address
     * the client connected to). {@code networkAddresses}: per client network overrides, first match wins.
     */
    @RecordBuilder
    public record Passive(int portLow, int portHigh, String publicAddress,
                          List<NetworkAddress> networkAddresses, Duration acceptTimeout) implements ServerSettingsPassiveBuilder.With {
        public Passive {
            networkAddresses = List.copyOf(networkAddresses);
            Objects.requireNonNull(acceptTimeout, "acceptTimeout");
        }
        public static final Passive DEFAULTS = new Passive(0, 0, null, List.of(), Duration.ofSeconds(30));
        public Passive withPorts(int low, int high) { return new Passive(low, high, publicAddress, networkAddresses, acceptTimeout); }
    }


    /**
     * Limits. Over a limit the client gets a clear reply (421 for sessions, 500 for long lines,
     * 421 on idle timeout, 426 on data timeout) and the event is logged. {@code bandwidth}: the whole server's
     * upload and download rates, shared by every transfer (0: no limit); a user's own rates apply as well.
     */
    @RecordBuilder
    public record Limits(int maxSessions, int maxSessionsPerAddress, Duration idleTimeout,
                         Duration dataTimeout, int maxCommandLength, Duration loginTimeout, Bandwidth bandwidth)
            implements ServerSettingsLimitsBuilder.With {
        /** A floor so a command naming a long path still fits on one line; a ceiling so line buffers stay small. */
        public static final int MIN_COMMAND_LENGTH = 512;
        public static final int MAX_COMMAND_LENGTH = 65536;

        public static final Limits DEFAULTS = new Limits(1000, 50, Duration.ofMinutes(5),
                Duration.ofMinutes(1), 4096, Duration.ofMinutes(1));

        public Limits {
            Objects.requireNonNull(bandwidth, "bandwidth");
        }

        /** Without a bandwidth limit for the whole server. */
        public Limits(int maxSessions, int maxSessionsPerAddress, Duration idleTimeout, Duration dataTimeout,
                      int maxCommandLength, Duration loginTimeout) {
            this(maxSessions, maxSessionsPerAddress, idleTimeout, dataTimeout, maxCommandLength, loginTimeout,
                    Bandwidth.UNLIMITED);
        }
    }

    /**
     * Failed logins: each failure is answered after {@code failureDelay}; after
     * {@code maxAttemptsPerSession} failures the session is closed with 421 (RFC 2577 §5); an address
     * with {@code banAfterFailures} failures within {@code banWindow} is refused for {@code banDuration}
     * (0 failures: banning off).
     */
    @RecordBuilder
    public record LoginPolicy(Duration failureDelay, int maxAttemptsPerSession, int banAfterFailures,
                              Duration banWindow, Duration banDuration, Duration credentialCacheTtl)
            implements ServerSettingsLoginPolicyBuilder.With {
        public static final LoginPolicy DEFAULTS = new LoginPolicy(Duration.ofSeconds(1), 3, 10,
                Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofMinutes(15));

        /** The per-address ban part, in the shape the balancer shares. */
        public BanRules banRules() {
            return new BanRules(Math.max(0, banAfterFailures), banWindow, banDuration);
        }
    }
}
