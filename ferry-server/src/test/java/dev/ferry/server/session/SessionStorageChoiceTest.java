package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.RecordingEngine;
import dev.ferry.server.fs.StorageEngines;
import dev.ferry.server.fs.StorageOverride;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The login picks the engine of the account's own storage: the server's for an account without one, the other
 * store's for an account on another bucket, the local one for {@code storage: local}; MFMT follows the account's
 * engine. The "object stores" are {@link RecordingEngine}s over local directories.
 */
@Timeout(20)
class SessionStorageChoiceTest {

    private static final ObjectStore SERVER_STORE = ObjectStore.parseUrl("s3://ferry/srv");
    private static final ObjectStore BOBS_STORE = ObjectStore.parseUrl("s3://other/bob");

    @TempDir
    Path dir;

    private InMemoryServer server;
    private final RecordingEngine serverEngine = new RecordingEngine("server");
    private final RecordingEngine localEngine = new RecordingEngine("local");
    private final RecordingEngine bobsEngine = new RecordingEngine("bob's");

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    private ControlClient loggedIn(String user) throws Exception {
        Path alice = Files.createDirectories(dir.resolve("alice"));
        Path bob = Files.createDirectories(dir.resolve("bob"));
        Path carol = Files.createDirectories(dir.resolve("carol"));
        List<UserAccount> users = List.of(
                new UserAccount("alice", InMemoryServer.HASH, alice, true, true, null, null),
                new UserAccount("bob", InMemoryServer.HASH, bob, true, true, null, StorageOverride.of(BOBS_STORE)),
                new UserAccount("carol", InMemoryServer.HASH, carol, true, true, null, StorageOverride.LOCAL),
                new UserAccount("dave", InMemoryServer.HASH, dir.resolve("dave"), true, true, null,
                        StorageOverride.of(ObjectStore.parseUrl("s3://never-opened"))));
        ServerSettings settings = InMemoryServer.settings(dir).withUsers(users, null).withObjectStore(SERVER_STORE);
        StorageEngines engines = new StorageEngines(SERVER_STORE, serverEngine, localEngine, store -> {
            assertThat(store).isEqualTo(BOBS_STORE);
            return bobsEngine;
        });
        engines.openFor(users.subList(0, 3));
        server = new InMemoryServer(settings, engines);
        ControlClient c = server.greeted();
        c.login(user, InMemoryServer.PASSWORD);
        return c;
    }

    @Test
    void anAccountWithoutStorageOfItsOwnUsesTheServersEngine() throws Exception {
        ControlClient c = loggedIn("alice");

        assertThat(c.command("MKD made")).startsWith("257 ");
        assertThat(serverEngine.homes).containsExactly(dir.resolve("alice"));
        assertThat(bobsEngine.homes).isEmpty();
        assertThat(dir.resolve("alice/made")).isDirectory();
    }

    @Test
    void anAccountOnAnotherStoreUsesThatStoresEngine() throws Exception {
        ControlClient c = loggedIn("bob");

        assertThat(c.command("MKD made")).startsWith("257 ");
        assertThat(bobsEngine.homes).containsExactly(dir.resolve("bob"));
        assertThat(serverEngine.homes).isEmpty();
        assertThat(c.command("MFMT 20200101000000 made"))
                .as("an object store keeps no times: MFMT asks the account's engine")
                .startsWith("502 ");
    }

    @Test
    void anAccountWithLocalFilesOnAnObjectStoreServerUsesTheLocalEngine() throws Exception {
        ControlClient c = loggedIn("carol");

        assertThat(c.command("MKD made")).startsWith("257 ");
        assertThat(localEngine.homes).containsExactly(dir.resolve("carol"));
        assertThat(serverEngine.homes).isEmpty();
    }

    @Test
    void anAccountWhoseStoreIsNotOpenCannotLogIn() throws Exception {
        loggedIn("alice");
        ControlClient c = server.greeted();

        assertThat(c.command("USER dave")).startsWith("331 ");
        assertThat(c.command("PASS " + InMemoryServer.PASSWORD)).isEqualTo("530 Login failed: home directory unavailable.");
    }
}
