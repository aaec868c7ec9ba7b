package dev.ferry.server.auth.hook;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.auth.AccountSource;
import dev.ferry.server.auth.Accounts;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code users: hook} and its {@code auth-hook:} section (docs/users.md, "Auth hook").
 *
 * @param url      where each login is POSTed (http:// or https://)
 * @param timeout  longest wait for the connection, for the answer's headers, and for its body, each (default 5 s)
 * @param cacheTtl how long a login the hook accepted is remembered (zero: ask every time)
 */
public record HookSettings(URI url, Duration timeout, Duration cacheTtl) implements AccountSource {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofMinutes(1);

    public HookSettings {
        url(Objects.requireNonNull(url, "url").toString());
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("auth-hook: timeout must be above zero");
        }
        if (cacheTtl.isNegative()) {
            throw new IllegalArgumentException("auth-hook: cache-ttl cannot be negative");
        }
    }

    @Override
    public String kind() {
        return "hook";
    }

    @Override
    public Accounts open(ServerSettings server) {
        return new HookAccounts(this, server.root(), server.anonymous(), server.node());
    }

    /** An http:// or https:// URL naming a host. */
    public static URI url(String s) {
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("expected a URL such as http://127.0.0.1:8080/auth, got \"" + s + "\" ("
                    + e.getReason() + ")");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null) {
            throw new IllegalArgumentException("expected an http:// or https:// URL naming a host, got \"" + s + "\"");
        }
        if (u.getRawUserInfo() != null) {
            // SECURITY: credentials in the URL would be printed wherever the URL is (the start line, errors).
            throw new IllegalArgumentException("the URL must not carry a user or password (they would be logged)");
        }
        return u;
    }
}
