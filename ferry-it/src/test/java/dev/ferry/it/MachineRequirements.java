package dev.ferry.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * What some integration tests need from the machine (root, Linux, system programs), and the one rule for
 * when it is missing: skip with a loud message on a developer's machine, fail under {@code CI=true}, where
 * {@code .ci/run} installs everything and runs as root, so a skip there would hide a broken CI.
 */
public final class MachineRequirements {

    private MachineRequirements() {}

    /** Whether this is Linux (network namespaces). */
    public static boolean isLinux() {
        return System.getProperty("os.name").equals("Linux");
    }

    /** Whether this process runs as root (uid 0). */
    public static boolean isRoot() throws IOException {
        Object uid = Files.exists(Path.of("/proc/self")) ? Files.getAttribute(Path.of("/proc/self"), "unix:uid") : -1;
        return Integer.valueOf(0).equals(uid);
    }

    /** An executable named {@code program} on the PATH or in the usual system directories (sbin is often off a user's PATH). */
    public static Optional<Path> onPath(String program) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, program)).filter(Files::isExecutable).findFirst();
    }

    /**
     * Returns when nothing is missing; otherwise fails under {@code CI=true} (adding {@code ciHint}) and
     * elsewhere prints "SKIPPED ..." on stderr and aborts the test (JUnit reports it skipped).
     */
    public static void satisfiedOrSkip(String tests, List<String> missing, String ciHint) {
        if (missing.isEmpty()) {
            return;
        }
        String message = tests + " need: " + String.join(", ", missing);
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(message + " (" + ciHint + ")");
        }
        System.err.println("SKIPPED " + message);
        Assumptions.abort(message);
    }
}
