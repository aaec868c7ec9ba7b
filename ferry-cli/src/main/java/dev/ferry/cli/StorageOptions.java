package dev.ferry.cli;

import dev.ferry.config.Setting;
import dev.ferry.config.Values;
import dev.ferry.server.fs.ObjectStore;
import java.net.URI;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where {@code ferry server} and {@code ferry cluster} keep their files: local directories (the default) or an
 * S3-compatible object store ({@code --storage s3://BUCKET[/PREFIX]}), with the store's settings. Each flag
 * overrides its key under {@code server.storage} and goes through the same {@link Values} rule, so a value is
 * refused in the same words. docs/storage.md explains the settings.
 */
final class StorageOptions {

    @Option(names = "--storage", paramLabel = "s3://BUCKET[/PREFIX]|local",
            description = "Keep the files on an S3-compatible object store (AWS S3, MinIO, Ceph RGW): each home is the key prefix "
                    + "named by its path below --root (which then defaults to /). 'local' (the default): files below --root. "
                    + "The bucket must exist; the start checks that it answers to the credentials (docs/storage.md).")
    String storage;

    @Option(names = "--s3-endpoint", paramLabel = "URL",
            description = "The store's http:// or https:// URL, e.g. http://127.0.0.1:9000 (default: AWS, from the region).")
    String endpoint;

    @Option(names = "--s3-region", paramLabel = "REGION",
            description = "Signing region (default us-east-1, which most S3-compatible stores accept).")
    String region;

    @Option(names = "--s3-path-style",
            description = "Path-style requests (http://host/bucket/key), which MinIO and Ceph RGW expect; "
                    + "default: virtual-hosted (http://bucket.host/key), as AWS prefers.")
    boolean pathStyle;

    @Option(names = "--s3-credentials-file", paramLabel = "FILE",
            description = "AWS credentials file whose [default] profile holds the keys. Default: the standard AWS chain "
                    + "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, AWS_PROFILE, instance roles). "
                    + "Keys are never logged or printed.")
    Path credentialsFile;

    @Option(names = "--s3-part-size", paramLabel = "SIZE",
            description = "Bytes per multipart-upload part, at least 5MiB (default 8MiB).")
    String partSize;

    @Option(names = "--s3-parts-in-flight", paramLabel = "N",
            description = "Parts of one upload sent at the same time (default 4).")
    String partsInFlight;

    @Option(names = "--s3-upload-memory", paramLabel = "SIZE",
            description = "Part buffers all uploads may hold at once; an upload that finds it spent waits, slowing its "
                    + "data connection (default 256MiB).")
    String uploadMemory;

    /** Whether any flag names an object-store setting (which then needs an object store to apply to). */
    private boolean anyStoreSetting() {
        return endpoint != null || region != null || pathStyle || credentialsFile != null || partSize != null
                || partsInFlight != null || uploadMemory != null;
    }

    /** Whether --storage was given. */
    boolean given() {
        return storage != null;
    }

    /**
     * The store after the flags: {@code current} (the file's, or null for local files) with --storage replacing the
     * bucket and prefix and each other flag its setting. Null: local files.
     */
    ObjectStore apply(ObjectStore current) {
        // Each value first, with its flag's words; then how they fit together.
        ObjectStore url = Flags.parse("--storage", storage, Values::storage);
        URI uri = Flags.parse("--s3-endpoint", endpoint, Values::endpoint);
        String signingRegion = Flags.parse("--s3-region", region, Values::region);
        Integer size = Flags.value(Setting.STORAGE_PART_SIZE, partSize);
        Integer inFlight = Flags.value(Setting.STORAGE_PARTS_IN_FLIGHT, partsInFlight);
        Long memory = Flags.value(Setting.STORAGE_UPLOAD_MEMORY, uploadMemory);
        Path credentials = credentialsFile == null ? null : credentialsFile.toAbsolutePath().normalize();
        String unreadable = credentials == null ? null : Values.credentialsFileProblem(credentials);
        if (unreadable != null) {
            throw new IllegalArgumentException("--s3-credentials-file: " + unreadable);
        }
        ObjectStore store = current;
        if (storage != null) {
            store = url == null ? null : current != null ? current.withBucket(url.bucket()).withPrefix(url.prefix()) : url;
        }
        if (store == null) {
            if (anyStoreSetting()) {
                throw new IllegalArgumentException("--s3-* options set the object store: give --storage s3://BUCKET[/PREFIX]"
                        + " (or server.storage in the config file)" + (storage != null ? ", not --storage local" : ""));
            }
            return null;
        }
        int part = size != null ? size : store.partSize();
        long budget = memory != null ? memory : store.uploadMemory();
        if (budget < part) {
            throw new IllegalArgumentException((memory != null ? "--s3-upload-memory" : "--s3-part-size") + ": "
                    + Values.uploadMemoryProblem(budget, part));
        }
        return new ObjectStore(store.bucket(), store.prefix(), uri != null ? uri : store.endpoint(),
                signingRegion != null ? signingRegion : store.region(), pathStyle || store.pathStyle(),
                credentials != null ? credentials : store.credentialsFile(), part,
                inFlight != null ? inFlight : store.partsInFlight(), budget, store.requestTimeout());
    }
}
