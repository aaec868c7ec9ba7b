package dev.ferry.storage.s3;

import com.sun.management.GarbageCollectionNotificationInfo;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.testkit.S3ProxyServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * What an HTTP client under the SDK costs the upload memory bound: concurrent uploads through {@link S3Upload}
 * into S3Proxy, each in its own JVM, one uploader JVM per client so each peak RSS (VmHWM) is its own. Not a
 * test (surefire runs *Test classes only): run by hand, figures in docs/performance.md.
 *
 * <pre>
 * ./build -q -o -pl ferry-storage-s3 -am test-compile
 * java -cp ferry-storage-s3/target/test-classes:ferry-storage-s3/target/classes:$(cat cp.txt) \
 *     dev.ferry.storage.s3.UploadMemoryMeasure [STREAMS [MIB [XMX...]]]
 * </pre>
 * (cp.txt: {@code ./build -q -o -pl ferry-storage-s3 dependency:build-classpath -Dmdep.outputFile=cp.txt}).
 * The S3Proxy store lives in /dev/shm (the filesystem store, so the proxy's heap does not hold the objects) and
 * each object is deleted once uploaded. Settings as in the budget test: upload-memory 64 MiB, part-size
 * 8 MiB, parts-in-flight 4. {@code -Dmeasure.link=MB/s} puts a link that slow between the uploaders and the
 * store, so that parts wait in flight (the store slower than the clients).
 */
public final class UploadMemoryMeasure {

    static final int MIB = 1024 * 1024;
    static final long UPLOAD_MEMORY = 64L * MIB;
    static final int PART_SIZE = 8 * MIB;
    static final int PARTS_IN_FLIGHT = 4;
    static final List<String> CLIENTS = List.of("url-connection", "apache", "apache5");

    static final EventLog LOG = new EventLog(org.slf4j.LoggerFactory.getLogger("ferry.storage"), "measure");

    private UploadMemoryMeasure() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("proxy")) {
            proxy(Path.of(args[1]));
        } else if (args.length > 0 && args[0].equals("upload")) {
            upload(URI.create(args[1]), Path.of(args[2]), args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        } else {
            int streams = args.length > 0 ? Integer.parseInt(args[0]) : 10;
            int mib = args.length > 1 ? Integer.parseInt(args[1]) : 256;
            List<String> heaps = args.length > 2 ? List.of(args).subList(2, args.length) : List.of("1g");
            orchestrate(streams, mib, heaps);
        }
    }

    /** Starts the proxy, then one uploader per client and heap size, one after the other. */
    private static void orchestrate(int streams, int mib, List<String> heaps) throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "ferry-measure");
        Path credentials = UploadFixture.credentials(Files.createTempDirectory("ferry-measure"));
        Process proxy = java("-Xmx512m", "proxy", dir.toString()).start();
        try {
            BufferedReader proxyOut = new BufferedReader(new InputStreamReader(proxy.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = proxyOut.readLine();
            if (first == null || !first.startsWith("endpoint ")) {
                throw new IllegalStateException("proxy said " + first);
            }
            String endpoint = first.substring("endpoint ".length());
            // -Dmeasure.link=MB/s: the uploads go through a link that slow, so the store is slower than the
            // writers and parts wait in flight, as with a remote store and fast clients.
            int link = Integer.getInteger("measure.link", 0);
            Link throttle = null;
            if (link > 0) {
                throttle = new Link(URI.create(endpoint).getPort(), link * 1_000_000L);
                endpoint = "http://127.0.0.1:" + throttle.port();
            }
            System.out.printf("%d streams of %d MiB, upload-memory %d MiB, part-size %d MiB, parts-in-flight %d,"
                    + " %d cores, %s, link %s%n", streams, mib, UPLOAD_MEMORY / MIB, PART_SIZE / MIB, PARTS_IN_FLIGHT,
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"),
                    link > 0 ? link + " MB/s" : "loopback");
            for (String heap : heaps) {
                for (String client : CLIENTS) {
                    Process uploader = java("-Xmx" + heap, "upload", endpoint, credentials.toString(), client,
                            Integer.toString(streams), Integer.toString(mib)).inheritIO().start();
                    // Bounded: 10 GiB at 20 MB/s would be about 9 minutes.
                    if (!uploader.waitFor(15, TimeUnit.MINUTES)) {
                        uploader.destroyForcibly();
                        System.out.println(client + " -Xmx" + heap + ": did not finish in 15 minutes");
                    }
                }
            }
            if (throttle != null) {
                throttle.close();
            }
        } finally {
            proxy.getOutputStream().close();
            if (!proxy.waitFor(30, TimeUnit.SECONDS)) {
                proxy.destroyForcibly();
            }
            for (Path tree : List.of(dir, credentials.getParent())) {
                try (var files = Files.walk(tree)) {
                    for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
        }
    }

    private static ProcessBuilder java(String heap, String... args) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                heap, "-cp", System.getProperty("java.class.path"), UploadMemoryMeasure.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    /**
     * A TCP relay to the proxy whose uploads (client to store) share {@code bytesPerSecond}; answers are not
     * slowed. Each connection's two directions are virtual threads; reads time out after two minutes.
     */
    private static final class Link implements AutoCloseable {
        private final java.net.ServerSocket server;
        private final long bytesPerSecond;
        private long nextFree = System.nanoTime();

        Link(int target, long bytesPerSecond) throws IOException {
            this.server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            this.bytesPerSecond = bytesPerSecond;
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        java.net.Socket client = server.accept();
                        java.net.Socket store = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), target);
                        client.setSoTimeout(120_000);
                        store.setSoTimeout(120_000);
                        Thread.ofVirtual().start(() -> relay(client, store, true));
                        Thread.ofVirtual().start(() -> relay(store, client, false));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private void relay(java.net.Socket from, java.net.Socket to, boolean throttled) {
            byte[] buf = new byte[64 * 1024];
            try (from; to) {
                int n;
                while ((n = from.getInputStream().read(buf)) > 0) {
                    if (throttled) {
                        take(n);
                    }
                    to.getOutputStream().write(buf, 0, n);
                }
            } catch (IOException | InterruptedException e) {
                // the other side closed: both sockets close
            }
        }

        /** Waits until the link has carried everything before these {@code n} bytes. */
        private void take(int n) throws InterruptedException {
            long at;
            synchronized (this) {
                at = Math.max(nextFree, System.nanoTime());
                nextFree = at + n * 1_000_000_000L / bytesPerSecond;
            }
            long wait = at - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** S3Proxy on a free port until stdin closes. */
    private static void proxy(Path dir) throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.onDisk("127.0.0.1", 0, dir)) {
            System.out.println("endpoint " + s3.endpoint());
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the orchestrator closes our stdin
            }
        }
    }

    private static SdkHttpClient.Builder<?> http(String name, Duration timeout) {
        // As many connections as parts may be in flight at once (the budget's worth), plus some for the commits.
        int connections = (int) (UPLOAD_MEMORY / PART_SIZE) + 10;
        return switch (name) {
            case "url-connection" -> UrlConnectionHttpClient.builder().connectionTimeout(timeout).socketTimeout(timeout);
            case "apache" -> ApacheHttpClient.builder().connectionTimeout(timeout).socketTimeout(timeout)
                    .maxConnections(connections);
            case "apache5" -> Apache5HttpClient.builder().connectionTimeout(timeout).socketTimeout(timeout)
                    .maxConnections(connections);
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static void upload(URI endpoint, Path credentials, String clientName, int streams, int mib)
            throws Exception {
        ObjectStore store = ObjectStore.parseUrl("s3://" + S3ProxyServer.BUCKET + "/measure").withEndpoint(endpoint)
                .withPathStyle(true).withCredentialsFile(credentials).withPartSize(PART_SIZE)
                .withPartsInFlight(PARTS_IN_FLIGHT).withUploadMemory(UPLOAD_MEMORY)
                .withRequestTimeout(Duration.ofSeconds(60));
        UploadBudget budget = new UploadBudget(store.uploadMemory());
        try (S3Client client = S3Clients.build(store, http(clientName, store.requestTimeout()))) {
            // Warm-up: every class an upload needs loaded, so the baseline is the idle server's.
            uploadOne(client, store, budget, "/warm-up", 3 * PART_SIZE);
            System.gc();
            // proc(5): writing 5 to clear_refs resets VmHWM, so the peak is the uploads' and not the warm-up's.
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            long baselineRss = status("VmRSS");
            long baselineHeap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();

            AtomicLong mostHeap = new AtomicLong();
            AtomicLong mostAfterGc = new AtomicLong();
            AtomicLong mostBudget = new AtomicLong();
            watchGc(mostAfterGc);
            Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    mostHeap.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                            Math::max);
                    mostBudget.accumulateAndGet(budget.inUse(), Math::max);
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            long bytes = (long) mib * MIB;
            long[] gcBefore = gcCountAndMillis();
            long start = System.nanoTime();
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < streams; i++) {
                    String path = "/stream-" + i;
                    done.add(threads.submit(() -> uploadOne(client, store, budget, path, bytes)));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long[] gcAfter = gcCountAndMillis();
            sampler.interrupt();
            sampler.join();
            System.out.printf("%-15s -Xmx%-5s peak RSS (VmHWM) %5d MiB (idle %4d MiB), peak heap used %5d MiB"
                    + " (idle %3d MiB), most heap in use after a GC %5d MiB, budget held at most %3d MiB,"
                    + " %5d GCs taking %6.1f s, %6.1f MB/s (%d x %d MiB in %.1f s)%n",
                    clientName, maxHeap(), status("VmHWM") / MIB, baselineRss / MIB, mostHeap.get() / MIB,
                    baselineHeap / MIB, mostAfterGc.get() / MIB, mostBudget.get() / MIB,
                    gcAfter[0] - gcBefore[0], (gcAfter[1] - gcBefore[1]) / 1e3,
                    streams * (double) bytes / 1e6 / seconds, streams, mib, seconds);
        }
    }

    /** One upload of {@code size} generated bytes, written in 64 KiB pieces as a data connection would, then deleted. */
    private static Void uploadOne(S3Client client, ObjectStore store, UploadBudget budget, String path, long size)
            throws Exception {
        byte[] block = new byte[64 * 1024];
        Random random = new Random(path.hashCode());
        random.nextBytes(block);
        try (Upload upload = S3Uploads.open(client, store, budget, LOG, "measure/", VirtualPath.of(path),
                UploadMode.REPLACE, 0)) {
            for (long at = 0; at < size; at += block.length) {
                // A different block each time: no store or buffer can share them.
                block[(int) (at / block.length % block.length)] ^= 1;
                ByteBuffer piece = ByteBuffer.wrap(block, 0, (int) Math.min(block.length, size - at));
                while (piece.hasRemaining()) {
                    upload.channel().write(piece);
                }
            }
            long stored = upload.commit();
            if (stored != size) {
                throw new IllegalStateException(path + ": committed " + stored + " of " + size);
            }
        }
        String key = "measure/" + path.substring(1);
        long onStore = client.headObject(b -> b.bucket(S3ProxyServer.BUCKET).key(key)).contentLength();
        if (onStore != size) {
            throw new IllegalStateException(path + ": stored " + onStore + " of " + size);
        }
        client.deleteObject(b -> b.bucket(S3ProxyServer.BUCKET).key(key));
        return null;
    }

    /** The heap in use after each collection, its maximum kept in {@code most}. */
    private static void watchGc(AtomicLong most) {
        java.util.Set<String> heapPools = new java.util.HashSet<>();
        for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                heapPools.add(pool.getName());
            }
        }
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
                if (notification.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                    var info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                    long used = info.getGcInfo().getMemoryUsageAfterGc().entrySet().stream()
                            .filter(e -> heapPools.contains(e.getKey()))
                            .mapToLong(e -> e.getValue().getUsed()).sum();
                    most.accumulateAndGet(used, Math::max);
                }
            }, null, null);
        }
    }

    /** Collections so far and the milliseconds they took (G1: pauses and concurrent cycles). */
    private static long[] gcCountAndMillis() {
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, millis};
    }

    private static String maxHeap() {
        return (Runtime.getRuntime().maxMemory() / MIB) + "m";
    }

    /** A line of /proc/self/status in bytes ("VmHWM", "VmRSS"). */
    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim()) * 1024;
            }
        }
        throw new IOException("no " + field + " in /proc/self/status");
    }
}
