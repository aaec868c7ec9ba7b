package dev.ferry.balancer.admin;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.protocol.Printable;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.password.CredentialCache;
import dev.ferry.runtime.password.PasswordHasher;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who is asking: HTTP Basic credentials (scripts, monitoring; RFC 7617) or the page's login cookie.
 *
 * <p>Passwords are checked against the users' PHC hashes through a {@link CredentialCache}, so a
 * script polling with Basic credentials pays the slow hash once per few minutes and at most a few
 * hashes run at once. An unknown user name costs a hash too (against a decoy of the default cost),
 * so timing does not tell which names exist. Every failure is logged as one line without the
 * password and makes the {@link LoginThrottle} slow that address down.
 */
final class AdminAuth {

    static final String COOKIE = "ferry_admin";
    static final String CSRF_HEADER = "X-CSRF-Token";
    static final String REALM = "Ferry admin";
    /** A Basic header longer than this is not a credential (user names and passwords are short). */
    private static final int MAX_AUTHORIZATION = 4096;
    private static final Duration REMEMBER_VERIFIED = Duration.ofMinutes(5);


    /** An authenticated request: {@code login} is null for Basic credentials. */
    record Caller(String user, AdminSettings.Role role, LoginSessions.Login login) {
        boolean viaCookie() {
            return login != null;
        }
    }

    /** What the credentials of a request came to. */
    sealed interface Outcome {
        record Allowed(Caller caller) implements Outcome {}

        /** No credentials, or a login cookie that has expired. */
        record Anonymous() implements Outcome {}

        /** Credentials that are wrong (already logged and counted). */
        record Refused() implements Outcome {}
    }

    private final Map<String, AdminSettings.User> users = new LinkedHashMap<>();
    private final CredentialCache verified = new CredentialCache(REMEMBER_VERIFIED, 64);
    private final String decoyHash;
    private final LoginThrottle throttle;
    private final LoginSessions logins;

    private final EventLog log;

    /** @param log the admin listener's log (its lines carry the balancer's node name) */
    AdminAuth(List<AdminSettings.User> users, LoginThrottle throttle, LoginSessions logins, EventLog log) {
        this.log = log;
        for (AdminSettings.User u : users) {
            if (this.users.putIfAbsent(u.name(), u) != null) {
                throw new IllegalArgumentException("admin user " + u.name() + " is defined twice");
            }
        }
        if (this.users.isEmpty()) {
            throw new IllegalArgumentException("the admin listener needs at least one user (there is no default password)");
        }
        this.throttle = throttle;
        this.logins = logins;
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        this.decoyHash = PasswordHasher.hash(Base64.getEncoder().encodeToString(random).toCharArray());
    }

    LoginSessions logins() {
        return logins;
    }

    /** Basic credentials first (explicit), then the login cookie. */
    Outcome authenticate(HttpExchange ex) throws InterruptedIOException {
        String authorization = ex.getRequestHeaders().getFirst("Authorization");
        if (authorization != null) {
            return basic(ex, authorization);
        }
        LoginSessions.Login login = logins.find(Http.cookie(ex, COOKIE));
        if (login == null) {
            return new Outcome.Anonymous();
        }
        return new Outcome.Allowed(new Caller(login.user(), login.role(), login));
    }

    private Outcome basic(HttpExchange ex, String authorization) throws InterruptedIOException {
        // RFC 7617 §2: "Basic" SP base64(user-id ":" password), the scheme name case-insensitive.
        String scheme = "basic ";
        if (authorization.length() > MAX_AUTHORIZATION
                || !authorization.regionMatches(true, 0, scheme, 0, scheme.length())) {
            return refuse(ex, null, "basic");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(authorization.substring(scheme.length()).strip());
        } catch (IllegalArgumentException e) {
            return refuse(ex, null, "basic");
        }
        char[] text;
        try {
            // RFC 7617 §2.1: charset="UTF-8" is what we announce and accept.
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(decoded));
            text = new char[chars.remaining()];
            chars.get(text);
        } catch (CharacterCodingException e) {
            return refuse(ex, null, "basic");
        } finally {
            Arrays.fill(decoded, (byte) 0);
        }
        int colon = indexOf(text, ':');
        if (colon < 0) {
            Arrays.fill(text, '\0');
            return refuse(ex, null, "basic");
        }
        String name = new String(text, 0, colon);
        char[] password = Arrays.copyOfRange(text, colon + 1, text.length);
        Arrays.fill(text, '\0');
        AdminSettings.User user = check(ex, name, password, "basic");
        return user == null ? new Outcome.Refused() : new Outcome.Allowed(new Caller(user.name(), user.role(), null));
    }

    /**
     * Checks a name and password (after the address's delay), logging a failure; clears
     * {@code password}. Returns the user, or null.
     */
    AdminSettings.User check(HttpExchange ex, String name, char[] password, String via) throws InterruptedIOException {
        InetAddress client = ex.getRemoteAddress().getAddress();
        try {
            // SECURITY: an address that failed before waits before its password is even checked, so
            // guessing from one address gets slower and slower.
            Duration delay = throttle.delayFor(client);
            if (!delay.isZero()) {
                Thread.sleep(delay);
            }
            AdminSettings.User user = users.get(name);
            // SECURITY: an unknown name is checked against a decoy hash, so the answer takes as long as
            // for a real user and timing does not tell which names exist.
            boolean matches = verified.verify(name, password, user == null ? decoyHash : user.passwordHash());
            if (user != null && matches) {
                throttle.succeeded(client);
                return user;
            }
            refuse(ex, name, via);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("stopping");
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private Outcome refuse(HttpExchange ex, String name, String via) {
        InetAddress client = ex.getRemoteAddress().getAddress();
        throttle.failed(client);
        log.info("admin-login-failed").with("client", Http.client(ex)).with("user", Printable.of(name, 64))
                .with("via", via).with("next_delay_ms", throttle.delayFor(client).toMillis()).log();
        return new Outcome.Refused();
    }

    /**
     * The challenge of a 401 (RFC 9110 §11.6.1). Scripts get Basic; the page (which sends
     * X-Requested-With) and browsers opening the page get a scheme of our own, which browsers do not
     * answer with their password dialog, so the page's login form is what people see.
     */
    static String challenge(HttpExchange ex, boolean page) {
        if (page || ex.getRequestHeaders().containsKey("X-Requested-With")) {
            return "FerryLogin realm=\"" + REALM + "\"";
        }
        return "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"";
    }

    private static int indexOf(char[] text, char c) {
        for (int i = 0; i < text.length; i++) {
            if (text[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
