package dev.ferry.runtime.tls;

import com.sun.management.OperatingSystemMXBean;
import com.sun.management.ThreadMXBean;
import dev.ferry.testkit.TestCertificates;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.security.KeyStore;
import java.security.Provider;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.TrustManager;

/**
 * What the TLS data path costs without sockets: one server engine wraps a GiB in 256 KiB writes (a RETR's
 * pooled buffer), one client engine unwraps it, in one thread; printed are the CPU-seconds per GiB of each
 * side (this thread) and of the whole process (with the JIT's compiler threads). Not a test (surefire runs
 * *Test classes only): run by hand, figures in docs/performance.md ("FTPS throughput and CPU").
 *
 * <p>Arguments: provider ({@code jdk}, or {@code conscrypt} with org.conscrypt:conscrypt-openjdk-uber on the
 * class path), buffers ({@code heap} or {@code direct}), protocol, cipher suite, GiB to measure, GiB to run
 * first to warm the JIT up (0: the measured GiB is the JVM's first, as in a freshly started server).
 *
 * <pre>
 * ./build -q -o -DskipTests package &amp;&amp; ./build -q -o -pl ferry-testkit -am test-compile
 * java -cp 'ferry-testkit/target/test-classes:ferry-testkit/target/classes:ferry-cli/target/lib/*'[:conscrypt-openjdk-uber-2.5.2.jar] \
 *     dev.ferry.runtime.tls.TlsEngineMeasure jdk heap TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 1 0
 * </pre>
 */
public final class TlsEngineMeasure {

    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final OperatingSystemMXBean OS = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final int WRITE = 256 * 1024;

    public static void main(String[] args) throws Exception {
        String provider = args[0];
        boolean direct = args[1].equals("direct");
        String protocol = args[2];
        String suite = args[3];
        double gib = Double.parseDouble(args[4]);
        double warm = Double.parseDouble(args[5]);

        TestCertificates.Identity identity = TestCertificates.fresh(suite.contains("ECDSA") ? "EC" : "RSA");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("k", identity.key(), new char[0], identity.chain().toArray(X509Certificate[]::new));
        // SunX509: Conscrypt's server finds no certificate through the PKIX key manager (NO_SHARED_CIPHER)
        KeyManagerFactory keys = KeyManagerFactory.getInstance("SunX509");
        keys.init(store, new char[0]);
        SSLContext serverContext;
        SSLContext clientContext;
        if (provider.equals("conscrypt")) {
            Provider p = (Provider) Class.forName("org.conscrypt.Conscrypt").getMethod("newProvider").invoke(null);
            serverContext = SSLContext.getInstance("TLS", p);
            clientContext = SSLContext.getInstance("TLS", p);
        } else {
            serverContext = SSLContext.getInstance("TLS");
            clientContext = SSLContext.getInstance("TLS");
        }
        serverContext.init(keys.getKeyManagers(), null, null);
        clientContext.init(null, new TrustManager[] {TestCertificates.trustAllManager()}, null);
        SSLEngine server = serverContext.createSSLEngine();
        server.setUseClientMode(false);
        SSLEngine client = clientContext.createSSLEngine("localhost", 21);
        client.setUseClientMode(true);
        for (SSLEngine e : new SSLEngine[] {server, client}) {
            e.setEnabledProtocols(new String[] {protocol});
            e.setEnabledCipherSuites(new String[] {suite});
        }
        int packet = Math.max(server.getSession().getPacketBufferSize(), client.getSession().getPacketBufferSize());
        int app = Math.max(server.getSession().getApplicationBufferSize(), client.getSession().getApplicationBufferSize());
        handshake(server, client, allocate(direct, packet * 8), allocate(direct, packet * 8), allocate(direct, app));
        System.out.printf("provider=%s engine=%s %s %s buffers=%s%n", provider, server.getClass().getName(),
                server.getSession().getProtocol(), server.getSession().getCipherSuite(), args[1]);

        ByteBuffer src = allocate(direct, WRITE);
        while (src.hasRemaining()) {
            src.put((byte) src.position());
        }
        ByteBuffer net = allocate(direct, packet * (WRITE / 16_384 + 2));
        ByteBuffer out = allocate(direct, app);
        if (warm > 0) {
            run("warm-up", server, client, src, net, out, warm);
        }
        run("measured", server, client, src, net, out, gib);
    }

    private static void run(String label, SSLEngine server, SSLEngine client, ByteBuffer src, ByteBuffer net, ByteBuffer out,
                            double gib) throws Exception {
        long total = (long) (gib * (1L << 30));
        long done = 0;
        long wrapNanos = 0;
        long unwrapNanos = 0;
        long process = OS.getProcessCpuTime();
        long start = System.nanoTime();
        while (done < total) {
            src.clear();
            while (src.hasRemaining()) {
                net.clear();
                long a = THREADS.getCurrentThreadCpuTime();
                while (src.hasRemaining() && net.remaining() >= server.getSession().getPacketBufferSize()) {
                    check(server.wrap(src, net));
                }
                long b = THREADS.getCurrentThreadCpuTime();
                net.flip();
                while (net.hasRemaining()) {
                    out.clear();
                    done += check(client.unwrap(net, out)).bytesProduced();
                }
                unwrapNanos += THREADS.getCurrentThreadCpuTime() - b;
                wrapNanos += b - a;
            }
        }
        double g = done / (double) (1L << 30);
        System.out.printf("%s GiB=%.2f wall=%.2fs CPU-s/GiB: wrap=%.3f unwrap=%.3f process=%.3f%n", label, g,
                (System.nanoTime() - start) / 1e9, wrapNanos / 1e9 / g, unwrapNanos / 1e9 / g,
                (OS.getProcessCpuTime() - process) / 1e9 / g);
    }

    private static SSLEngineResult check(SSLEngineResult r) {
        if (r.getStatus() != SSLEngineResult.Status.OK) {
            throw new IllegalStateException(r.toString());
        }
        return r;
    }

    /** Both handshakes in one thread: each engine runs until it waits for the other's bytes. */
    private static void handshake(SSLEngine server, SSLEngine client, ByteBuffer toServer, ByteBuffer toClient, ByteBuffer app)
            throws Exception {
        server.beginHandshake();
        client.beginHandshake();
        for (int i = 0; i < 100 && !(finished(server) && finished(client)); i++) {
            step(client, toServer, toClient, app);
            step(server, toClient, toServer, app);
        }
        if (!finished(server) || !finished(client)) {
            throw new IllegalStateException("handshake did not finish");
        }
    }

    private static boolean finished(SSLEngine e) {
        return e.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
    }

    private static void step(SSLEngine e, ByteBuffer out, ByteBuffer in, ByteBuffer app) throws Exception {
        while (true) {
            switch (e.getHandshakeStatus()) {
                case NEED_TASK -> {
                    Runnable task;
                    while ((task = e.getDelegatedTask()) != null) {
                        task.run();
                    }
                }
                case NEED_WRAP -> e.wrap(ByteBuffer.allocate(0), out);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    in.flip();
                    SSLEngineResult r = e.unwrap(in, app);
                    in.compact();
                    app.clear();
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || r.bytesConsumed() == 0
                            && r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP) {
                        return;
                    }
                }
                default -> {
                    return;
                }
            }
        }
    }

    private static ByteBuffer allocate(boolean direct, int size) {
        return direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    }
}
