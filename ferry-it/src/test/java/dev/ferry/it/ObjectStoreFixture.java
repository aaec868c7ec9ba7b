package dev.ferry.it;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.testkit.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.BlobMetadata;
import org.jclouds.blobstore.domain.PageSet;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.domain.internal.MutableBlobMetadataImpl;
import org.jclouds.blobstore.domain.internal.PageSetImpl;
import org.jclouds.blobstore.options.ListContainerOptions;
import org.jclouds.blobstore.util.ForwardingBlobStore;
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
 * <p>It is {@link S3ProxyServer#onDisk} with one correction ({@link S3Listings}): the filesystem store does not
 * list an empty directory's own marker under its prefix, where S3 does. The rest is that class's setup.
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
    private final BlobStoreContext context;
    private final BlobStore blobs;
    private final S3Proxy proxy;
    private final URI endpoint;
    private final Path credentials;
    private final AtomicInteger roots = new AtomicInteger();

    private ObjectStoreFixture(Path base, BlobStoreContext context, BlobStore blobs, S3Proxy proxy, Path credentials) {
        this.base = base;
        this.context = context;
        this.blobs = blobs;
        this.proxy = proxy;
        this.endpoint = URI.create("http://" + HOST + ":" + proxy.getPort());
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
            Properties overrides = new Properties();
            overrides.setProperty("jclouds.filesystem.basedir", Files.createDirectories(base.resolve("store")).toString());
            BlobStoreContext context = ContextBuilder.newBuilder("filesystem").credentials("identity", "credential")
                    .overrides(overrides).build(BlobStoreContext.class);
            BlobStore blobs = new S3Listings(context.getBlobStore());
            blobs.createContainerInLocation(null, S3ProxyServer.BUCKET);
            S3Proxy proxy = S3Proxy.builder().blobStore(blobs).endpoint(URI.create("http://" + HOST + ":0"))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                    .build();
            proxy.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!proxy.getState().equals("STARTED")) {
                if (System.nanoTime() > deadline) {
                    proxy.stop();
                    context.close();
                    throw new IllegalStateException("state " + proxy.getState() + " after 10 s");
                }
                Thread.sleep(10);
            }
            return new ObjectStoreFixture(base, context, blobs, proxy, credentials);
        } catch (Exception e) {
            throw new IllegalStateException("S3Proxy could not start on " + HOST + ": " + e.getMessage(), e);
        }
    }

    private Path bucketDirectory() {
        return base.resolve("store").resolve(S3ProxyServer.BUCKET);
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
                .withEndpoint(endpoint)
                .withPathStyle(true)
                .withCredentialsFile(credentials);
    }

    @Override
    public void close() throws Throwable {
        try {
            proxy.stop();
        } finally {
            context.close();
            FerryServerExtension.deleteTree(base);
        }
    }

    /**
     * The filesystem store's listings made to answer as S3 does in the one place they differ for the server: S3
     * lists a directory marker ({@code dir/}, an empty object) under its own prefix, so "is there anything below
     * dir/?" finds an empty directory's marker; the filesystem store keeps the marker as the directory itself and
     * lists only what is inside it. An empty answer for a prefix ending in "/" whose marker exists gets the marker,
     * as an empty object (the store would say 4096 bytes, the directory's size on disk).
     */
    static final class S3Listings extends ForwardingBlobStore {
        S3Listings(BlobStore store) {
            super(store);
        }

        @Override
        public PageSet<? extends StorageMetadata> list(String container, ListContainerOptions options) {
            PageSet<? extends StorageMetadata> page = super.list(container, options);
            String prefix = options.getPrefix();
            if (!page.isEmpty() || page.getNextMarker() != null || prefix == null || !prefix.endsWith("/")
                    || options.getMarker() != null) {
                return page;
            }
            BlobMetadata marker = blobMetadata(container, prefix);
            if (marker == null) {
                return page;
            }
            MutableBlobMetadataImpl empty = new MutableBlobMetadataImpl(marker);
            empty.setSize(0L);
            return new PageSetImpl<>(List.of(empty), null);
        }
    }
}
