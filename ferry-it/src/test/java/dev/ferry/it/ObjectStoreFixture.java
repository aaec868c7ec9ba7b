package dev.ferry.it;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.testkit.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.jclouds.blobstore.BlobStore;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The S3 service behind {@link Shape#OBJECT_STORE}: one S3Proxy per test JVM on 127.0.0.7 (its own address, so
 * the store's traffic is never mistaken for the FTP client's), storing bucket {@value S3ProxyServer#BUCKET} as
 * files ({@link S3ProxyServer#onDisk}); started by the first test that needs it and stopped when the run ends.
 *
 * <p>Each test gets its own key prefix ({@code it-N}), so tests never see each other's objects, and its root is
 * that prefix's directory in the bucket directory: the tests put fixture files in place and read uploads back with
 * java.nio exactly as on local storage, while the server only reaches them over S3.
 *
 * <p>The root is made as a directory object ({@code it-N/}, which S3Proxy's filesystem store marks with extended
 * attributes): deleting the last object of a prefix makes the store remove the emptied directories up the key, as
 * a prefix vanishes on S3, and a marked directory is the one it keeps. Without it a test that deletes its last
 * file would find its root gone.
 */
final class ObjectStoreFixture implements ExtensionContext.Store.CloseableResource {

    /** Not 127.0.0.1 (the clients), nor 127.0.0.2-5 ({@link Shape#BALANCED}). */
    static final String HOST = "127.0.0.7";

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ObjectStoreFixture.class);

    private final Path base;
    private final S3ProxyServer s3;
    private final BlobStore blobs;
    private final Path credentials;
    private final AtomicInteger roots = new AtomicInteger();

    private ObjectStoreFixture(Path base, S3ProxyServer s3, Path credentials) {
        this.base = base;
        this.s3 = s3;
        this.blobs = s3.blobStore();
        this.credentials = credentials;
    }

    /** The run's fixture, started on first use; JUnit closes it when the whole run ends. */
    static ObjectStoreFixture shared(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(ObjectStoreFixture.class, k -> start(), ObjectStoreFixture.class);
    }

    private static ObjectStoreFixture start() {
        try {
            Path base = Files.createTempDirectory("ferry-it-s3-");
            // The keys go through a profile file, as an operator's would (ObjectStore.credentialsFile), not the
            // environment of the JVM, which the other tests share.
            Path credentials = Files.writeString(base.resolve("credentials"), "[default]\naws_access_key_id = "
                    + S3ProxyServer.ACCESS_KEY + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
            return new ObjectStoreFixture(base, S3ProxyServer.onDisk(HOST, 0, base.resolve("store")), credentials);
        } catch (Exception e) {
            throw new IllegalStateException("S3Proxy could not start on " + HOST + ": " + e.getMessage(), e);
        }
    }

    private Path bucketDirectory() {
        return s3.bucketDirectory();
    }

    /** A new, empty prefix for one test: its directory, which the server serves as "/" ({@link #storeFor}). */
    Path newRoot() throws IOException {
        String prefix = "it-" + roots.incrementAndGet();
        blobs.putBlob(S3ProxyServer.BUCKET, blobs.blobBuilder(prefix + "/").payload(new byte[0]).build());
        Path root = bucketDirectory().resolve(prefix);
        if (!Files.isDirectory(root)) {
            throw new IOException("S3Proxy did not make " + root + " for the directory object " + prefix + "/");
        }
        return root;
    }

    /** The store for a root made by {@link #newRoot}: its prefix, over path-style requests to S3Proxy. */
    ObjectStore storeFor(Path root) {
        String prefix = bucketDirectory().relativize(root).toString();
        return ObjectStore.parseUrl("s3://" + S3ProxyServer.BUCKET + "/" + prefix)
                .withEndpoint(s3.endpoint())
                .withPathStyle(true)
                .withCredentialsFile(credentials);
    }

    @Override
    public void close() throws Throwable {
        try {
            s3.close();
        } finally {
            FerryServerExtension.deleteTree(base);
        }
    }
}
