package dev.ferry.storage.s3;

import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.log.NodeName;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.StorageEngine;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;

/**
 * A server's files on an S3-compatible object store: one client (one connection pool) for the whole server,
 * one {@link S3Storage} per home (a key prefix, {@link ObjectStore#homePrefix}), and one {@link UploadBudget}
 * shared by every upload, so that the memory all uploads buffer is bounded per server.
 *
 * <p>Opened at start by {@link Provider} (found through {@link java.util.ServiceLoader}), which checks the
 * bucket before the server binds: a wrong endpoint, bucket or credential stops the start with a message that
 * names the setting to change (never the credential).
 */
public final class S3Engine implements StorageEngine {

    private final ObjectStore store;
    private final Path root;
    private final S3Client client;
    private final UploadBudget budget;
    private final EventLog log;
    private final ConcurrentHashMap<String, Storage> byPrefix = new ConcurrentHashMap<>();

    S3Engine(ObjectStore store, Path root, S3Client client, String node) {
        this.store = store;
        this.root = root;
        this.client = client;
        this.budget = new UploadBudget(store.uploadMemory());
        this.log = new EventLog(LoggerFactory.getLogger("ferry.storage"), node);
    }

    /** {@link #open(ObjectStore, Path, String)} with the host name as the logs' node. */
    public static S3Engine open(ObjectStore store, Path root) throws IOException {
        return open(store, root, NodeName.local());
    }

    /**
     * Opens the store: builds the client and checks the bucket (HeadBucket), see {@link StoreCheck}. The storage
     * events (an upload cancelled or left behind) are logged with {@code node}, as the server's own are.
     */
    public static S3Engine open(ObjectStore store, Path root, String node) throws IOException {
        S3Client client = S3Clients.build(store);
        try {
            StoreCheck.headBucket(client, store);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        return new S3Engine(store, root, client, node);
    }

    @Override
    public Storage forHome(Path home) throws IOException {
        String prefix;
        try {
            prefix = store.homePrefix(root, home);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        return byPrefix.computeIfAbsent(prefix, p -> new S3Storage(client, store, p, budget, log));
    }

    /** An object store has no file modes: what the upload directory receives is private to the bucket anyway. */
    @Override
    public Storage forPrivateUploads(Path home) throws IOException {
        return forHome(home);
    }

    /** An object's time is its last upload's; S3 has no call to change it (FEAT leaves MFMT out). */
    @Override
    public boolean keepsModificationTimes() {
        return false;
    }

    @Override
    public String describe() {
        return store.url();
    }

    public S3Client client() {
        return client;
    }

    public UploadBudget budget() {
        return budget;
    }

    /** The storage events' log, tagged with the server's node. */
    public EventLog log() {
        return log;
    }

    @Override
    public void close() {
        client.close();
    }

    /** The {@link java.util.ServiceLoader} entry: {@code META-INF/services/dev.ferry.server.fs.StorageEngine$Provider}. */
    public static final class Provider implements StorageEngine.Provider {
        @Override
        public StorageEngine open(ObjectStore store, ServerSettings settings) throws IOException {
            return S3Engine.open(store, settings.root(), settings.node());
        }
    }

    static HeadBucketRequest headBucket(ObjectStore store) {
        return HeadBucketRequest.builder().bucket(store.bucket()).build();
    }
}
