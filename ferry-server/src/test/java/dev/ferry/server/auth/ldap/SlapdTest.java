package dev.ferry.server.auth.ldap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.auth.LoginResult.Reason;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LdapAccounts against Debian's OpenLDAP slapd, started here in a temp directory (slapd.conf, an mdb database
 * loaded with slapadd) on 127.0.0.5, with ldap:// and ldaps:// listeners, and stopped by its PID. Without slapd the
 * test is skipped loudly, or fails under CI=true (.ci/run installs it).
 */
class SlapdTest {

    static final String BASE = "dc=example,dc=org";
    static final String PEOPLE = "ou=people," + BASE;
    static final String GROUPS = "ou=groups," + BASE;
    static final String SERVICE = "cn=ferry,ou=services," + BASE;
    static final InetAddress ADDRESS = address();

    @TempDir
    Path dir;
    private Process slapd;
    private final List<AutoCloseable> open = new ArrayList<>();
    private int port;
    private int tlsPort;
    private TestCa ca;

    private static InetAddress address() {
        try {
            return InetAddress.getByName("127.0.0.5");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path slapdBinary() {
        for (String candidate : List.of("/usr/sbin/slapd", "/usr/local/sbin/slapd", "/usr/local/libexec/slapd")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        return null;
    }

    @BeforeEach
    void startSlapd() throws Exception {
        Path binary = slapdBinary();
        Path slapadd = binary == null ? null : binary.resolveSibling("slapadd");
        if (binary == null || !Files.isExecutable(slapadd)) {
            String why = "slapd (Debian package slapd) is not installed: SlapdTest needs /usr/sbin/slapd and slapadd";
            if ("true".equals(System.getenv("CI"))) {
                fail(why + "; .ci/run installs it");
            }
            System.err.println("SKIPPED SlapdTest: " + why);
            Assumptions.abort(why);
        }
        ca = new TestCa("slapd test CA");
        ca.server(ADDRESS, "RSA").writePem(dir.resolve("server.pem"), dir.resolve("server.key"));
        ca.writeCa(dir.resolve("ca.pem"));
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("slapd.conf"), """
                include /etc/ldap/schema/core.schema
                include /etc/ldap/schema/cosine.schema
                include /etc/ldap/schema/nis.schema
                include /etc/ldap/schema/inetorgperson.schema
                modulepath /usr/lib/ldap
                moduleload back_mdb
                pidfile %1$s/slapd.pid
                TLSCACertificateFile %1$s/ca.pem
                TLSCertificateFile %1$s/server.pem
                TLSCertificateKeyFile %1$s/server.key
                database mdb
                maxsize 16777216
                suffix "%2$s"
                rootdn "cn=admin,%2$s"
                directory %3$s
                access to attrs=userPassword by anonymous auth by * none
                access to * by dn.exact="%4$s" read by * none
                """.formatted(dir, BASE, data, SERVICE));
        Files.writeString(dir.resolve("people.ldif"), """
                dn: %1$s
                objectClass: top
                objectClass: dcObject
                objectClass: organization
                o: Example
                dc: example

                dn: ou=people,%1$s
                objectClass: organizationalUnit
                ou: people

                dn: ou=groups,%1$s
                objectClass: organizationalUnit
                ou: groups

                dn: ou=services,%1$s
                objectClass: organizationalUnit
                ou: services

                dn: %2$s
                objectClass: person
                cn: ferry
                sn: ferry
                userPassword: %3$s

                %4$s
                %5$s
                %6$s
                dn: cn=ftp-write,%7$s
                objectClass: groupOfNames
                cn: ftp-write
                member: uid=alice,%8$s

                dn: cn=ftp-read,%7$s
                objectClass: groupOfNames
                cn: ftp-read
                member: uid=bob,%8$s
                """.formatted(BASE, SERVICE, ssha("service-secret"), person("alice", 1001), person("bob", 1002),
                person("carol", 1003), GROUPS, PEOPLE));
        run(List.of(slapadd.toString(), "-f", dir.resolve("slapd.conf").toString(), "-l", dir.resolve("people.ldif").toString()));
        port = freePort();
        tlsPort = freePort();
        String urls = "ldap://127.0.0.5:" + port + "/ ldaps://127.0.0.5:" + tlsPort + "/";
        // -d: stays in the foreground (it does not fork), so the Process is slapd itself and its PID stops it.
        slapd = new ProcessBuilder(binary.toString(), "-h", urls, "-f", dir.resolve("slapd.conf").toString(), "-d", "stats")
                .redirectErrorStream(true).redirectOutput(dir.resolve("slapd.log").toFile()).start();
        awaitListening(port);
        awaitListening(tlsPort);
    }

    @AfterEach
    void stopSlapd() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        stop();
    }

    private void stop() throws InterruptedException {
        if (slapd != null && slapd.isAlive()) {
            slapd.destroy();   // SIGTERM to its PID: slapd shuts down cleanly
            if (!slapd.waitFor(10, TimeUnit.SECONDS)) {
                slapd.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static String person(String uid, int number) {
        return """
                dn: uid=%1$s,%2$s
                objectClass: inetOrgPerson
                objectClass: posixAccount
                uid: %1$s
                cn: %1$s
                sn: %1$s
                uidNumber: %3$d
                gidNumber: %3$d
                homeDirectory: /home/%1$s
                userPassword: %4$s
                """.formatted(uid, PEOPLE, number, ssha(uid + "-pw"));
    }

    /** {SSHA}: base64(SHA-1(password salt) salt), the hash slappasswd makes by default. */
    static String ssha(String password) {
        try {
            byte[] salt = new byte[8];
            new SecureRandom().nextBytes(salt);
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(password.getBytes(StandardCharsets.UTF_8));
            sha1.update(salt);
            byte[] digest = sha1.digest();
            byte[] both = new byte[digest.length + salt.length];
            System.arraycopy(digest, 0, both, 0, digest.length);
            System.arraycopy(salt, 0, both, digest.length, salt.length);
            return "{SSHA}" + Base64.getEncoder().encodeToString(both);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out;
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + command);
        }
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(command + ": " + out).isZero();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(ADDRESS, 0));
            return s.getLocalPort();
        }
    }

    private void awaitListening(int p) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (!slapd.isAlive()) {
                fail("slapd ended with " + slapd.exitValue() + ": " + logTail());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(ADDRESS, p), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        fail("slapd did not listen on " + p + " within 15 s: " + logTail());
    }

    private String logTail() throws IOException {
        String log = Files.readString(dir.resolve("slapd.log"));
        return log.substring(Math.max(0, log.length() - 3000));
    }

    private LdapAccounts accounts(String url, Path caFile) throws Exception {
        Path secret = dir.resolve("bind.secret");
        Files.writeString(secret, "service-secret\n");
        Files.createDirectories(dir.resolve("root"));
        LdapSettings s = new LdapSettings(List.of(URI.create(url)), false, caFile, SERVICE, secret, PEOPLE,
                LdapSettings.DEFAULT_USER_FILTER, GROUPS, LdapSettings.DEFAULT_GROUP_FILTER,
                LdapSettings.DEFAULT_GROUP_ATTRIBUTE,
                Map.of("cn=ftp-write," + GROUPS, LdapSettings.Access.READ_WRITE, "cn=ftp-read," + GROUPS,
                        LdapSettings.Access.READ_ONLY),
                null, "homeDirectory", null, Duration.ofSeconds(2), Duration.ofSeconds(2), 4, Duration.ZERO);
        LdapAccounts a = LdapAccounts.open(s, dir.resolve("root"), Anonymous.OFF, "test");
        open.add(a);
        return a;
    }

    private static LoginResult login(LdapAccounts a, String user, String password) {
        return a.login(user, password.toCharArray(), InetAddress.getLoopbackAddress());
    }

    @Test
    void searchBindGroupsAndHomesAgainstSlapd() throws Exception {
        LdapAccounts a = accounts("ldap://127.0.0.5:" + port, null);
        LoginResult.Success alice = (LoginResult.Success) login(a, "alice", "alice-pw");
        assertThat(alice.writable()).isTrue();
        assertThat(alice.home()).isEqualTo(dir.resolve("root/home/alice").toAbsolutePath().normalize());
        assertThat(((LoginResult.Success) login(a, "bob", "bob-pw")).writable()).isFalse();
        assertThat(login(a, "carol", "carol-pw")).isEqualTo(new LoginResult.Failure("carol", Reason.DISABLED));
        assertThat(login(a, "alice", "bob-pw")).isEqualTo(new LoginResult.Failure("alice", Reason.BAD_PASSWORD));
        assertThat(login(a, "mallory", "x")).isEqualTo(new LoginResult.Failure("mallory", Reason.UNKNOWN_USER));
        assertThat(login(a, "*", "alice-pw")).isEqualTo(new LoginResult.Failure("*", Reason.UNKNOWN_USER));
    }

    @Test
    void ldapsWithTheTestCa() throws Exception {
        LdapAccounts a = accounts("ldaps://127.0.0.5:" + tlsPort, dir.resolve("ca.pem"));
        assertThat(login(a, "alice", "alice-pw")).isInstanceOf(LoginResult.Success.class);
        Path other = new TestCa("another CA").writeCa(dir.resolve("other.pem"));
        assertThat(login(accounts("ldaps://127.0.0.5:" + tlsPort, other), "alice", "alice-pw"))
                .isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
    }

    @Test
    void slapdStoppedIsUnavailableAndStartedAgainIsAskedAgain() throws Exception {
        LdapAccounts a = accounts("ldap://127.0.0.5:" + port, null);
        assertThat(login(a, "alice", "alice-pw")).isInstanceOf(LoginResult.Success.class);
        stop();
        assertThat(login(a, "alice", "alice-pw")).isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
        slapd = new ProcessBuilder(slapdBinary().toString(), "-h", "ldap://127.0.0.5:" + port + "/", "-f",
                dir.resolve("slapd.conf").toString(), "-d", "stats").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("slapd.log").toFile())).start();
        awaitListening(port);
        // The pool's dead connection is replaced: the directory is asked again, no restart of Ferry.
        assertThat(login(a, "alice", "alice-pw")).isInstanceOf(LoginResult.Success.class);
    }
}
