package dev.ferry.balancer;

import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.limits.BanRules;
import dev.ferry.runtime.log.NodeName;
import dev.ferry.runtime.net.NetworkAddress;
import dev.ferry.runtime.tls.IdentityFiles;
import dev.ferry.runtime.tls.SessionReuse;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.net.InetSocketAddress;
import dev.ferry.database.DatabaseSettings;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Every setting of {@code ferry balancer}, validated once and then frozen (operators' words:
 * backend, balance, check, inter, rise, fall, weight).
 *
 * @param listen           client-facing control address
 * @param publicAddress    address advertised in rewritten 227 replies; null: the address the client reached
 * @param networkAddresses per client network overrides of the public address
 * @param passiveLow       first port of the balancer's own passive range (0-0: any free port)
 * @param passiveHigh      last port of that range
 * @param backends         the FTP servers behind the balancer
 * @param balance          how a backend is chosen for a new session
 * @param check            health checks
 * @param maxSessions      concurrent client sessions; more wait in the queue or are refused with 421
 * @param maxSessionsPerAddress connections one client address may hold at once, sessions and queued ones together;
 *                         more are refused with 421 at once. 0: half of {@code maxSessions}, rounded up
 *                         ({@link #perAddressLimit()})
 * @param queue            clients over max sessions that wait for a slot, and for how long
 * @param timeouts         connect, client idle, server idle, data and login timeouts
 * @param retries          connection attempts to backends per session before giving up with 421
 * @param proxyProtocol    PROXY protocol header sent to backends
 * @param source           the local address every connection to a backend (control, data, check) comes from,
 *                         as HAProxy's {@code source}; null: the one routing picks
 * @param greeting         text of the 220 greeting
 * @param admin            the admin listener (stats page and API), which {@link dev.ferry.balancer.admin.AdminServer}
 *                         runs beside the balancer; {@link AdminSettings#OFF} by default
 * @param tls              FTPS: off, terminated here, or passed through to the backends
 * @param stateDirectory   where what the balancer generates is kept (a self-signed certificate: the CLI points
 *                         {@code tls.selfSignedDirectory} there); null: not set, the CLI chooses
 * @param node             the name that tags every log line and heads the stats page (HAProxy's {@code node});
 *                         default the host name
 */
// withX for every component comes from the generated BalancerSettingsBuilder.With; only the withers that keep two
// components in step (a port range, certificate and key) are written here.
@RecordBuilder
public record BalancerSettings(
        InetSocketAddress listen,
        String publicAddress,
        List<NetworkAddress> networkAddresses,
        int passiveLow,
        int passiveHigh,
        List<BackendSpec> backends,
        Balance balance,
        Check check,
        int maxSessions,
        int maxSessionsPerAddress,
        Queue queue,
        Timeouts timeouts,
        int retries,
        ProxyProtocol proxyProtocol,
        java.net.InetAddress source,
        String greeting,
        AdminSettings admin,
        Tls tls,
        java.nio.file.Path stateDirectory,
        String node,
        BanRules bans,
        DatabaseSettings database) implements BalancerSettingsBuilder.With {

    /**
     * Failed logins per client address before the balancer bans it ({@code login:} in the file): the server's
     * defaults (10 within 5 minutes, banned for 15), so that a guesser meets the same rule at either door.
     */
    public static final BanRules DEFAULT_BANS = new BanRules(10, Duration.ofMinutes(5), Duration.ofMinutes(15));

    /** Attempts per session; more would only make a client wait longer for a 421. */
    public static final int MAX_RETRIES = 100;

    public BalancerSettings {
        Objects.requireNonNull(listen, "listen");
        networkAddresses = List.copyOf(networkAddresses);
        backends = List.copyOf(backends);
        Objects.requireNonNull(balance, "balance");
        Objects.requireNonNull(check, "check");
        Objects.requireNonNull(queue, "queue");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(proxyProtocol, "proxyProtocol");
        Objects.requireNonNull(greeting, "greeting");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(bans, "bans");
        if (maxSessionsPerAddress < 0) {
            throw new IllegalArgumentException("max-sessions-per-address must be >= 1 (0: the default), got " + maxSessionsPerAddress);
        }
    }

    /**
     * How many connections one client address may hold: the setting, or by default half of max-sessions
     * (rounded up), so that no single host (or NAT) can take the whole balancer, while the users behind one
     * NAT still share half of it. Derived here rather than when the file is read, so that --max-sessions on
     * the command line moves the default with it.
     */
    public int perAddressLimit() {
        return maxSessionsPerAddress > 0 ? maxSessionsPerAddress : maxSessions - maxSessions / 2;
    }

    public static BalancerSettings defaults() {
        return new BalancerSettings(new InetSocketAddress("127.0.0.1", 2121), null, List.of(), 0, 0, List.of(),
                Balance.LEASTCONN, Check.DEFAULTS, 2000, 0, Queue.DEFAULTS, Timeouts.DEFAULTS, 3, ProxyProtocol.OFF, null,
                "Ferry FTP balancer ready.", AdminSettings.OFF, Tls.OFF, null, NodeName.local(), DEFAULT_BANS, null);
    }

    public BalancerSettings withPassivePorts(int low, int high) { return new BalancerSettings(listen, publicAddress, networkAddresses, low, high, backends, balance, check, maxSessions, maxSessionsPerAddress, queue, timeouts, retries, proxyProtocol, source, greeting, admin, tls, stateDirectory, node, bans, database); }

    /**
     * One FTP server behind the balancer. Weight 0 receives no new sessions. {@code maxConnecting}:
     * connections to it being opened at once (connect until its 220 greeting); more wait their turn
     * within the connect timeout, so that a burst of logins does not overflow the backend's listen
     * queue (vsftpd's holds 32; an overflowed connect looks established but is never greeted).
     */
    public record BackendSpec(String name, InetSocketAddress address, int weight, int maxConnecting,
                              int passiveLow, int passiveHigh) {
        public static final int DEFAULT_MAX_CONNECTING = 32;
        /** HAProxy's weight range, 0..256; the admin API and the configuration check against this one limit. */
        public static final int MAX_WEIGHT = 256;
        /** Connections being opened to one backend at once; beyond this no listen queue helps. */
        public static final int MAX_CONNECTING = 4096;

        public BackendSpec {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(address, "address");
            if (weight < 0 || weight > MAX_WEIGHT) {
                throw new IllegalArgumentException("weight must be 0.." + MAX_WEIGHT + ", got " + weight);
            }
            if (maxConnecting < 1) {
                throw new IllegalArgumentException("max-connecting must be >= 1, got " + maxConnecting);
            }
            if (passiveLow < 0 || passiveHigh > 65535 || passiveLow > passiveHigh || (passiveLow == 0) != (passiveHigh == 0)) {
                throw new IllegalArgumentException("passive-ports must be LOW-HIGH within 1..65535, got " + passiveLow + "-" + passiveHigh);
            }
        }

        public BackendSpec(String name, InetSocketAddress address, int weight, int maxConnecting) {
            this(name, address, weight, maxConnecting, 0, 0);
        }

        public BackendSpec(String name, InetSocketAddress address, int weight) {
            this(name, address, weight, DEFAULT_MAX_CONNECTING);
        }

        /** True when this backend has its own passive range (needed in TLS passthrough, where it is mapped to it). */
        public boolean hasPassiveRange() {
            return passiveLow != 0;
        }

        public BackendSpec withPassivePorts(int low, int high) {
            return new BackendSpec(name, address, weight, maxConnecting, low, high);
        }
    }

    /** How a backend is chosen for a new session (HAProxy's words). */
    public enum Balance { LEASTCONN, ROUNDROBIN, SOURCE, USER }

    /** Kinds of health check: connect; connect and expect 220; log in, list over PASV, quit. */
    public enum CheckType { TCP, FTP, FTP_LOGIN }

    /**
     * Health checks: every {@code interval}, each check must finish within {@code timeout};
     * {@code rise} successes in a row mark a down backend up, {@code fall} failures mark an up backend down.
     * {@code user}/{@code password} are for FTP_LOGIN.
     */
    @RecordBuilder
    public record Check(CheckType type, Duration interval, Duration timeout, int rise, int fall,
                        String user, String password) implements BalancerSettingsCheckBuilder.With {
        public static final Check DEFAULTS = new Check(CheckType.TCP, Duration.ofSeconds(10), Duration.ofSeconds(2), 2, 2, null, null);
    }

    /**
     * connect: to a backend; client/server idle: control connection silence; data: no progress on a
     * relay; grace: on stop, how long sessions in progress may go on before they are closed; login: from
     * the greeting until the backend accepted the login (230), whatever the client sends meanwhile
     * (ferry server's login timeout, also 1 minute).
     */
    @RecordBuilder
    public record Timeouts(Duration connect, Duration clientIdle, Duration serverIdle, Duration data, Duration grace,
                           Duration login) implements BalancerSettingsTimeoutsBuilder.With {
        // server-idle 1m (it was 5m): a backend that greets and then never answers is a backend error within
        // a minute, as long as ferry server's own data and login timeouts (HAProxy configs use 30s-1m too).
        public static final Timeouts DEFAULTS = new Timeouts(Duration.ofSeconds(5), Duration.ofMinutes(5),
                Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofMinutes(1));

        public Timeouts {
            Objects.requireNonNull(login, "login");
            if (login.isZero() || login.isNegative()) {
                throw new IllegalArgumentException("the login timeout must be above zero, got " + login);
            }
        }

    }

    /**
     * Clients over max sessions: up to {@code size} wait (no greeting yet) for at most
     * {@code timeout}, then get 421; size 0 refuses at once, as FTP servers do.
     */
    @RecordBuilder
    public record Queue(int size, Duration timeout) implements BalancerSettingsQueueBuilder.With {
        public static final Queue DEFAULTS = new Queue(200, Duration.ofSeconds(10));

        public Queue {
            if (size < 0) {
                throw new IllegalArgumentException("queue size must be >= 0, got " + size);
            }
            Objects.requireNonNull(timeout, "timeout");
        }
    }

    /** PROXY protocol header to backends (proxy-protocol.txt): off, text v1, binary v2. */
    public enum ProxyProtocol { OFF, V1, V2 }

    /**
     * What the balancer does with FTPS. OFF: AUTH TLS is refused (502). TERMINATE: the balancer holds the
     * certificate, decrypts control and data connections, and speaks plain FTP or FTPS to the backends.
     * PASSTHROUGH: the balancer never decrypts; it relays the control connection as bytes and maps each
     * backend's own passive range to that backend.
     */
    public enum TlsMode { OFF, TERMINATE, PASSTHROUGH }

    /**
     * FTPS at the balancer.
     *
     * @param mode                 see {@link TlsMode}; the CLI and the config file make it TERMINATE when a
     *                             certificate is given and no mode is
     * @param certificate          PEM chain or PKCS#12 keystore (TERMINATE); null: self-signed in
     *                             {@code selfSignedDirectory}
     * @param key                  PEM private key of {@code certificate}; null with a keystore
     * @param passwordFile         first line: the keystore's or encrypted key's password
     * @param selfSignedDirectory  where a self-signed certificate is kept and reused when none is given
     * @param require              clients in clear text: OPTIONAL allowed; LOGIN refused at USER (530);
     *                             REQUIRED also refused data connections under PROT C
     * @param reuse                TLS session reuse demanded of clients' protected data connections
     * @param implicitListen       an implicit-FTPS listener (TLS first), or null
     * @param handshakeTimeout     a client's TLS handshake must end within this
     * @param backends             how the balancer speaks to the backends when it terminates TLS
     */
    @RecordBuilder
    public record Tls(TlsMode mode, java.nio.file.Path certificate, java.nio.file.Path key,
                      java.nio.file.Path passwordFile, java.nio.file.Path selfSignedDirectory,
                      TlsPolicy require, SessionReuse reuse,
                      InetSocketAddress implicitListen, Duration handshakeTimeout, BackendTls backends)
            implements BalancerSettingsTlsBuilder.With {
        /** Where the certificate and key come from. */
        public IdentityFiles identityFiles() {
            return new IdentityFiles(certificate, key, passwordFile, selfSignedDirectory);
        }

        public static final Tls OFF = new Tls(TlsMode.OFF, null, null, null, null, TlsPolicy.OPTIONAL,
                SessionReuse.PREFERRED, null, Duration.ofSeconds(15), BackendTls.PLAIN);

        public Tls {
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(require, "require");
            Objects.requireNonNull(reuse, "reuse");
            Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
            Objects.requireNonNull(backends, "backends");
        }

        public Tls withCertificate(java.nio.file.Path cert, java.nio.file.Path k) { return new Tls(mode, cert, k, passwordFile, selfSignedDirectory, require, reuse, implicitListen, handshakeTimeout, backends); }
    }

    /**
     * How a terminating balancer speaks to its backends: plain FTP, or FTPS (AUTH TLS, PBSZ 0, PROT P on
     * every session). {@code trustedCertificates}: PEM file of the certificates (CAs or the backends' own
     * self-signed ones) a backend's certificate must chain to; null: backends' certificates are not
     * verified (logged at start-up).
     */
    public record BackendTls(boolean ftps, java.nio.file.Path trustedCertificates) {
        public static final BackendTls PLAIN = new BackendTls(false, null);
    }
}
