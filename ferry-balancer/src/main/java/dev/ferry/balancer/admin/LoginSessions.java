package dev.ferry.balancer.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The page's logins: a random 256-bit session id (the cookie) and a CSRF token of the same size per
 * login, both unguessable, held in memory only (a restart logs everybody out).
 *
 * <p>A login ends after {@link #IDLE_TIMEOUT} without a request, after {@link #MAX_AGE} in any
 * case (the page polls every few seconds, so an open page stays logged in until then), or at
 * logout. Bounded: at most {@link #MAX_LOGINS}; beyond that the least recently used is dropped,
 * so logging in in a loop costs memory for no more than that many. Thread-safe.
 */
public final class LoginSessions {

    static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);
    static final Duration MAX_AGE = Duration.ofHours(12);
    static final int MAX_LOGINS = 1000;
    private static final int TOKEN_BYTES = 32;
    /** 32 bytes in unpadded base64url. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{43}");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One login, as the API sees it. */
    public record Login(String id, String csrfToken, String user, AdminSettings.Role role) {
        @Override
        public String toString() {
            return "Login[" + user + "]";   // never the id or the token
        }
    }

    private static final class Held {
        final Login login;
        final long createdNanos;
        long lastSeenNanos;

        Held(Login login, long now) {
            this.login = login;
            this.createdNanos = now;
            this.lastSeenNanos = now;
        }
    }

    private final LongSupplier nanoClock;
    /** Guarded by this; access order, so the eldest is the least recently used. */
    private final LinkedHashMap<String, Held> logins = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Held> eldest) {
            return size() > MAX_LOGINS;
        }
    };

    public LoginSessions() {
        this(System::nanoTime);
    }

    LoginSessions(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    public synchronized Login create(String user, AdminSettings.Role role) {
        Login login = new Login(randomToken(), randomToken(), user, role);
        logins.put(login.id(), new Held(login, nanoClock.getAsLong()));
        return login;
    }

    /** The login with this cookie value, or null when there is none or it has expired. */
    public synchronized Login find(String id) {
        if (id == null || !TOKEN.matcher(id).matches()) {
            return null;
        }
        Held e = logins.get(id);
        if (e == null) {
            return null;
        }
        long now = nanoClock.getAsLong();
        if (now - e.lastSeenNanos > IDLE_TIMEOUT.toNanos() || now - e.createdNanos > MAX_AGE.toNanos()) {
            logins.remove(id);
            return null;
        }
        e.lastSeenNanos = now;
        return e.login;
    }

    public synchronized void end(String id) {
        if (id != null) {
            logins.remove(id);
        }
    }

    public synchronized int size() {
        return logins.size();
    }

    /** Whether {@code presented} is the login's CSRF token, in time independent of where they differ. */
    public static boolean csrfMatches(Login login, String presented) {
        // SECURITY: constant-time comparison, so timing does not reveal a token byte by byte.
        return presented != null && MessageDigest.isEqual(
                login.csrfToken().getBytes(StandardCharsets.US_ASCII), presented.getBytes(StandardCharsets.UTF_8));
    }

    private static String randomToken() {
        byte[] bytes = new byte[TOKEN_BYTES];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
