package dev.ferry.server.auth.ldap;

import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPException;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.auth.AccountSource;
import dev.ferry.server.auth.Accounts;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * {@code users: ldap} and its {@code ldap:} section (docs/users.md, "LDAP"): where the directory is, how Ferry finds
 * a user in it, and what the user's groups and attributes give the account.
 *
 * @param urls            {@code ldap://HOST[:PORT]} or {@code ldaps://HOST[:PORT]}, tried in order (failover)
 * @param startTls        upgrade {@code ldap://} connections with StartTLS (RFC 4511 §4.14) before anything is sent
 * @param caFile          PEM certificates trusted for ldaps and StartTLS; null: the JDK's trust store
 * @param bindDn          the service account that searches; null: searches bind anonymously
 * @param bindPasswordFile the file whose first line is the service account's password
 * @param baseDn          where users are searched (whole subtree)
 * @param userFilter      the search filter, {@code {user}} standing for the escaped login name (RFC 4515 §3)
 * @param groupBaseDn     where groups are searched; null: the user entry's {@code groupAttribute} lists them
 * @param groupFilter     the group search filter, {@code {dn}} standing for the user's escaped DN
 * @param groupAttribute  the attribute of a user entry that names its groups (memberOf)
 * @param groups          group DN to the access it gives; read-write wins over read-only
 * @param defaultAccess   the access of a user in none of {@code groups}; null: such a user is refused
 * @param homeAttribute   the attribute holding the home, taken relative to the server root; null: {@code homeTemplate}
 * @param homeTemplate    the home relative to the server root, {@code {user}} standing for the name; null: the root
 * @param connectTimeout  longest wait for a TCP connection and its TLS handshake
 * @param responseTimeout longest wait for the answer to one search or bind (also for a free pooled connection)
 * @param poolSize        most connections open to the directory at once
 * @param cacheTtl        how long a login the directory accepted is remembered (zero: ask every time)
 */
public record LdapSettings(List<URI> urls, boolean startTls, Path caFile, String bindDn, Path bindPasswordFile,
                           String baseDn, String userFilter, String groupBaseDn, String groupFilter,
                           String groupAttribute, Map<String, Access> groups, Access defaultAccess,
                           String homeAttribute, String homeTemplate, Duration connectTimeout,
                           Duration responseTimeout, int poolSize, Duration cacheTtl) implements AccountSource {

    /** What a group gives. */
    public enum Access {
        READ_ONLY, READ_WRITE;

        /** The YAML spelling: read-only, read-write. */
        public String spelling() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Access parse(String s) {
            return switch (s) {
                case "read-only" -> READ_ONLY;
                case "read-write" -> READ_WRITE;
                default -> throw new IllegalArgumentException("expected read-only or read-write, got \"" + s + "\"");
            };
        }
    }

    public static final String DEFAULT_USER_FILTER = "(uid={user})";
    public static final String DEFAULT_GROUP_FILTER = "(member={dn})";
    public static final String DEFAULT_GROUP_ATTRIBUTE = "memberOf";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_POOL_SIZE = 8;
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofMinutes(5);

    public LdapSettings {
        urls = List.copyOf(urls);
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("ldap: at least one server URL is needed");
        }
        for (URI u : urls) {
            url(u.toString());
        }
        if (startTls && urls.stream().anyMatch(u -> u.getScheme().equals("ldaps"))) {
            throw new IllegalArgumentException("ldap: start-tls is for ldap:// URLs; an ldaps:// URL is TLS already");
        }
        if ((bindDn == null) != (bindPasswordFile == null)) {
            throw new IllegalArgumentException("ldap: bind-dn and bind-password-file go together");
        }
        Objects.requireNonNull(baseDn, "baseDn");
        userFilter(userFilter);
        groups = Map.copyOf(new LinkedHashMap<>(groups));
        Objects.requireNonNull(groupAttribute, "groupAttribute");
        if (groupBaseDn != null) {
            groupFilter(groupFilter);
        }
        if (poolSize < 1) {
            throw new IllegalArgumentException("ldap: pool-size must be at least 1");
        }
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(responseTimeout, "responseTimeout");
        Objects.requireNonNull(cacheTtl, "cacheTtl");
    }

    @Override
    public String kind() {
        return "ldap";
    }

    @Override
    public Accounts open(ServerSettings server) throws IOException {
        return LdapAccounts.open(this, server.root(), server.anonymous(), server.node());
    }

    /** An {@code ldap://} or {@code ldaps://} URL naming a host, and nothing else (no DN, no filter). */
    public static URI url(String s) {
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("expected a URL such as ldap://ldap.example.org or ldaps://ldap.example.org:636,"
                    + " got \"" + s + "\" (" + e.getReason() + ")");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("ldap") && !scheme.equals("ldaps")) {
            throw new IllegalArgumentException("expected an ldap:// or ldaps:// URL, got \"" + s + "\"");
        }
        if (u.getHost() == null) {
            throw new IllegalArgumentException("expected a URL naming a host such as ldap://ldap.example.org, got \"" + s + "\"");
        }
        if ((u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/")) || u.getRawQuery() != null) {
            throw new IllegalArgumentException("expected a server URL without a DN or query (base-dn and user-filter say"
                    + " those), got \"" + s + "\"");
        }
        return u;
    }

    /** The port of {@code url}: its own, else 389 for ldap and 636 for ldaps (RFC 4516 §2). */
    static int port(URI url) {
        return url.getPort() > 0 ? url.getPort() : url.getScheme().equalsIgnoreCase("ldaps") ? 636 : 389;
    }

    /** A distinguished name (RFC 4514). */
    public static String dn(String s) {
        try {
            new DN(s);
            return s;
        } catch (LDAPException e) {
            throw new IllegalArgumentException("expected a DN such as ou=people,dc=example,dc=org, got \"" + s + "\" ("
                    + e.getMessage() + ")");
        }
    }

    /** A search filter holding {@code {user}} once at least (RFC 4515). */
    public static String userFilter(String s) {
        return filter(s, "{user}", "(uid={user})");
    }

    /** A group search filter holding {@code {dn}}. */
    public static String groupFilter(String s) {
        return filter(s, "{dn}", "(member={dn})");
    }

    private static String filter(String s, String placeholder, String example) {
        if (s == null || !s.contains(placeholder)) {
            throw new IllegalArgumentException("expected a search filter holding " + placeholder + ", such as " + example
                    + ", got \"" + s + "\"");
        }
        try {
            Filter.create(s.replace("{user}", "x").replace("{dn}", "x"));
        } catch (LDAPException e) {
            throw new IllegalArgumentException("expected an LDAP search filter such as " + example + ", got \"" + s
                    + "\" (" + e.getMessage() + ")");
        }
        return s;
    }
}
