package dev.ferry.storage.s3;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.testkit.S3ProxyServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An in-memory S3Proxy, the engine opened on it (server root {@link #ROOT}, store prefix "srv", so a home
 * {@code ROOT/alice} is the prefix {@code srv/alice/}), and ways to look at the bucket directly.
 */
final class S3TestStore implements AutoCloseable {

    static final Path ROOT = Path.of("/ferry-root");

    final S3ProxyServer s3;
    final Path dir;
    final ObjectStore store;
    final S3Engine engine;

    private S3TestStore(S3ProxyServer s3, Path dir, ObjectStore store, S3Engine engine) {
        this.s3 = s3;
        this.dir = dir;
        this.store = store;
        this.engine = engine;
    }

    static S3TestStore start() throws Exception {
        S3ProxyServer s3 = S3ProxyServer.inMemory("127.0.0.1");
        try {
            Path dir = Files.createTempDirectory("ferry-s3-test");
            Path credentials = dir.resolve("credentials");
            Files.writeString(credentials, "[default]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                    + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
            ObjectStore store = ObjectStore.parseUrl("s3://" + S3ProxyServer.BUCKET + "/srv").withEndpoint(s3.endpoint())
                    .withPathStyle(true).withCredentialsFile(credentials).withPartSize(ObjectStore.MIN_PART_SIZE)
                    .withPartsInFlight(3);
            return new S3TestStore(s3, dir, store, S3Engine.open(store, ROOT));
        } catch (Exception e) {
            s3.close();
            throw e;
        }
    }

    /** The home {@code ROOT/name} through the engine (one instance per home: knobs set on it stay). */
    S3Storage home(String name) throws IOException {
        return (S3Storage) engine.forHome(ROOT.resolve(name));
    }

    /** The home {@code ROOT/name} with its own client (watched, faulty, or with other credentials). */
    S3Storage home(String name, S3Client client) {
        return new S3Storage(client, store, store.homePrefix(ROOT, ROOT.resolve(name)), engine.budget(), engine.log());
    }

    S3Client client() {
        return engine.client();
    }

    /** A client like the engine's, without retries, with {@code watch} seeing every request. */
    S3Client client(Requests watch) {
        return client(watch, S3ProxyServer.SECRET_KEY);
    }

    S3Client client(Requests watch, String secret) {
        return client(watch, secret, AwsRetryStrategy.doNotRetry());
    }

    /**
     * With the SDK's standard retries, as the engine's own client has them. S3Proxy answers a conditional PUT
     * that lost its race with 412 before reading the body, and closes: a PUT with a body may then fail to write
     * it and be retried. An empty one has no body to write ({@link S3Clients#wholePayloadSigning}; framed as
     * aws-chunked it had 86 bytes, and under load 300 such PUTs took 313 attempts).
     */
    S3Client retryingClient(Requests watch) {
        return client(watch, S3ProxyServer.SECRET_KEY, AwsRetryStrategy.standardRetryStrategy());
    }

    private S3Client client(Requests watch, String secret, software.amazon.awssdk.retries.api.RetryStrategy retries) {
        return S3Client.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(s3.endpoint())
                .forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(S3ProxyServer.ACCESS_KEY, secret)))
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .authSchemeProvider(S3Clients.wholePayloadSigning())   // signed as the engine's own client signs
                .overrideConfiguration(c -> c.addExecutionInterceptor(watch).retryStrategy(retries))
                .build();
    }

    void put(String key, byte[] content) {
        client().putObject(b -> b.bucket(S3ProxyServer.BUCKET).key(key), RequestBody.fromBytes(content));
    }

    void put(String key, String content) {
        put(key, content.getBytes(StandardCharsets.UTF_8));
    }

    byte[] get(String key) {
        return client().getObjectAsBytes(b -> b.bucket(S3ProxyServer.BUCKET).key(key)).asByteArray();
    }

    /** HeadObject, or null for no such key. */
    HeadObjectResponse head(String key) {
        try {
            return client().headObject(b -> b.bucket(S3ProxyServer.BUCKET).key(key));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return null;
            }
            throw e;
        }
    }

    boolean exists(String key) {
        return head(key) != null;
    }

    /** Every key below {@code prefix}, in the store's order. */
    List<String> keys(String prefix) {
        List<String> keys = new ArrayList<>();
        for (var page : client().listObjectsV2Paginator(ListObjectsV2Request.builder()
                .bucket(S3ProxyServer.BUCKET).prefix(prefix).build())) {
            page.contents().stream().map(S3Object::key).forEach(keys::add);
        }
        return keys;
    }

    @Override
    public void close() throws Exception {
        try {
            engine.close();
            s3.close();
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    /**
     * Sees a client's requests: counts them by operation ("HeadObject"), keeps the Range headers sent, the most
     * requests of one operation under way at once, and can run a hook or inject a failure before a request.
     */
    static class Requests implements ExecutionInterceptor {
        private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
        private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
        private final Map<String, AtomicInteger> mostInFlight = new ConcurrentHashMap<>();
        final List<String> ranges = new CopyOnWriteArrayList<>();
        private volatile Predicate<SdkRequest> fail = r -> false;
        private volatile Consumer<SdkRequest> before = r -> { };

        static String operation(SdkRequest request) {
            String name = request.getClass().getSimpleName();
            return name.endsWith("Request") ? name.substring(0, name.length() - "Request".length()) : name;
        }

        int count(String operation) {
            return counts.getOrDefault(operation, new AtomicInteger()).get();
        }

        int mostInFlight(String operation) {
            return mostInFlight.getOrDefault(operation, new AtomicInteger()).get();
        }

        void reset() {
            counts.clear();
            mostInFlight.clear();
            ranges.clear();
        }

        /** Fail each request {@code when} accepts, as a dropped connection would. */
        void failWhen(Predicate<SdkRequest> when) {
            this.fail = when;
        }

        void beforeEach(Consumer<SdkRequest> hook) {
            this.before = hook;
        }

        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            String op = operation(context.request());
            counts.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
            int now = inFlight.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
            mostInFlight.computeIfAbsent(op, k -> new AtomicInteger()).accumulateAndGet(now, Math::max);
            before.accept(context.request());
            if (fail.test(context.request())) {
                throw SdkClientException.create("injected fault: connection reset");
            }
        }

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            context.httpRequest().firstMatchingHeader("Range").ifPresent(ranges::add);
        }

        @Override
        public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
            inFlight.get(operation(context.request())).decrementAndGet();
        }

        @Override
        public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
            inFlight.get(operation(context.request())).decrementAndGet();
        }
    }
}
