package dev.ferry.server.auth;

import dev.ferry.protocol.ftps.TlsPolicy;
import java.net.InetAddress;

/**
 * Where a server's accounts come from: its users file ({@link Authenticator}), PostgreSQL, LDAP or an auth hook.
 * Shared by every session and safe to call from any thread; a reload may replace it (sessions logged in keep
 * what their login gave them).
 *
 * <p>Every source answers a login with a {@link LoginResult}; one that cannot be asked (its database, directory
 * or hook is down) answers {@link LoginResult.Reason#UNAVAILABLE}, never an exception and never a plain failure,
 * so that the client hears 421 and a guesser's count is not fed by an outage.
 */
public interface Accounts extends AutoCloseable {

    /** True when USER alone identifies an anonymous login: "anonymous" or "ftp" (any case) while enabled. */
    boolean isAnonymousName(String user);

    /** The TLS policy this account sets for itself, or null (the server's policy applies). */
    TlsPolicy tlsPolicy(String user);

    /** Checks one USER/PASS pair from {@code client}. Blocks while a hash, a query or a bind runs. */
    LoginResult login(String user, char[] password, InetAddress client);

    /** Releases connections and threads; a source replaced by a reload is closed once no login uses it. */
    @Override
    default void close() {}
}
