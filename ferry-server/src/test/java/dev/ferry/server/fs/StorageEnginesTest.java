package dev.ferry.server.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.ServerSettings.UserAccount;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which engine an account's storage picks, and when engines are opened and closed: one per distinct store, each
 * opened once (at start, or at the reload that brings it), all or nothing, all closed at stop. The engines are
 * fakes ({@link RecordingEngine}): ferry-server has no S3 client.
 */
class StorageEnginesTest {

    private static final ObjectStore SERVER = ObjectStore.parseUrl("s3://ferry/srv");
    private static final ObjectStore OTHER = ObjectStore.parseUrl("s3://other/bob");
    private static final ObjectStore THIRD = ObjectStore.parseUrl("s3://third");

    @TempDir
    Path dir;

    private final Map<ObjectStore, RecordingEngine> opened = new LinkedHashMap<>();
    private final List<ObjectStore> refused = new ArrayList<>();

    private StorageEngine open(ObjectStore store) throws IOException {
        if (refused.contains(store)) {
            throw new IOException("storage " + store.url() + " cannot be used: the bucket does not exist");
        }
        RecordingEngine engine = new RecordingEngine(store.url());
        opened.merge(store, engine, (a, b) -> {
            throw new AssertionError(store.url() + " opened twice");
        });
        return engine;
    }

    private StorageEngines onObjectStore(RecordingEngine server, RecordingEngine local) {
        return new StorageEngines(SERVER, server, local, this::open);
    }

    private static UserAccount user(String name, StorageOverride storage) {
        return new UserAccount(name, "$argon2id$unused", null, true, true, null, storage);
    }

    @Test
    void eachAccountGetsTheEngineOfItsStorage() throws IOException {
        RecordingEngine server = new RecordingEngine("server");
        RecordingEngine local = new RecordingEngine("local");
        try (StorageEngines engines = onObjectStore(server, local)) {
            engines.openFor(List.of(user("alice", null), user("bob", StorageOverride.of(OTHER)),
                    user("carol", StorageOverride.LOCAL), user("dave", StorageOverride.of(SERVER))));

            assertThat(engines.forAccount(null)).as("no storage of its own: the server's").isSameAs(server);
            assertThat(engines.forAccount(StorageOverride.LOCAL)).isSameAs(local);
            assertThat(engines.forAccount(StorageOverride.of(SERVER))).as("its own store is the server's").isSameAs(server);
            assertThat(engines.forAccount(StorageOverride.of(OTHER))).isSameAs(opened.get(OTHER));
            assertThat(opened).as("only the store no other engine serves was opened").containsOnlyKeys(OTHER);
        }
    }

    @Test
    void accountsOnTheSameStoreShareOneEngine() throws IOException {
        try (StorageEngines engines = onObjectStore(new RecordingEngine("server"), new RecordingEngine("local"))) {
            engines.openFor(List.of(user("bob", StorageOverride.of(OTHER)), user("erin", StorageOverride.of(OTHER))));
            engines.openFor(List.of(user("bob", StorageOverride.of(OTHER))));

            assertThat(opened).containsOnlyKeys(OTHER);
            assertThat(engines.otherStores()).containsExactly(OTHER);
        }
    }

    @Test
    void aStoreThatCannotBeOpenedNamesTheAccountAndLeavesNothingOpen() throws IOException {
        refused.add(THIRD);
        try (StorageEngines engines = onObjectStore(new RecordingEngine("server"), new RecordingEngine("local"))) {
            assertThatThrownBy(() -> engines.openFor(List.of(user("bob", StorageOverride.of(OTHER)),
                    user("frank", StorageOverride.of(THIRD)))))
                    .isInstanceOf(IOException.class)
                    .hasMessage("user frank: storage s3://third cannot be used: the bucket does not exist");

            assertThat(opened.get(OTHER).closed).as("opened by the failed call, so closed again").isTrue();
            assertThat(engines.otherStores()).isEmpty();
            assertThatThrownBy(() -> engines.forAccount(StorageOverride.of(OTHER))).isInstanceOf(IOException.class)
                    .hasMessageContaining("s3://other/bob is not open");
        }
    }

    @Test
    void aReloadOpensOnlyTheStoresNewAccountsBring() throws IOException {
        try (StorageEngines engines = onObjectStore(new RecordingEngine("server"), new RecordingEngine("local"))) {
            assertThat(engines.openFor(List.of(user("bob", StorageOverride.of(OTHER))))).containsExactly(OTHER);
            RecordingEngine bobs = opened.get(OTHER);

            List<ObjectStore> now = engines.openFor(List.of(user("bob", StorageOverride.of(OTHER)),
                    user("frank", StorageOverride.of(THIRD))));

            assertThat(now).containsExactly(THIRD);
            assertThat(engines.forAccount(StorageOverride.of(OTHER))).isSameAs(bobs);
            assertThat(bobs.closed).isFalse();
        }
    }

    @Test
    void closingClosesEveryEngine() throws IOException {
        RecordingEngine server = new RecordingEngine("server");
        RecordingEngine local = new RecordingEngine("local");
        StorageEngines engines = onObjectStore(server, local);
        engines.openFor(List.of(user("bob", StorageOverride.of(OTHER))));

        engines.close();

        assertThat(server.closed).isTrue();
        assertThat(local.closed).isTrue();
        assertThat(opened.get(OTHER).closed).isTrue();
    }

    @Test
    void aLocalServerServesStorageLocalFromItsOwnEngine() throws IOException {
        ServerSettings settings = ServerSettings.defaults(dir)
                .withUsers(List.of(user("carol", StorageOverride.LOCAL)), null);
        try (StorageEngines engines = StorageEngines.open(settings)) {
            assertThat(engines.forAccount(StorageOverride.LOCAL)).isSameAs(engines.server());
            assertThat(engines.server()).isInstanceOf(HomeStorage.class);
        }
    }

    @Test
    void aStoreTheProviderRefusesStopsTheOpeningNamingTheAccount() {
        // TestStoreProvider (this module's test provider) refuses every bucket but fake-*.
        ServerSettings settings = ServerSettings.defaults(dir)
                .withUsers(List.of(user("bob", StorageOverride.of(OTHER))), null);

        assertThatThrownBy(() -> StorageEngines.open(settings)).isInstanceOf(IOException.class)
                .hasMessage("user bob: storage s3://other/bob cannot be used: the bucket does not exist");
    }
}
