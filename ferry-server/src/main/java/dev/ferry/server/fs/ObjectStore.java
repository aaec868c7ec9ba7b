package dev.ferry.server.fs;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Where a server keeps its files when they live on an S3-compatible object store instead of a local
 * directory ({@code storage: s3}, {@code --storage s3://BUCKET[/PREFIX]}). Pure data: the engine that reads it
 * ({@code ferry-storage-s3}) is found through {@link StorageEngine.Provider}, so the server and its tests do
 * not depend on the AWS SDK.
 *
 * <p>Each home is a key prefix below {@link #prefix}: the home's path relative to the server root, so a
 * user with {@code home: alice} sees {@code PREFIX/alice/} as "/" (see {@link #homePrefix}).
 *
 * @param bucket          the bucket (checked at start: it must exist and the credentials must reach it)
 * @param prefix          key prefix for the server root, without a leading or trailing "/" ("" for the whole bucket)
 * @param endpoint        the service's URL (null: AWS, from the region)
 * @param region          signing region (SigV4); "us-east-1" suits most S3-compatible services
 * @param pathStyle       path-style requests ({@code http://host/bucket/key}), which MinIO, Ceph RGW and S3Proxy
 *                        expect; false: virtual-hosted ({@code http://bucket.host/key}), as AWS prefers
 * @param credentialsFile an AWS credentials file (profile format) to read the keys from; null: the standard AWS
 *                        chain (environment, profile files, instance roles)
 * @param partSize        bytes per multipart-upload part (S3: at least 5 MiB but for the last part)
 * @param partsInFlight   parts of one upload sent at the same time
 * @param uploadMemory    bytes of part buffers all uploads of this server may hold at once; an upload that finds
 *                        it spent waits (back-pressure on its data connection) rather than buffering more
 * @param requestTimeout  the longest one request to the store may take before the transfer fails with 451
 */
// withX for every component comes from the generated ObjectStoreBuilder.With.
@RecordBuilder
public record ObjectStore(String bucket, String prefix, URI endpoint, String region, boolean pathStyle,
                          Path credentialsFile, int partSize, int partsInFlight, long uploadMemory,
                          Duration requestTimeout) implements ObjectStoreBuilder.With {

    /** S3's smallest part but for the last one. */
    public static final int MIN_PART_SIZE = 5 * 1024 * 1024;
    public static final int DEFAULT_PART_SIZE = 8 * 1024 * 1024;
    public static final int DEFAULT_PARTS_IN_FLIGHT = 4;
    public static final long DEFAULT_UPLOAD_MEMORY = 256L * 1024 * 1024;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);
    public static final String DEFAULT_REGION = "us-east-1";

    public ObjectStore {
        Objects.requireNonNull(bucket, "bucket");
        if (bucket.isEmpty() || bucket.contains("/")) {
            throw new IllegalArgumentException("bucket name '" + bucket + "' is empty or contains '/'");
        }
        prefix = prefix == null ? "" : trimSlashes(prefix);
        Objects.requireNonNull(region, "region");
        if (partSize < MIN_PART_SIZE) {
            throw new IllegalArgumentException("part size " + partSize + " is below S3's minimum of " + MIN_PART_SIZE
                    + " bytes (5 MiB)");
        }
        if (partsInFlight < 1) {
            throw new IllegalArgumentException("parts in flight must be at least 1: " + partsInFlight);
        }
        if (uploadMemory < partSize) {
            throw new IllegalArgumentException("upload memory " + uploadMemory + " is less than one part (" + partSize
                    + " bytes): no upload could start");
        }
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("request timeout must be positive: " + requestTimeout);
        }
    }

    /** A store at {@code s3://BUCKET[/PREFIX]} with every other setting at its default. */
    public static ObjectStore parseUrl(String url) {
        if (!url.startsWith("s3://")) {
            throw new IllegalArgumentException("'" + url + "' is not an s3://BUCKET[/PREFIX] address");
        }
        String rest = url.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1);
        return new ObjectStore(bucket, prefix, null, DEFAULT_REGION, false, null, DEFAULT_PART_SIZE,
                DEFAULT_PARTS_IN_FLIGHT, DEFAULT_UPLOAD_MEMORY, DEFAULT_REQUEST_TIMEOUT);
    }

    /** {@code s3://BUCKET[/PREFIX]}, for logs and messages (never a credential). */
    public String url() {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }

    /**
     * The key prefix a home sees as "/", ending in "/" unless it is the bucket's top ("").
     * {@code home} must be {@code root} or below it; its path relative to the root names the prefix.
     */
    public String homePrefix(Path root, Path home) {
        Path r = root.normalize();
        Path h = home.normalize();
        if (!h.startsWith(r)) {
            throw new IllegalArgumentException("home " + home + " is not below the server root " + root
                    + ": on object storage a home is a key prefix below the root");
        }
        String relative = r.relativize(h).toString().replace('\\', '/');
        String joined = prefix.isEmpty() ? relative : relative.isEmpty() ? prefix : prefix + "/" + relative;
        return joined.isEmpty() ? "" : trimSlashes(joined) + "/";
    }


    private static String trimSlashes(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && s.charAt(from) == '/') {
            from++;
        }
        while (to > from && s.charAt(to - 1) == '/') {
            to--;
        }
        return s.substring(from, to);
    }
}
