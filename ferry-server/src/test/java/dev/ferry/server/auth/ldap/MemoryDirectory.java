package dev.ferry.server.auth.ldap;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.sdk.OperationType;
import java.net.InetAddress;
import java.util.EnumSet;
import javax.net.ssl.SSLContext;

/**
 * UnboundID's in-memory directory with the tests' people and groups, on a loopback address and port 0:
 * alice (ftp-write, homeDirectory /home/alice), bob (ftp-read), carol (no group), eve (homeDirectory ../../etc),
 * and "x*" whose name holds a filter metacharacter. Every password is the name followed by "-pw".
 */
final class MemoryDirectory implements AutoCloseable {

    static final String BASE = "dc=example,dc=org";
    static final String PEOPLE = "ou=people," + BASE;
    static final String GROUPS = "ou=groups," + BASE;
    static final String SERVICE = "cn=ferry,ou=services," + BASE;
    static final String SERVICE_PASSWORD = "service-secret";
    static final String WRITE = "cn=ftp-write," + GROUPS;
    static final String READ = "cn=ftp-read," + GROUPS;

    final InMemoryDirectoryServer server;
    private final String scheme;

    /** Plain LDAP (with StartTLS when {@code tls} is given). */
    MemoryDirectory(InetAddress address, SSLContext tls) throws Exception {
        this(address, tls, false);
    }

    MemoryDirectory(InetAddress address, SSLContext tls, boolean ldaps) throws Exception {
        InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig(BASE);
        config.setSchema(null);   // memberOf and homeDirectory without the schemas that define them
        config.setAllowedOperationTypes(EnumSet.allOf(OperationType.class));
        this.scheme = ldaps ? "ldaps" : "ldap";
        InMemoryListenerConfig listener;
        if (ldaps) {
            listener = InMemoryListenerConfig.createLDAPSConfig("ldaps", address, 0,
                    tls.getServerSocketFactory(), null);
        } else {
            listener = InMemoryListenerConfig.createLDAPConfig("ldap", address, 0,
                    tls == null ? null : tls.getSocketFactory());
        }
        config.setListenerConfigs(listener);
        server = new InMemoryDirectoryServer(config);
        server.add("dn: " + BASE, "objectClass: top", "objectClass: domain", "dc: example");
        server.add("dn: ou=people," + BASE, "objectClass: organizationalUnit", "ou: people");
        server.add("dn: ou=groups," + BASE, "objectClass: organizationalUnit", "ou: groups");
        server.add("dn: ou=services," + BASE, "objectClass: organizationalUnit", "ou: services");
        server.add("dn: " + SERVICE, "objectClass: person", "cn: ferry", "sn: ferry", "userPassword: " + SERVICE_PASSWORD);
        person("alice", "/home/alice", WRITE);
        person("bob", null, READ);
        person("carol", null, null);
        person("eve", "../../etc", WRITE);
        person("x*", null, WRITE);
        server.add("dn: " + WRITE, "objectClass: groupOfNames", "cn: ftp-write", "member: uid=alice," + PEOPLE,
                "member: uid=eve," + PEOPLE, "member: uid=x\\2A," + PEOPLE);
        server.add("dn: " + READ, "objectClass: groupOfNames", "cn: ftp-read", "member: uid=bob," + PEOPLE);
        server.startListening();
    }

    private void person(String uid, String home, String group) throws Exception {
        java.util.List<String> lines = new java.util.ArrayList<>(java.util.List.of(
                "dn: " + new com.unboundid.ldap.sdk.RDN("uid", uid) + "," + PEOPLE,
                "objectClass: inetOrgPerson", "uid: " + uid, "cn: " + uid, "sn: " + uid, "userPassword: " + uid + "-pw"));
        if (home != null) {
            lines.add("homeDirectory: " + home);
        }
        if (group != null) {
            lines.add("memberOf: " + group);
        }
        server.add(lines.toArray(String[]::new));
    }

    String url() {
        return scheme + "://" + server.getListenAddress().getHostAddress() + ":" + server.getListenPort();
    }

    @Override
    public void close() {
        server.shutDown(true);
    }
}
