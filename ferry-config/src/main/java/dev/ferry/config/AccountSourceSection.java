package dev.ferry.config;

import dev.ferry.server.auth.AccountSource;
import dev.ferry.server.auth.DatabaseSource;
import dev.ferry.server.auth.hook.HookSettings;
import dev.ferry.server.auth.ldap.LdapSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * {@code users: ldap} with its {@code ldap:} section, and {@code users: hook} with its {@code auth-hook:} section
 * (docs/users.md). {@code users:} as a list is the inline accounts, read by {@link UserList}; as one of these words
 * it names where logins are checked instead. Values are checked here, with FILE:LINE:COL; whether the directory
 * or the hook answers is learnt per login (421 while it does not).
 * <pre>
 * users: ldap
 * ldap:
 *   urls: [ldaps://ldap1.example.org, ldaps://ldap2.example.org]   # or url: one URL; tried in order
 *   start-tls: false              # for ldap:// URLs
 *   ca-file: ldap-ca.pem          # default: the JDK's trust store
 *   bind-dn: cn=ferry,ou=services,dc=example,dc=org
 *   bind-password-file: ldap.secret
 *   base-dn: ou=people,dc=example,dc=org
 *   user-filter: (uid={user})
 *   groups: {"cn=ftp-write,ou=groups,dc=example,dc=org": read-write, "cn=ftp-read,ou=groups,dc=example,dc=org": read-only}
 *   group-attribute: memberOf     # or group-base-dn + group-filter: (member={dn})
 *   default-access: read-only     # users in none of the groups; default: refused
 *   home-attribute: homeDirectory # or home: "{user}"; relative to the server root
 *   connect-timeout: 5s
 *   response-timeout: 5s
 *   pool-size: 8
 *   cache-ttl: 5m
 * users: hook
 * auth-hook:
 *   url: http://127.0.0.1:8080/ftp-auth
 *   timeout: 5s
 *   cache-ttl: 1m
 * </pre>
 */
final class AccountSourceSection {

    static final List<String> KINDS = List.of("database", "ldap", "hook");
    private static final List<String> LDAP_KEYS = List.of("url", "urls", "start-tls", "ca-file", "bind-dn",
            "bind-password-file", "base-dn", "user-filter", "group-attribute", "group-base-dn", "group-filter", "groups",
            "default-access", "home-attribute", "home", "connect-timeout", "response-timeout", "pool-size", "cache-ttl");
    private static final List<String> HOOK_KEYS = List.of("url", "timeout", "cache-ttl");
    private static final String ACCESS = "read-only or read-write";
    private static final String DN = "a DN such as ou=people,dc=example,dc=org";

    private AccountSourceSection() {
    }

    /** The source {@code users:} names when it is a word rather than a list, else null; checks the sections fit. */
    static String kind(YamlMapping server) throws ConfigException {
        String kind = null;
        if (server.has("users") && server.value("users") instanceof ScalarNode && !YamlFile.isNull(server.value("users"))) {
            kind = server.parsed("users", "a list of users, or database, ldap or hook", AccountSourceSection::kindWord, null);
            if (server.has("users-file")) {
                throw server.error("users-file", "users: " + kind + " checks logins against "
                        + switch (kind) {
                            case "database" -> "the database";
                            case "ldap" -> "the directory";
                            default -> "the auth hook";
                        } + "; a users file would not be read (remove one of the two"
                        + (kind.equals("database") ? ", or import it with `ferry users add`)" : ")"));
            }
        }
        if (server.has("ldap") && !"ldap".equals(kind)) {
            throw server.error("ldap", "the ldap: section is read with users: ldap" + (kind == null ? "" : ", not users: " + kind));
        }
        if (server.has("auth-hook") && !"hook".equals(kind)) {
            throw server.error("auth-hook", "the auth-hook: section is read with users: hook" + (kind == null ? "" : ", not users: " + kind));
        }
        return kind;
    }

    private static String kindWord(String s) {
        if (!KINDS.contains(s)) {
            throw new IllegalArgumentException("expected a list of users, or database, ldap or hook, got " + Values.quote(s));
        }
        return s;
    }

    static AccountSource read(YamlMapping server, String kind, Path directory) throws ConfigException {
        if (kind.equals("database")) {
            if (!server.has("database")) {
                throw server.missing("database", "where the accounts of `users: database` are: url, user, password-file");
            }
            return DatabaseSource.INSTANCE;
        }
        String section = kind.equals("ldap") ? "ldap" : "auth-hook";
        if (!server.has(section)) {
            throw server.missing(section, "the settings of users: " + kind + " (see docs/users.md)");
        }
        return kind.equals("ldap") ? ldap(server.mapping("ldap", LDAP_KEYS).orElseThrow(), directory)
                : hook(server.mapping("auth-hook", HOOK_KEYS).orElseThrow());
    }

    private static HookSettings hook(YamlMapping m) throws ConfigException {
        if (!m.has("url")) {
            throw m.missing("url", "the http:// or https:// address each login is POSTed to");
        }
        URI url = m.parsed("url", "an http:// or https:// URL", HookSettings::url, null);
        Duration timeout = m.parsed("timeout", "a duration such as 5s", Values::positiveDuration, HookSettings.DEFAULT_TIMEOUT);
        Duration ttl = m.parsed("cache-ttl", "a duration such as 1m", Values::duration, HookSettings.DEFAULT_CACHE_TTL);
        return new HookSettings(url, timeout, ttl);
    }

    private static LdapSettings ldap(YamlMapping m, Path directory) throws ConfigException {
        List<URI> urls = urls(m);
        boolean startTls = m.bool("start-tls", false);
        if (startTls) {
            for (URI u : urls) {
                if (u.getScheme().equalsIgnoreCase("ldaps")) {
                    throw m.error("start-tls", "start-tls upgrades ldap:// connections; " + u + " is TLS from the start");
                }
            }
        }
        Path caFile = readable(m, "ca-file", directory, "a PEM file of the CA certificates that sign the directory's");
        String bindDn = m.parsed("bind-dn", DN, LdapSettings::dn, null);
        Path passwordFile = readable(m, "bind-password-file", directory, "a file whose first line is the bind-dn's password");
        if (bindDn != null && passwordFile == null) {
            throw m.missing("bind-password-file", "the file whose first line is the password of bind-dn");
        }
        if (bindDn == null && passwordFile != null) {
            throw m.missing("bind-dn", "the service account whose password bind-password-file holds");
        }
        if (!m.has("base-dn")) {
            throw m.missing("base-dn", "where users are searched, " + DN);
        }
        String baseDn = m.parsed("base-dn", DN, LdapSettings::dn, null);
        String userFilter = m.parsed("user-filter", "a search filter such as (uid={user})", LdapSettings::userFilter,
                LdapSettings.DEFAULT_USER_FILTER);
        String groupAttribute = m.text("group-attribute", LdapSettings.DEFAULT_GROUP_ATTRIBUTE);
        String groupBase = m.parsed("group-base-dn", DN, LdapSettings::dn, null);
        if (m.has("group-filter") && groupBase == null) {
            throw m.missing("group-base-dn", "where the groups that group-filter finds are searched");
        }
        String groupFilter = m.parsed("group-filter", "a search filter such as (member={dn})", LdapSettings::groupFilter,
                LdapSettings.DEFAULT_GROUP_FILTER);
        Map<String, LdapSettings.Access> groups = groups(m);
        LdapSettings.Access defaultAccess = m.parsed("default-access", ACCESS, LdapSettings.Access::parse, null);
        String homeAttribute = m.text("home-attribute", null);
        String home = m.text("home", null);
        if (homeAttribute == null && home != null && Path.of("").resolve(home.replace("{user}", "u")).normalize().startsWith("..")) {
            throw m.error("home", "a home template is relative to the server root and stays inside it");
        }
        return new LdapSettings(urls, startTls, caFile, bindDn, passwordFile, baseDn, userFilter, groupBase, groupFilter,
                groupAttribute, groups, defaultAccess, homeAttribute, home,
                m.parsed("connect-timeout", "a duration such as 5s", Values::positiveDuration, LdapSettings.DEFAULT_CONNECT_TIMEOUT),
                m.parsed("response-timeout", "a duration such as 5s", Values::positiveDuration, LdapSettings.DEFAULT_RESPONSE_TIMEOUT),
                m.parsed("pool-size", Values.POSITIVE.expected(), Values.POSITIVE::parse, LdapSettings.DEFAULT_POOL_SIZE),
                m.parsed("cache-ttl", "a duration such as 5m", Values::duration, LdapSettings.DEFAULT_CACHE_TTL));
    }

    private static List<URI> urls(YamlMapping m) throws ConfigException {
        if (m.has("url") && m.has("urls")) {
            throw m.error("urls", "give url (one server) or urls (several, tried in order), not both");
        }
        if (m.has("url")) {
            return List.of(m.parsed("url", "an ldap:// or ldaps:// URL", LdapSettings::url, null));
        }
        if (!m.has("urls")) {
            throw m.missing("urls", "the directory's ldap:// or ldaps:// URLs, tried in order");
        }
        List<Node> items = m.list("urls", "ldap:// or ldaps:// URLs").orElseThrow();
        if (items.isEmpty()) {
            throw m.error("urls", "expected one URL at least");
        }
        List<URI> urls = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            String where = m.pathOf("urls") + "[" + i + "]";
            if (!(item instanceof ScalarNode s) || YamlFile.isNull(item)) {
                throw m.file().error(item, where + ": expected an ldap:// or ldaps:// URL, got " + YamlFile.describe(item));
            }
            try {
                urls.add(LdapSettings.url(s.getValue()));
            } catch (IllegalArgumentException e) {
                throw m.file().error(item, where + ": " + e.getMessage());
            }
        }
        return urls;
    }

    private static Map<String, LdapSettings.Access> groups(YamlMapping m) throws ConfigException {
        Map<String, LdapSettings.Access> groups = new LinkedHashMap<>();
        if (!m.has("groups")) {
            return groups;
        }
        if (!(m.value("groups") instanceof MappingNode mapping)) {
            throw m.error("groups", "expected a mapping of group DNs to " + ACCESS + ", got " + YamlFile.describe(m.value("groups")));
        }
        for (NodeTuple t : mapping.getValue()) {
            String where = m.pathOf("groups");
            if (!(t.getKeyNode() instanceof ScalarNode key) || YamlFile.isNull(t.getKeyNode())) {
                throw m.file().error(t.getKeyNode(), where + ": expected a group DN as key");
            }
            String dn;
            LdapSettings.Access access;
            try {
                dn = LdapSettings.dn(key.getValue());
            } catch (IllegalArgumentException e) {
                throw m.file().error(key, where + ": " + e.getMessage());
            }
            if (!(t.getValueNode() instanceof ScalarNode value) || YamlFile.isNull(t.getValueNode())) {
                throw m.file().error(t.getValueNode(), where + "." + dn + ": expected " + ACCESS + ", got "
                        + YamlFile.describe(t.getValueNode()));
            }
            try {
                access = LdapSettings.Access.parse(value.getValue());
            } catch (IllegalArgumentException e) {
                throw m.file().error(value, where + "." + dn + ": " + e.getMessage());
            }
            if (groups.put(dn, access) != null) {
                throw m.file().error(key, where + ": group " + dn + " is given twice");
            }
        }
        return groups;
    }

    /** A file read when the server starts: a missing one is a FILE:LINE:COL error now, not a failed start later. */
    private static Path readable(YamlMapping m, String key, Path directory, String what) throws ConfigException {
        Path file = m.path(key, directory, null);
        if (file != null && (!Files.isReadable(file) || Files.isDirectory(file))) {
            throw m.error(key, "cannot read " + file + (Files.exists(file) ? "" : " (no such file)") + "; expected " + what);
        }
        return file;
    }
}
