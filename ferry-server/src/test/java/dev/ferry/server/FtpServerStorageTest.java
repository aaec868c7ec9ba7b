package dev.ferry.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.RecordingEngine;
import dev.ferry.server.fs.StorageOverride;
import dev.ferry.server.fs.TestStoreProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The server's storage engines over its life: every account's own store opened and checked at start (a store that
 * cannot be used stops the start, naming the account), a reload opening the store a new account brings or being
 * refused as a whole, all closed at stop. The stores are {@link TestStoreProvider}'s fakes.
 */
@Timeout(30)
class FtpServerStorageTest {

    private static final String PASSWORD = "pw";
    private static final String HASH = PasswordHasher.hash(PASSWORD.toCharArray(), 8, 1, 1);
    private static final ObjectStore FAKE_A = ObjectStore.parseUrl("s3://fake-a");
    private static final ObjectStore FAKE_B = ObjectStore.parseUrl("s3://fake-b/x");

    @TempDir
    Path root;

    @BeforeEach
    void clear() {
        TestStoreProvider.OPENED.clear();
    }

    private ServerSettings settings(UserAccount... users) {
        return ServerSettings.defaults(root).withListen(new InetSocketAddress("127.0.0.1", 0))
                .withTls(ServerSettings.Tls.DEFAULTS.withEnabled(false))
                .withUsers(List.of(users), null);
    }

    private static UserAccount user(String name, ObjectStore store) {
        return new UserAccount(name, HASH, Path.of(name), true, true, null, store == null ? null : StorageOverride.of(store));
    }

    @Test
    void everyAccountsStoreIsOpenedOnceAtStartAndClosedAtStop() throws Exception {
        FtpServer server = FtpServer.start(settings(user("alice", null), user("bob", FAKE_A), user("erin", FAKE_A),
                user("carol", FAKE_B)));
        List<RecordingEngine> opened;
        try {
            assertThat(server.context().storage().otherStores()).containsExactlyInAnyOrder(FAKE_A, FAKE_B);
            opened = List.copyOf(TestStoreProvider.OPENED);
            assertThat(opened).extracting(RecordingEngine::describe).containsExactlyInAnyOrder("s3://fake-a", "s3://fake-b/x");
        } finally {
            server.close();
        }
        assertThat(opened).allMatch(e -> e.closed);
    }

    @Test
    void aStoreThatCannotBeUsedStopsTheStartNamingTheAccountAndLeavesNothingOpen() {
        assertThatThrownBy(() -> FtpServer.start(settings(user("bob", FAKE_A), user("dave", ObjectStore.parseUrl("s3://missing")))))
                .isInstanceOf(IOException.class)
                .hasMessage("user dave: storage s3://missing cannot be used: the bucket does not exist");
        assertThat(TestStoreProvider.OPENED).allMatch(e -> e.closed);
    }

    @Test
    void aReloadOpensTheStoreANewAccountBringsOrIsRefusedAsAWhole() throws Exception {
        FtpServer server = FtpServer.start(settings(user("alice", null)));
        try {
            List<String> restart = server.reload(settings(user("alice", null), user("bob", FAKE_A)));

            assertThat(restart).isEmpty();
            assertThat(server.context().storage().otherStores()).containsExactly(FAKE_A);
            LoginResult bob = server.context().authenticator().login("bob", PASSWORD.toCharArray(), java.net.InetAddress.getLoopbackAddress());
            assertThat(bob).isInstanceOfSatisfying(LoginResult.Success.class,
                    ok -> assertThat(ok.storage()).isEqualTo(StorageOverride.of(FAKE_A)));

            assertThatThrownBy(() -> server.reload(settings(user("alice", null), user("bob", FAKE_A),
                    user("carol", FAKE_B), user("dave", ObjectStore.parseUrl("s3://missing")))))
                    .isInstanceOf(IOException.class).hasMessageStartingWith("user dave: storage s3://missing");

            assertThat(server.context().authenticator().login("carol", PASSWORD.toCharArray(), java.net.InetAddress.getLoopbackAddress()))
                    .as("the refused reload changed no account").isInstanceOf(LoginResult.Failure.class);
            assertThat(server.context().storage().otherStores()).as("nor left a store open").containsExactly(FAKE_A);
            assertThat(TestStoreProvider.OPENED.getLast().describe()).isEqualTo("s3://fake-b/x");
            assertThat(TestStoreProvider.OPENED.getLast().closed).isTrue();
        } finally {
            server.close();
        }
    }

    @Test
    void aServerOnAnObjectStoreNeedsNoRootDirectoryAndSaysWhereItsFilesAre() throws Exception {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("ferry.server");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        Level level = log.getLevel();
        log.setLevel(Level.INFO);
        log.addAppender(events);
        FtpServer server = FtpServer.start(settings(user("alice", null))
                .withRoot(root.resolve("no-such-directory")).withObjectStore(ObjectStore.parseUrl("s3://fake-srv/ftp")));
        try {
            assertThat(server.context().homes().describe()).isEqualTo("s3://fake-srv/ftp");
            assertThat(server.awaitStaleUploadSweep(java.time.Duration.ofSeconds(5))).isTrue();
        } finally {
            server.close();
            log.detachAppender(events);
            log.setLevel(level);
        }
        assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(line -> line.contains("event=listening") && line.contains("storage=s3://fake-srv/ftp"))
                .noneMatch(line -> line.contains("event=home-missing"))
                .noneMatch(line -> line.contains("stale-uploads-swept"));
    }

    @Test
    void onlyLocalHomesAreWarnedAbout() {
        ObjectStore store = ObjectStore.parseUrl("s3://fake-srv");
        List<UserAccount> users = List.of(
                new UserAccount("alice", HASH, root.resolve("alice"), true, true),
                new UserAccount("carol", HASH, root.resolve("carol"), true, true, null, StorageOverride.LOCAL));

        List<String> problems = FtpServer.warnAboutHomes(new EventLog(LoggerFactory.getLogger("ferry.server"), "s1"), users, store);

        assertThat(problems).containsExactly("carol " + root.resolve("carol") + " missing");
    }
}
