package dev.ferry.server.auth.ldap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.auth.LoginResult.Reason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LdapAccounts against UnboundID's in-memory directory on loopback: search then bind, groups, homes, failover, TLS. */
class LdapAccountsTest {

    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private MemoryDirectory directory() throws Exception {
        MemoryDirectory d = new MemoryDirectory(LOOPBACK, null);
        open.add(d);
        return d;
    }

    /** The settings of the docs' example: memberOf groups, homeDirectory below the root, a service bind. */
    LdapSettings settings(List<String> urls) throws Exception {
        Path secret = dir.resolve("bind.secret");
        Files.writeString(secret, MemoryDirectory.SERVICE_PASSWORD + "\n");
        return new LdapSettings(urls.stream().map(URI::create).toList(), false, null, MemoryDirectory.SERVICE, secret,
                MemoryDirectory.PEOPLE, LdapSettings.DEFAULT_USER_FILTER, null, LdapSettings.DEFAULT_GROUP_FILTER,
                LdapSettings.DEFAULT_GROUP_ATTRIBUTE,
                Map.of(MemoryDirectory.WRITE, LdapSettings.Access.READ_WRITE, MemoryDirectory.READ, LdapSettings.Access.READ_ONLY),
                null, "homeDirectory", null, Duration.ofSeconds(2), Duration.ofSeconds(2), 4, Duration.ZERO);
    }

    private LdapAccounts accounts(LdapSettings s) throws Exception {
        Files.createDirectories(dir.resolve("root"));
        LdapAccounts a = LdapAccounts.open(s, dir.resolve("root"), Anonymous.OFF, "test");
        open.add(a);
        return a;
    }

    /** Passwords in clear over a network are allowed (a trusted LAN) but said at start; a loopback directory is not. */
    @Test
    void aDirectoryReachedWithoutTlsOverTheNetworkIsWarnedAboutOnce() throws Exception {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("ferry.server");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
                new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            // no connection is made at open (the pool starts empty): 192.0.2.1 (TEST-NET-1) is never dialled
            accounts(settings(List.of("ldap://127.0.0.1:1", "ldaps://192.0.2.1", "ldap://[::1]:1")));
            assertThat(lines.list).noneMatch(e -> e.getFormattedMessage().contains("ldap-cleartext"));
            accounts(settings(List.of("ldap://192.0.2.1")));
            assertThat(lines.list).filteredOn(e -> e.getFormattedMessage().contains("event=ldap-cleartext"))
                    .hasSize(1).allMatch(e -> e.getFormattedMessage().contains("192.0.2.1"));
        } finally {
            logger.detachAppender(lines);
        }
    }

    private static LoginResult login(LdapAccounts a, String user, String password) {
        return a.login(user, password.toCharArray(), LOOPBACK);
    }

    @Test
    void searchThenBindGivesTheGroupsAccessAndTheHomeBelowTheRoot() throws Exception {
        MemoryDirectory d = directory();
        LdapAccounts a = accounts(settings(List.of(d.url())));

        LoginResult alice = login(a, "alice", "alice-pw");
        assertThat(alice).isInstanceOf(LoginResult.Success.class);
        LoginResult.Success ok = (LoginResult.Success) alice;
        assertThat(ok.writable()).isTrue();
        assertThat(ok.home()).isEqualTo(dir.resolve("root/home/alice").toAbsolutePath().normalize());

        LoginResult.Success bob = (LoginResult.Success) login(a, "bob", "bob-pw");
        assertThat(bob.writable()).isFalse();
        assertThat(bob.home()).isEqualTo(dir.resolve("root").toAbsolutePath().normalize());
    }

    @Test
    void wrongPasswordsUnknownNamesAndEmptyPasswordsAreOrdinaryFailures() throws Exception {
        MemoryDirectory d = directory();
        LdapAccounts a = accounts(settings(List.of(d.url())));
        assertThat(login(a, "alice", "nope")).isEqualTo(new LoginResult.Failure("alice", Reason.BAD_PASSWORD));
        assertThat(login(a, "mallory", "x")).isEqualTo(new LoginResult.Failure("mallory", Reason.UNKNOWN_USER));
        // RFC 4513 §5.1.2: an empty password would be an unauthenticated bind, which directories often accept.
        assertThat(login(a, "alice", "")).isEqualTo(new LoginResult.Failure("alice", Reason.BAD_PASSWORD));
    }

    @Test
    void filterMetacharactersInTheNameMatchOnlyThemselves() throws Exception {
        MemoryDirectory d = directory();
        LdapAccounts a = accounts(settings(List.of(d.url())));
        // Unescaped, (uid=*) would find every entry (refused as ambiguous) and (uid=a*) alice.
        assertThat(login(a, "*", "alice-pw")).isEqualTo(new LoginResult.Failure("*", Reason.UNKNOWN_USER));
        assertThat(login(a, "a*", "alice-pw")).isEqualTo(new LoginResult.Failure("a*", Reason.UNKNOWN_USER));
        assertThat(login(a, "alice)(uid=*", "alice-pw")).isInstanceOf(LoginResult.Failure.class);
        assertThat(login(a, "x*", "x*-pw")).isInstanceOf(LoginResult.Success.class);
    }

    @Test
    void aUserInNoMappedGroupIsRefusedUnlessADefaultAccessIsSet() throws Exception {
        MemoryDirectory d = directory();
        LdapSettings s = settings(List.of(d.url()));
        assertThat(login(accounts(s), "carol", "carol-pw")).isEqualTo(new LoginResult.Failure("carol", Reason.DISABLED));
        LdapSettings withDefault = new LdapSettings(s.urls(), false, null, s.bindDn(), s.bindPasswordFile(), s.baseDn(),
                s.userFilter(), null, s.groupFilter(), s.groupAttribute(), s.groups(), LdapSettings.Access.READ_ONLY,
                s.homeAttribute(), null, s.connectTimeout(), s.responseTimeout(), 2, Duration.ZERO);
        LoginResult carol = login(accounts(withDefault), "carol", "carol-pw");
        assertThat(carol).isInstanceOf(LoginResult.Success.class);
        assertThat(((LoginResult.Success) carol).writable()).isFalse();
    }

    @Test
    void groupsFoundByASearchGiveTheirAccessToo() throws Exception {
        MemoryDirectory d = directory();
        LdapSettings s = settings(List.of(d.url()));
        LdapSettings search = new LdapSettings(s.urls(), false, null, s.bindDn(), s.bindPasswordFile(), s.baseDn(),
                s.userFilter(), MemoryDirectory.GROUPS, "(&(objectClass=groupOfNames)(member={dn}))", "ignored-attribute",
                s.groups(), null, null, "{user}", s.connectTimeout(), s.responseTimeout(), 2, Duration.ZERO);
        LdapAccounts a = accounts(search);
        LoginResult.Success alice = (LoginResult.Success) login(a, "alice", "alice-pw");
        assertThat(alice.writable()).isTrue();
        assertThat(alice.home()).isEqualTo(dir.resolve("root/alice").toAbsolutePath().normalize());
        assertThat(((LoginResult.Success) login(a, "bob", "bob-pw")).writable()).isFalse();
        assertThat(login(a, "carol", "carol-pw")).isEqualTo(new LoginResult.Failure("carol", Reason.DISABLED));
    }

    @Test
    void theAccountIsTheEntrysSpellingOfTheName() throws Exception {
        MemoryDirectory d = directory();
        LdapAccounts a = accounts(settings(List.of(d.url())));
        // uid matches without regard to case; ALICE must not be a second user beside alice (session limits, quotas).
        LoginResult upper = login(a, "ALICE", "alice-pw");
        assertThat(upper).isInstanceOf(LoginResult.Success.class);
        assertThat(((LoginResult.Success) upper).user()).isEqualTo("alice");
    }

    /** USER keeps leading spaces; the directory ignores them (RFC 4518 §2.6.1): still alice, with alice's home. */
    @Test
    void aNameTheDirectoryMatchesLooselyIsTheEntrysName() throws Exception {
        MemoryDirectory d = directory();
        LdapSettings s = settings(List.of(d.url()));
        LdapAccounts a = accounts(new LdapSettings(s.urls(), false, null, s.bindDn(), s.bindPasswordFile(), s.baseDn(),
                s.userFilter(), null, s.groupFilter(), s.groupAttribute(), s.groups(), null, null, "{user}",
                s.connectTimeout(), s.responseTimeout(), 2, Duration.ZERO));
        LoginResult spaced = login(a, "  alice", "alice-pw");
        assertThat(spaced).isInstanceOf(LoginResult.Success.class);
        assertThat(((LoginResult.Success) spaced).user()).isEqualTo("alice");
        assertThat(((LoginResult.Success) spaced).home()).isEqualTo(dir.resolve("root/alice").toAbsolutePath().normalize());
    }

    @Test
    void aHomeAttributeLeadingOutOfTheRootIsRefused() throws Exception {
        MemoryDirectory d = directory();
        LdapAccounts a = accounts(settings(List.of(d.url())));
        assertThat(login(a, "eve", "eve-pw")).isEqualTo(new LoginResult.Failure("eve", Reason.DISABLED));
    }

    @Test
    void aDeadFirstServerFailsOverToTheSecond() throws Exception {
        MemoryDirectory d = directory();
        String dead = "ldap://127.0.0.2:" + closedPort(InetAddress.getByName("127.0.0.2"));
        LdapAccounts a = accounts(settings(List.of(dead, d.url())));
        assertThat(login(a, "alice", "alice-pw")).isInstanceOf(LoginResult.Success.class);
        assertThat(login(a, "alice", "wrong")).isEqualTo(new LoginResult.Failure("alice", Reason.BAD_PASSWORD));
    }

    @Test
    void noDirectoryAnsweringIsUnavailableNotAWrongPassword() throws Exception {
        MemoryDirectory d = directory();
        LdapAccounts a = accounts(settings(List.of(d.url())));
        assertThat(login(a, "alice", "alice-pw")).isInstanceOf(LoginResult.Success.class);
        d.close();
        long start = System.nanoTime();
        assertThat(login(a, "alice", "alice-pw")).isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
        assertThat(login(a, "bob", "bob-pw")).isEqualTo(new LoginResult.Failure("bob", Reason.UNAVAILABLE));
        // A refused connection is known at once: no login waits for a timeout then.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aDirectoryDownAtStartIsNoErrorAndLoginsWorkOnceItAnswers() throws Exception {
        InetAddress address = InetAddress.getByName("127.0.0.3");
        int port = closedPort(address);
        LdapAccounts a = accounts(settings(List.of("ldap://127.0.0.3:" + port)));
        assertThat(login(a, "alice", "alice-pw")).isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
    }

    @Test
    void aRememberedLoginIsAnsweredWithoutTheDirectoryButAWrongPasswordNeverIs() throws Exception {
        MemoryDirectory d = directory();
        LdapSettings s = settings(List.of(d.url()));
        LdapSettings cached = new LdapSettings(s.urls(), false, null, s.bindDn(), s.bindPasswordFile(), s.baseDn(),
                s.userFilter(), null, s.groupFilter(), s.groupAttribute(), s.groups(), null, s.homeAttribute(), null,
                s.connectTimeout(), s.responseTimeout(), 2, Duration.ofMinutes(5));
        LdapAccounts a = accounts(cached);
        LoginResult first = login(a, "alice", "alice-pw");
        assertThat(first).isInstanceOf(LoginResult.Success.class);
        d.close();
        assertThat(login(a, "alice", "alice-pw")).isEqualTo(first);
        assertThat(login(a, "alice", "alice-pw2")).isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
    }

    @Test
    void startTlsWithTheCaFileChecksTheCertificateAndItsAddress() throws Exception {
        TestCa ca = new TestCa("Test LDAP CA");
        MemoryDirectory d = new MemoryDirectory(LOOPBACK, ca.server(LOOPBACK).context());
        open.add(d);
        LdapSettings s = settings(List.of(d.url()));
        Path caFile = ca.writeCa(dir.resolve("ca.pem"));
        LdapAccounts a = accounts(tls(s, true, caFile));
        assertThat(login(a, "alice", "alice-pw")).isInstanceOf(LoginResult.Success.class);

        // Another CA's certificate is not trusted: the directory cannot be asked.
        Path otherCa = new TestCa("Other CA").writeCa(dir.resolve("other.pem"));
        assertThat(login(accounts(tls(s, true, otherCa)), "alice", "alice-pw"))
                .isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
    }

    @Test
    void ldapsWithTheCaFile() throws Exception {
        TestCa ca = new TestCa("Test LDAP CA");
        MemoryDirectory d = new MemoryDirectory(LOOPBACK, ca.server(LOOPBACK).context(), true);
        open.add(d);
        assertThat(d.url()).startsWith("ldaps://");
        LdapAccounts a = accounts(tls(settings(List.of(d.url())), false, ca.writeCa(dir.resolve("ca.pem"))));
        assertThat(login(a, "alice", "alice-pw")).isInstanceOf(LoginResult.Success.class);
        assertThat(login(a, "alice", "nope")).isEqualTo(new LoginResult.Failure("alice", Reason.BAD_PASSWORD));
    }

    @Test
    void aCertificateForAnotherAddressIsRefused() throws Exception {
        TestCa ca = new TestCa("Test LDAP CA");
        // Signed by the trusted CA, but for 127.0.0.9: whoever holds it is not the directory at 127.0.0.1.
        MemoryDirectory d = new MemoryDirectory(LOOPBACK, ca.server(InetAddress.getByName("127.0.0.9")).context());
        open.add(d);
        LdapAccounts a = accounts(tls(settings(List.of(d.url())), true, ca.writeCa(dir.resolve("ca.pem"))));
        assertThat(login(a, "alice", "alice-pw")).isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
        MemoryDirectory ldaps = new MemoryDirectory(LOOPBACK, ca.server(InetAddress.getByName("127.0.0.9")).context(), true);
        open.add(ldaps);
        LdapAccounts overLdaps = accounts(tls(settings(List.of(ldaps.url())), false, ca.writeCa(dir.resolve("ca.pem"))));
        assertThat(login(overLdaps, "alice", "alice-pw")).isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
    }

    /** Logins per second against the in-memory directory, cache off and on; bounded in count and time. */
    @Test
    void loginRate() throws Exception {
        MemoryDirectory d = directory();
        LdapSettings s = settings(List.of(d.url()));
        LdapSettings cached = new LdapSettings(s.urls(), false, null, s.bindDn(), s.bindPasswordFile(), s.baseDn(),
                s.userFilter(), null, s.groupFilter(), s.groupAttribute(), s.groups(), null, s.homeAttribute(), null,
                s.connectTimeout(), s.responseTimeout(), 4, Duration.ofMinutes(5));
        for (LdapSettings each : List.of(s, cached)) {
            LdapAccounts a = accounts(each);
            int n = 0;
            long start = System.nanoTime();
            long deadline = start + Duration.ofSeconds(2).toNanos();
            while (n < 5_000 && System.nanoTime() < deadline) {
                assertThat(login(a, "alice", "alice-pw")).isInstanceOf(LoginResult.Success.class);
                n++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("ldap login rate (cache %s): %d logins in %.2f s = %.0f/s%n",
                    each.cacheTtl().isZero() ? "off" : "on", n, seconds, n / seconds);
            assertThat(n).isPositive();
        }
    }

    private static LdapSettings tls(LdapSettings s, boolean startTls, Path caFile) {
        return new LdapSettings(s.urls(), startTls, caFile, s.bindDn(), s.bindPasswordFile(), s.baseDn(), s.userFilter(),
                s.groupBaseDn(), s.groupFilter(), s.groupAttribute(), s.groups(), s.defaultAccess(), s.homeAttribute(),
                s.homeTemplate(), s.connectTimeout(), s.responseTimeout(), s.poolSize(), s.cacheTtl());
    }

    /** A port on {@code address} that nothing listens on (it was bound a moment ago and released). */
    static int closedPort(InetAddress address) throws Exception {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(address, 0));
            return s.getLocalPort();
        }
    }

}
