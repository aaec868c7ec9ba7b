package dev.ferry.server.auth;

import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.password.CredentialCache;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.ServerSettings.UserAccount;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides USER/PASS pairs against the configured accounts. Immutable apart from the credential
 * cache, so every session can share one instance; a users-file reload builds a new one.
 *
 * <p>Names of normal accounts match exactly (case-sensitive, as in the users file). "anonymous" and
 * "ftp" in any case mean anonymous access while it is enabled, whatever the password (an e-mail
 * address by convention), and always read-only. While it is disabled they are ordinary names.
 *
 * <p>Unknown and disabled accounts still pay one full verification, so response time does not tell
 * which names exist (RFC 2577 §7). The failure delay and the per-session attempt limit are the
 * session's job, address bans the BanList's.
 */
public final class Authenticator implements Accounts {

    /** Most users whose last good password is remembered; beyond it the oldest is forgotten. */
    static final int MAX_REMEMBERED_USERS = 65_536;

    // An Argon2id hash with the default parameters of a random password nobody kept: verifying
    // against it costs what a real account costs and never succeeds.
    static final String UNMATCHABLE_HASH = "$argon2id$v=19$m=19456,t=2,p=1"
            + "$zXx82utHfU5SBAU6VjZTig$gW1i2UcldRkT/+t+2Uic6OBTzdhvm0ZQqJGl/cGs38Y";

    private final Map<String, UserAccount> accounts;
    private final Anonymous anonymous;
    private final CredentialCache credentials;

    /**
     * @param cacheTtl how long a verified password is remembered (zero: verify every login)
     * @throws IllegalArgumentException if two accounts share a name (the loader reports it first)
     */
    public Authenticator(List<UserAccount> users, Anonymous anonymous, Duration cacheTtl) {
        this(users, anonymous, new CredentialCache(cacheTtl,
                Math.max(1, Math.min(users.size(), MAX_REMEMBERED_USERS))));
    }

    Authenticator(List<UserAccount> users, Anonymous anonymous, CredentialCache credentials) {
        Map<String, UserAccount> byName = new HashMap<>();
        for (UserAccount account : users) {
            if (byName.putIfAbsent(account.name(), account) != null) {
                throw new IllegalArgumentException("duplicate user name: " + account.name());
            }
        }
        this.accounts = Map.copyOf(byName);
        this.anonymous = anonymous == null ? Anonymous.OFF : anonymous;
        this.credentials = credentials;
    }

    /** The TLS policy the users file sets for this account, or null (the server's policy applies). */
    @Override
    public TlsPolicy tlsPolicy(String user) {
        UserAccount account = user == null ? null : accounts.get(user);
        return account == null ? null : account.tls();
    }

    /** True when USER alone identifies an anonymous login: "anonymous" or "ftp" (any case) while enabled. */
    @Override
    public boolean isAnonymousName(String user) {
        return anonymous.enabled() && AnonymousLogin.isAnonymousWord(user);
    }

    /** The users file does not care where a login comes from. */
    @Override
    public LoginResult login(String user, char[] password, InetAddress client) {
        return login(user, password);
    }

    /** Checks one USER/PASS pair. Blocks while a password hash runs (tens of milliseconds). */
    public LoginResult login(String user, char[] password) {
        String name = user == null ? "" : user;
        if (isAnonymousName(name)) {
            return new AnonymousLogin(anonymous).success();
        }
        UserAccount account = accounts.get(name);
        if (account == null) {
            if (AnonymousLogin.isAnonymousWord(name)) {
                // Everybody knows these names; spending a hash on each robot that tries them buys nothing.
                return new LoginResult.Failure(name, LoginResult.Reason.ANONYMOUS_DISABLED);
            }
            // SECURITY: same work as a real account, so timing does not reveal which names exist.
            credentials.verify(name, password, UNMATCHABLE_HASH);
            return new LoginResult.Failure(name, LoginResult.Reason.UNKNOWN_USER);
        }
        boolean matches = credentials.verify(name, password, account.passwordHash());
        // SECURITY: a disabled account is refused even with the right password; it was verified
        // anyway so that timing does not tell disabled accounts from others.
        if (!account.enabled()) {
            return new LoginResult.Failure(name, LoginResult.Reason.DISABLED);
        }
        if (!matches) {
            return new LoginResult.Failure(name, LoginResult.Reason.BAD_PASSWORD);
        }
        return new LoginResult.Success(name, account.home(), account.writable(), false, null, account.storage(),
                account.policy());
    }
}
