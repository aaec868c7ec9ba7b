package dev.ferry.server.auth.hook;

import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.json.JsonReader;
import dev.ferry.runtime.json.JsonString;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.net.Cidr;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.auth.Accounts;
import dev.ferry.server.auth.AnonymousLogin;
import dev.ferry.server.auth.ChrootHome;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.auth.LoginResult.Reason;
import dev.ferry.server.auth.OutageLog;
import dev.ferry.server.auth.SuccessCache;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Bandwidth;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Quota;
import dev.ferry.server.policy.Right;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * Logins decided by an HTTP endpoint of the site's own (docs/users.md, "Auth hook"), in the shape of SFTPGo's
 * external authentication hook, so that a hook written for SFTPGo answers Ferry unchanged.
 *
 * <p>Request: {@code POST url} with {@code {"username", "password", "ip", "protocol": "FTP", "public_key": "",
 * "keyboard_interactive": "", "tls_cert": ""}}. Answer: 200 with an SFTPGo user object; {@code status} 1 and the
 * same {@code username} log in, with {@code home_dir} (below the server root), {@code permissions} (per folder),
 * {@code quota_size}, {@code quota_files}, {@code upload_bandwidth} and {@code download_bandwidth} (KiB/s, as
 * SFTPGo counts them) and {@code max_sessions}. An empty username, status 0 or another 2xx/4xx answer is a refusal
 * (530); an answer that does not parse is one too, with a log line saying what was wrong. No answer within the
 * timeout, a refused connection or a 5xx is {@link Reason#UNAVAILABLE} (421, no guess counted).
 *
 * <p>Bounds: one request per login (fewer with the cache), each given {@code timeout} for connecting, again for the
 * answer's headers and again for its body, of which at most {@link #MAX_ANSWER_BYTES} are read.
 */
public final class HookAccounts implements Accounts {

    /** Largest answer read; an SFTPGo user object is a few KiB. */
    static final int MAX_ANSWER_BYTES = 256 * 1024;
    static final int MAX_REMEMBERED_USERS = 65_536;
    private static final long KIB = 1024;

    private final HookSettings settings;
    private final Path root;
    private final AnonymousLogin anonymous;
    private final HttpClient http;
    private final SuccessCache cache;
    private final EventLog log;
    /** Cuts off answer bodies that outlast the timeout (one daemon thread, ended at close). */
    private final ScheduledExecutorService bodyGuard;
    private final AtomicInteger leases = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final OutageLog outages = new OutageLog();

    public HookAccounts(HookSettings settings, Path root, Anonymous anonymous, String node) {
        this.settings = settings;
        this.root = root.toAbsolutePath().normalize();
        this.anonymous = new AnonymousLogin(anonymous);
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout())
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
        this.cache = new SuccessCache(settings.cacheTtl(), MAX_REMEMBERED_USERS);
        this.log = new EventLog(LoggerFactory.getLogger("ferry.server"), node);
        ScheduledThreadPoolExecutor guard = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("ferry-auth-hook-guard").factory());
        guard.setRemoveOnCancelPolicy(true);   // a cancelled guard (the usual case) leaves nothing queued
        this.bodyGuard = guard;
    }

    @Override
    public boolean isAnonymousName(String user) {
        return anonymous.matches(user);
    }

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
        if (name.isEmpty()) {
            return new LoginResult.Failure(name, Reason.UNKNOWN_USER);
        }
        // SECURITY: SFTPGo refuses empty credentials itself ("credentials cannot be null or empty") and never asks a
        // hook with them, so hooks written for it need not check: one that binds to a directory with the password
        // would make an empty one an unauthenticated bind, which succeeds (RFC 4513 §5.1.2).
        if (password == null || password.length == 0) {
            return new LoginResult.Failure(name, Reason.BAD_PASSWORD);
        }
        if (!lease()) {
            return new LoginResult.Failure(name, Reason.UNAVAILABLE);
        }
        try {
            // SECURITY: the hook was asked about this name from this address (and its answer may restrict addresses):
            // a yes is remembered for that address only, never handed to the same name from elsewhere.
            String key = name + '\0' + (client == null ? "" : client.getHostAddress());
            LoginResult.Success remembered = cache.get(key, password);
            if (remembered != null) {
                return remembered;
            }
            Verdict verdict = ask(name, password, client);
            if (verdict.result() instanceof LoginResult.Success ok) {
                // An account that expires is not remembered past its expiry (SFTPGo refuses it from then on).
                Duration left = verdict.expiresMillis() == 0 ? null
                        : Duration.ofMillis(verdict.expiresMillis() - System.currentTimeMillis());
                cache.put(key, password, ok, left);
            }
            return verdict.result();
        } finally {
            release();
        }
    }

    /** The hook's verdict, and (0: none) when the account it grants expires. */
    private record Verdict(LoginResult result, long expiresMillis) {
        static Verdict of(LoginResult result) {
            return new Verdict(result, 0);
        }
    }

    private Verdict ask(String name, char[] password, InetAddress client) {
        byte[] body = requestBody(name, password, client);
        HttpResponse<InputStream> response;
        String answer;
        try {
            HttpRequest request = HttpRequest.newBuilder(settings.url()).timeout(settings.timeout())
                    .header("Content-Type", "application/json").header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                // The request timeout ends with the headers; a hook that then trickles its body is cut off here,
                // the stream closed under the read by the guard.
                ScheduledFuture<?> guard = bodyGuard.schedule(() -> closeQuietly(in), settings.timeout().toMillis(),
                        TimeUnit.MILLISECONDS);
                byte[] bytes;
                try {
                    bytes = in.readNBytes(MAX_ANSWER_BYTES + 1);
                } finally {
                    guard.cancel(false);
                }
                if (guard.isDone() && !guard.isCancelled()) {
                    throw new HttpTimeoutException("answer body not complete within " + settings.timeout().toMillis() + " ms");
                }
                if (bytes.length > MAX_ANSWER_BYTES) {
                    return Verdict.of(malformed(name, "answer longer than " + MAX_ANSWER_BYTES + " bytes"));
                }
                answer = new String(bytes, StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            // java.net.http.HttpTimeoutException and HttpConnectTimeoutException are IOExceptions too.
            return Verdict.of(unavailable(name, e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.of(new LoginResult.Failure(name, Reason.UNAVAILABLE));
        } finally {
            Arrays.fill(body, (byte) 0);
        }
        int status = response.statusCode();
        if (status >= 500) {
            return Verdict.of(unavailable(name, "HTTP " + status));
        }
        if (status != 200) {
            // SFTPGo: any answer but 200 denies the login.
            return Verdict.of(new LoginResult.Failure(name, Reason.BAD_PASSWORD));
        }
        try {
            LoginResult result = account(name, answer, client, System.currentTimeMillis());
            return new Verdict(result, result instanceof LoginResult.Success ? expiresMillis(answer) : 0);
        } catch (IllegalArgumentException e) {
            return Verdict.of(malformed(name, e.getMessage()));
        }
    }

    /** The request, written by the escaper of every JSON Ferry writes: a quote or newline in a password stays data. */
    static byte[] requestBody(String name, char[] password, InetAddress client) {
        StringBuilder json = new StringBuilder(160);
        json.append("{\"username\":");
        JsonString.quote(json, name, JsonString.Escaping.MINIMAL);
        json.append(",\"password\":");
        JsonString.quote(json, new String(password), JsonString.Escaping.MINIMAL);
        json.append(",\"ip\":");
        JsonString.quote(json, client == null ? "" : client.getHostAddress(), JsonString.Escaping.MINIMAL);
        json.append(",\"protocol\":\"FTP\",\"public_key\":\"\",\"keyboard_interactive\":\"\",\"tls_cert\":\"\"}");
        ByteBuffer b = StandardCharsets.UTF_8.encode(CharBuffer.wrap(json));
        byte[] out = new byte[b.remaining()];
        b.get(out);
        if (b.hasArray()) {
            Arrays.fill(b.array(), (byte) 0);
        }
        json.setLength(0);
        return out;
    }

    /**
     * The login an answer grants to {@code name} from {@code client} at {@code nowMillis}, a refusal, or an
     * IllegalArgumentException saying what is malformed.
     */
    LoginResult account(String name, String answer, InetAddress client, long nowMillis) {
        if (!(JsonReader.read(answer) instanceof Map<?, ?> user)) {
            throw new IllegalArgumentException("expected a JSON object (an SFTPGo user)");
        }
        String username = text(user, "username");
        if (username == null || username.isEmpty()) {
            return new LoginResult.Failure(name, Reason.BAD_PASSWORD);   // SFTPGo: an empty username denies
        }
        if (!username.equals(name)) {
            throw new IllegalArgumentException("username \"" + username + "\" is not the name that logged in");
        }
        // SFTPGo reads a missing status as 0, a disabled user: so does Ferry, so that one hook means the same to both.
        long status = number(user, "status", 0);
        if (status != 1) {
            return new LoginResult.Failure(name, Reason.DISABLED);
        }
        if (!allowedBy(user, client, nowMillis)) {
            return new LoginResult.Failure(name, Reason.DISABLED);
        }
        Path home = home(text(user, "home_dir"));
        Quota quota = new Quota(number(user, "quota_size", 0), number(user, "quota_files", 0));
        Bandwidth bandwidth = new Bandwidth(bytesPerSecond(user, "upload_bandwidth"),
                bytesPerSecond(user, "download_bandwidth"));
        long maxSessions = number(user, "max_sessions", 0);
        if (maxSessions > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("max_sessions " + maxSessions + " is too large");
        }
        List<FolderRights.Grant> grants = permissions(user.get("permissions"));
        boolean writable = grants.stream().anyMatch(g -> g.rights().stream().anyMatch(HookAccounts::writes));
        // Everything everywhere is the account's plain read-write access: no per-folder rights to check.
        boolean everything = grants.size() == 1 && grants.get(0).folder().isRoot()
                && grants.get(0).rights().containsAll(EnumSet.allOf(Right.class));
        FolderRights rights = everything ? FolderRights.NONE : new FolderRights(grants);
        return new LoginResult.Success(name, home, writable, false, null, null,
                new AccountPolicy(quota, bandwidth, (int) maxSessions, rights));
    }

    /** The answer's expiration_date (0: none); called on an answer {@link #account} accepted. */
    private static long expiresMillis(String answer) {
        return JsonReader.read(answer) instanceof Map<?, ?> user ? number(user, "expiration_date", 0) : 0;
    }

    /**
     * The login restrictions an SFTPGo user object carries. SFTPGo's hooks "check authentication only": an expiry, the
     * addresses a user may come from and the protocols or login methods denied to it are fields of the answer that
     * SFTPGo enforces itself after the hook ("these conditions will be checked in the same way as for built-in
     * users"). A hook written for SFTPGo relies on that, so Ferry enforces them too.
     *
     * @throws IllegalArgumentException a restriction that cannot be read (refused: never read as "no restriction")
     */
    static boolean allowedBy(Map<?, ?> user, InetAddress client, long nowMillis) {
        long expires = number(user, "expiration_date", 0);   // milliseconds since the epoch; 0: never
        if (expires > 0 && nowMillis >= expires) {
            return false;
        }
        Object f = user.get("filters");
        if (f == null) {
            return true;
        }
        if (!(f instanceof Map<?, ?> filters)) {
            throw new IllegalArgumentException("filters: expected an object");
        }
        if (texts(filters, "denied_protocols").contains("FTP")) {
            return false;
        }
        List<String> deniedMethods = texts(filters, "denied_login_methods");
        if (deniedMethods.contains("password") || deniedMethods.contains("password-over-FTP")) {
            return false;
        }
        List<Cidr> allowed = cidrs(filters, "allowed_ip");
        List<Cidr> denied = cidrs(filters, "denied_ip");
        if (allowed.isEmpty() && denied.isEmpty()) {
            return true;
        }
        if (client == null) {
            return false;
        }
        // SFTPGo's order: an allowed block wins, then a denied one; with an allow list, anything else is denied.
        if (allowed.stream().anyMatch(c -> c.contains(client))) {
            return true;
        }
        if (denied.stream().anyMatch(c -> c.contains(client))) {
            return false;
        }
        return allowed.isEmpty();
    }

    private static List<String> texts(Map<?, ?> map, String key) {
        Object v = map.get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
            throw new IllegalArgumentException("filters." + key + ": expected a list of strings");
        }
        return list.stream().map(String.class::cast).toList();
    }

    private static List<Cidr> cidrs(Map<?, ?> filters, String key) {
        List<Cidr> out = new ArrayList<>();
        for (String text : texts(filters, key)) {
            try {
                out.add(Cidr.parse(text));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("filters." + key + ": " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * SFTPGo's permission names to Ferry's rights (docs/users.md has the table). Names without a Ferry right
     * (create_symlinks, chmod, chown, chtimes) give nothing. No {@code permissions} at all: list and download.
     */
    static List<FolderRights.Grant> permissions(Object value) {
        if (value == null) {
            return List.of(new FolderRights.Grant(VirtualPath.ROOT, EnumSet.of(Right.LIST, Right.DOWNLOAD)));
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("permissions: expected an object such as {\"/\": [\"*\"]}");
        }
        if (!map.containsKey("/")) {
            throw new IllegalArgumentException("permissions: \"/\" is missing (SFTPGo requires it too)");
        }
        List<FolderRights.Grant> grants = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String folderText = (String) e.getKey();
            VirtualPath folder;
            try {
                folder = VirtualPath.resolve(VirtualPath.ROOT, folderText);
            } catch (InvalidVirtualPathException ex) {
                throw new IllegalArgumentException("permissions: \"" + folderText + "\" is not a folder (" + ex.getMessage() + ")");
            }
            if (!(e.getValue() instanceof List<?> names)) {
                throw new IllegalArgumentException("permissions: \"" + folderText + "\": expected a list of names");
            }
            Set<Right> rights = EnumSet.noneOf(Right.class);
            for (Object n : names) {
                if (!(n instanceof String s)) {
                    throw new IllegalArgumentException("permissions: \"" + folderText + "\": expected names, got " + n);
                }
                rights.addAll(rightsOf(s));
            }
            grants.add(new FolderRights.Grant(folder, rights));
        }
        return grants;
    }

    static Set<Right> rightsOf(String sftpgoPermission) {
        return switch (sftpgoPermission) {
            case "*" -> EnumSet.allOf(Right.class);
            case "list" -> EnumSet.of(Right.LIST);
            case "download" -> EnumSet.of(Right.DOWNLOAD);
            case "upload" -> EnumSet.of(Right.UPLOAD);
            case "overwrite" -> EnumSet.of(Right.OVERWRITE);
            case "delete", "delete_files", "delete_dirs" -> EnumSet.of(Right.DELETE);
            case "rename", "rename_files", "rename_dirs" -> EnumSet.of(Right.RENAME);
            case "create_dirs" -> EnumSet.of(Right.MKDIR);
            default -> EnumSet.noneOf(Right.class);
        };
    }

    private static boolean writes(Right r) {
        return r != Right.LIST && r != Right.DOWNLOAD;
    }

    /** SFTPGo's home_dir is an absolute directory; Ferry reads it below its root, as chroot would. */
    private Path home(String homeDir) {
        Path home = ChrootHome.resolve(root, homeDir);
        if (home == null) {
            throw new IllegalArgumentException("home_dir \"" + homeDir + "\" is not a path below the server root " + root);
        }
        return home;
    }

    private static String text(Map<?, ?> user, String key) {
        Object v = user.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException(key + ": expected a string");
        }
        return s;
    }

    private static long number(Map<?, ?> user, String key, long absent) {
        Object v = user.get(key);
        if (v == null) {
            return absent;
        }
        if (!(v instanceof BigDecimal d)) {
            throw new IllegalArgumentException(key + ": expected a number");
        }
        long n;
        try {
            n = d.longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(key + ": expected a whole number, got " + d);
        }
        if (n < 0) {
            throw new IllegalArgumentException(key + ": expected 0 or more, got " + n);
        }
        return n;
    }

    /** SFTPGo's KiB/s as bytes per second; a rate beyond a long is malformed, not an exception out of the login. */
    private static long bytesPerSecond(Map<?, ?> user, String key) {
        long kib = number(user, key, 0);
        if (kib > Long.MAX_VALUE / KIB) {
            throw new IllegalArgumentException(key + ": " + kib + " KiB/s is too large");
        }
        return kib * KIB;
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // cutting it off anyway
        }
    }

    private LoginResult malformed(String name, String problem) {
        log.warn("auth-hook-malformed").with("user", name).with("url", settings.url()).with("error", problem)
                .with("hint", "the login is refused; the hook must answer an SFTPGo user object (docs/users.md)").log();
        return new LoginResult.Failure(name, Reason.DISABLED);
    }

    private LoginResult unavailable(String name, String error) {
        Event line = outages.warn(log, "auth-hook-unavailable");
        if (line != null) {
            line.with("url", settings.url()).with("error", error).log();
        }
        return new LoginResult.Failure(name, Reason.UNAVAILABLE);
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
            http.close();
            bodyGuard.shutdownNow();
        }
    }

    /** Closes the HTTP client once the logins in progress have their answer. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }
}
