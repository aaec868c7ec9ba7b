package dev.ferry.config;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.StorageOverride;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * A {@code storage:} setting, of the server or of one account: the short form {@code s3://BUCKET[/PREFIX]} or
 * {@code local}, or a mapping
 * <pre>
 * storage:
 *   type: s3                     # or local (the default: files below root)
 *   bucket: ferry
 *   prefix: srv                  # key prefix of the root; default none
 *   endpoint: http://minio:9000  # default: AWS, from the region
 *   region: us-east-1
 *   path-style: true             # MinIO, Ceph RGW
 *   credentials-file: s3.ini     # relative to this file; default: the standard AWS chain
 *   part-size: 8MiB
 *   parts-in-flight: 4
 *   upload-memory: 256MiB
 *   request-timeout: 60s
 * </pre>
 * An account's storage starts from the server's store in the same file (its endpoint, region, credentials and
 * sizes), so {@code storage: s3://other-bucket} is all an account on another bucket of the same service needs.
 * The values are checked here with FILE:LINE:COL; the bucket itself is checked when the server starts.
 */
final class StorageSection {

    static final List<String> KEYS = List.of("type", "bucket", "prefix", "endpoint", "region", "path-style",
            "credentials-file", "part-size", "parts-in-flight", "upload-memory", "request-timeout");
    private static final String FORMS = Values.STORAGE + ", or a mapping with type: s3 and bucket";

    /** Every setting at its default but the bucket, which a mapping must name. */
    private static final ObjectStore DEFAULTS = ObjectStore.parseUrl("s3://placeholder");

    private StorageSection() {
    }

    /**
     * The {@code storage} key of {@code parent}: {@link StorageOverride#LOCAL}, or an object store built on
     * {@code base} (the server's store for an account's storage; null: the defaults).
     */
    static StorageOverride read(YamlMapping parent, String key, Path directory, ObjectStore base) throws ConfigException {
        Node value = parent.value(key);
        ObjectStore start = base != null ? base : DEFAULTS;
        if (value instanceof ScalarNode && !YamlFile.isNull(value)) {
            ObjectStore url = parent.parsed(key, FORMS, Values::storage, null);
            return url == null ? StorageOverride.LOCAL
                    : StorageOverride.of(start.withBucket(url.bucket()).withPrefix(url.prefix()));
        }
        YamlMapping m = YamlMapping.of(parent.file(), value, parent.pathOf(key), KEYS);
        // Each value first, at its own key; then how they fit together.
        String type = m.parsed("type", "s3 or local", StorageSection::type, m.has("bucket") ? "s3" : "local");
        String bucket = m.parsed("bucket", Values.BUCKET_RULE, Values::bucket, null);
        String prefix = m.parsed("prefix", "a key prefix such as srv/ftp", Values::prefix, "");
        URI endpoint = m.parsed("endpoint", "an http:// or https:// URL", Values::endpoint, start.endpoint());
        String region = m.parsed("region", "a region such as us-east-1", Values::region, start.region());
        boolean pathStyle = m.bool("path-style", start.pathStyle());
        Path credentials = credentialsFile(m, directory, start.credentialsFile());
        int partSize = read(m, Setting.STORAGE_PART_SIZE, start.partSize());
        int partsInFlight = read(m, Setting.STORAGE_PARTS_IN_FLIGHT, start.partsInFlight());
        long uploadMemory = read(m, Setting.STORAGE_UPLOAD_MEMORY, start.uploadMemory());
        Duration requestTimeout = read(m, Setting.STORAGE_REQUEST_TIMEOUT, start.requestTimeout());
        if (type.equals("local")) {
            for (String other : KEYS) {
                if (!other.equals("type") && m.has(other)) {
                    throw m.error(other, "type local keeps the files below root; " + other + " is for type s3");
                }
            }
            return StorageOverride.LOCAL;
        }
        if (bucket == null) {
            throw m.missing("bucket", Values.BUCKET_RULE);
        }
        if (uploadMemory < partSize) {
            throw m.errorAt(m.has("upload-memory") ? "upload-memory" : "part-size",
                    Values.uploadMemoryProblem(uploadMemory, partSize));
        }
        return StorageOverride.of(new ObjectStore(bucket, prefix, endpoint, region, pathStyle, credentials, partSize,
                partsInFlight, uploadMemory, requestTimeout));
    }

    /** A row's rule, for a key that may sit in the server's storage or in an account's (so not through its path). */
    private static <T> T read(YamlMapping m, Setting<T> setting, T fallback) throws ConfigException {
        return m.parsed(setting.key(), setting.expected(), setting::parse, fallback);
    }

    private static String type(String s) {
        return switch (s) {
            case "s3", "local" -> s;
            default -> throw new IllegalArgumentException("expected s3 or local, got " + Values.quote(s));
        };
    }

    /** Read at load, as the users file is: a missing file is a FILE:LINE:COL error, not a failed start. */
    private static Path credentialsFile(YamlMapping m, Path directory, Path fallback) throws ConfigException {
        Path file = m.path("credentials-file", directory, fallback);
        String problem = m.has("credentials-file") ? Values.credentialsFileProblem(file) : null;
        if (problem != null) {
            throw m.error("credentials-file", problem);
        }
        return file;
    }
}
