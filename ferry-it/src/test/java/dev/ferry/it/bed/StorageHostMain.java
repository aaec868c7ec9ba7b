package dev.ferry.it.bed;

import dev.ferry.testkit.S3ProxyServer;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The bed's object store: S3Proxy ({@link S3ProxyServer#onDisk}, bucket {@value S3ProxyServer#BUCKET}) as a
 * process of its own on the storage host, started by {@link ObjectStoreBedTest} under {@code ip netns exec} with
 * the test JVM's java and class path. Its own process, not a thread of the test JVM: the test JVM sits in the
 * root namespace, which has no way into the bed, and a store that is a process can be stopped, signalled and
 * cut off like a real one.
 *
 * <p>Arguments: ADDRESS PORT DIRECTORY. Prints {@value #READY} once it answers, then runs until SIGTERM (the
 * shutdown hook stops the proxy).
 */
public final class StorageHostMain {

    static final String READY = "ready";

    private StorageHostMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: StorageHostMain ADDRESS PORT DIRECTORY");
            System.exit(2);
        }
        S3ProxyServer store = S3ProxyServer.onDisk(args[0], Integer.parseInt(args[1]), Path.of(args[2]));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                store.close();
            } catch (Exception e) {
                System.err.println("StorageHostMain: stopping S3Proxy: " + e);
            } finally {
                stopped.countDown();
            }
        }, "storage-host-stop"));
        System.out.println(READY + " " + store.endpoint());
        System.out.flush();
        // Nothing to do but serve (S3Proxy's own threads); the shutdown hook ends the wait.
        stopped.await();
    }
}
