package dev.ferry.testkit;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
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

/**
 * A real S3 API server (S3Proxy: SigV4, multipart, UploadPartCopy) in the test's JVM, with one bucket, for the
 * object-storage tests. Two back ends:
 * <ul>
 *   <li>{@link #inMemory}: jclouds' transient store, for unit tests;</li>
 *   <li>{@link #onDisk}: jclouds' filesystem store, where the object {@code KEY} of bucket {@code B} is the file
 *       {@code DIR/B/KEY}, so a test can put fixture files in place and read uploads back with java.nio, as the
 *       real-client suite does on local storage ({@link #bucketDirectory}). Its listings are corrected where they
 *       differ from S3's ({@link S3Listings}).</li>
 * </ul>
 * Modules that use it declare {@code org.gaul:s3proxy} as a test dependency (it is optional here).
 */
public final class S3ProxyServer implements AutoCloseable {

    public static final String ACCESS_KEY = "ferry-test-access";
    public static final String SECRET_KEY = "ferry-test-secret-0123456789";
    public static final String BUCKET = "ferry";

    private final S3Proxy proxy;
    private final BlobStoreContext context;
    private final BlobStore blobs;
    private final Path baseDirectory;
    private final URI endpoint;

    private S3ProxyServer(S3Proxy proxy, BlobStoreContext context, BlobStore blobs, Path baseDirectory, URI endpoint) {
        this.proxy = proxy;
        this.context = context;
        this.blobs = blobs;
        this.baseDirectory = baseDirectory;
        this.endpoint = endpoint;
    }

    /** In memory, on {@code host} and a free port. */
    public static S3ProxyServer inMemory(String host) throws Exception {
        return start(host, 0, null);
    }

    /** Objects as files below {@code directory} (made if missing), on {@code host}:{@code port} (0: a free one). */
    public static S3ProxyServer onDisk(String host, int port, Path directory) throws Exception {
        return start(host, port, directory);
    }

    private static S3ProxyServer start(String host, int port, Path directory) throws Exception {
        Properties overrides = new Properties();
        ContextBuilder builder;
        if (directory == null) {
            builder = ContextBuilder.newBuilder("transient");
        } else {
            java.nio.file.Files.createDirectories(directory);
            overrides.setProperty("jclouds.filesystem.basedir", directory.toString());
            builder = ContextBuilder.newBuilder("filesystem");
        }
        BlobStoreContext context = builder.credentials("identity", "credential").overrides(overrides)
                .build(BlobStoreContext.class);
        BlobStore blobs = directory == null ? context.getBlobStore() : new S3Listings(context.getBlobStore());
        blobs.createContainerInLocation(null, BUCKET);
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(blobs)
                .endpoint(URI.create("http://" + host + ":" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!proxy.getState().equals("STARTED")) {
            if (System.nanoTime() > deadline) {
                proxy.stop();
                context.close();
                throw new IllegalStateException("S3Proxy did not start on " + host + ": " + proxy.getState());
            }
            Thread.sleep(10);
        }
        return new S3ProxyServer(proxy, context, blobs, directory, URI.create("http://" + host + ":" + proxy.getPort()));
    }

    /** {@code http://HOST:PORT}: the endpoint for path-style requests. */
    public URI endpoint() {
        return endpoint;
    }

    public int port() {
        return proxy.getPort();
    }

    /** The directory that holds the bucket's objects as files ({@link #onDisk} only). */
    public Path bucketDirectory() {
        if (baseDirectory == null) {
            throw new IllegalStateException("an in-memory store has no directory");
        }
        return baseDirectory.resolve(BUCKET);
    }

    /** The jclouds view of the store (as S3Proxy serves it), to look at objects without going through S3. */
    public BlobStore blobStore() {
        return blobs;
    }

    @Override
    public void close() throws Exception {
        try {
            proxy.stop();
        } finally {
            context.close();
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
