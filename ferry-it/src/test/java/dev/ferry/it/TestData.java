package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** Test files: seeded random content, SHA-256, tree comparison, free ports. */
public final class TestData {

    private TestData() {}

    /** {@code size} pseudo-random bytes; the same seed gives the same bytes. */
    public static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** Writes {@code size} random bytes to {@code file} (parents created) and returns them. */
    public static byte[] randomFile(Path file, int size, long seed) throws IOException {
        byte[] bytes = random(size, seed);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return bytes;
    }

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                md.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An upload over an existing file: what the client was told and what the file holds must agree. Told
     * complete (226): exactly the bytes sent; told anything else: exactly the bytes it held before, never
     * a part or nothing (a failed upload leaves an existing file as it was).
     */
    public static void assertStoredOrKept(Path file, boolean toldComplete, byte[] before, byte[] sent) throws IOException {
        if (toldComplete) {
            assertThat(sha256(file)).as("%s after an upload the client was told is complete holds the bytes sent", file)
                    .isEqualTo(sha256(sent));
        } else {
            assertThat(sha256(file)).as("%s after an upload that failed holds its old bytes", file)
                    .isEqualTo(sha256(before));
        }
    }

    /** Fails unless both trees hold the same relative paths, with byte-identical files. */
    public static void assertSameTree(Path expected, Path actual) throws IOException {
        assertThat(tree(actual)).as("tree %s compared with %s", actual, expected).isEqualTo(tree(expected));
    }

    /** Relative path to SHA-256 (files) or "dir" (directories). */
    private static TreeMap<String, String> tree(Path top) throws IOException {
        TreeMap<String, String> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(top)) {
            for (Path p : walk.filter(p -> !p.equals(top)).toList()) {
                entries.put(top.relativize(p).toString(), Files.isDirectory(p) ? "dir" : sha256(p));
            }
        }
        return entries;
    }

    /** A port free at the time of the call (for settings that need a fixed port). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /** A condition that may throw. */
    public interface Condition {
        boolean holds() throws Exception;
    }

    /**
     * Polls until {@code condition} holds, for at most 10 s; for effects the server produces after the
     * reply a client sees (cleanup after a disconnect). Never a substitute for waiting on a reply.
     */
    /** Polls (10 ms) until {@code condition} holds; returns how long it took, or fails after {@code limit}. */
    public static java.time.Duration within(java.time.Duration limit, String what, Condition condition) throws Exception {
        long start = System.nanoTime();
        while (!condition.holds()) {
            if (System.nanoTime() - start > limit.toNanos()) {
                throw new AssertionError("not within " + limit.toMillis() + " ms: " + what);
            }
            Thread.sleep(10);
        }
        return java.time.Duration.ofNanos(System.nanoTime() - start);
    }

    public static void await(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    /**
     * 127.0.0.2, a second local address for "another client" (Linux routes all of 127/8 to lo);
     * the test is skipped where it cannot be bound.
     */
    public static InetAddress secondLoopback() throws IOException {
        InetAddress other = InetAddress.getByName("127.0.0.2");
        try (Socket probe = new Socket()) {
            probe.bind(new InetSocketAddress(other, 0));
        } catch (IOException e) {
            Assumptions.abort("127.0.0.2 cannot be bound here: " + e.getMessage());
        }
        return other;
    }

    /** The names in a directory, sorted. */
    public static List<String> names(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Deletes {@code dir} and everything under it (a test's scratch directory), deepest first. */
    public static void deleteTree(Path dir) throws java.io.IOException {
        try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
