package dev.ferry.server.fs;

import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The object-store provider of ferry-server's tests (registered in src/test/resources/META-INF/services), which
 * have no S3 client: a bucket named {@code fake-...} opens as a {@link RecordingEngine}; any other is refused as
 * a missing bucket is, so the start's and the reload's handling of a store that cannot be used can be tested.
 */
public final class TestStoreProvider implements StorageEngine.Provider {

    /** Every engine opened, in order; tests clear it first. */
    public static final List<RecordingEngine> OPENED = new CopyOnWriteArrayList<>();

    @Override
    public StorageEngine open(ObjectStore store, ServerSettings settings) throws IOException {
        if (!store.bucket().startsWith("fake-")) {
            throw new IOException("storage " + store.url() + " cannot be used: the bucket does not exist");
        }
        RecordingEngine engine = new RecordingEngine(store.url());
        OPENED.add(engine);
        return engine;
    }
}
