package dev.ferry.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.ThreadLocalRandom;

/** Port ranges for tests that need passive ports which the kernel will not hand out meanwhile. */
public final class FreePorts {

    private FreePorts() {}

    /**
     * The first of {@code n} consecutive ports free on 127.0.0.1 now, chosen below the Linux
     * ephemeral range (32768 and up) so that no bind to port 0 takes one of them.
     */
    public static int range(int n) throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = 20_000 + ThreadLocalRandom.current().nextInt(12_000);
            if (allFree(base, n)) {
                return base;
            }
        }
        throw new IOException("no " + n + " consecutive free ports found");
    }

    private static boolean allFree(int base, int n) {
        for (int port = base; port < base + n; port++) {
            try (ServerSocketChannel probe = ServerSocketChannel.open()) {
                probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            } catch (IOException taken) {
                return false;
            }
        }
        return true;
    }
}
