package dev.ferry.runtime.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The default node name: the machine's host name, as HAProxy's {@code node} defaults to it. Read from the
 * kernel rather than resolved through DNS, which may be slow or absent when a daemon starts.
 */
public final class NodeName {

    private static final Path KERNEL_HOSTNAME = Path.of("/proc/sys/kernel/hostname");

    private NodeName() {
    }

    public static String local() {
        try {
            String name = Files.readString(KERNEL_HOSTNAME).strip();
            if (!name.isEmpty()) {
                return token(name);
            }
        } catch (IOException | SecurityException e) {
            // not Linux, or /proc hidden: fall through to the environment
        }
        String env = System.getenv("HOSTNAME");
        return env == null || env.isBlank() ? "localhost" : token(env.strip());
    }

    /** A host name made one token: what {@link #problem} refuses becomes '-', and it is cut at 64. */
    static String token(String name) {
        StringBuilder out = new StringBuilder(Math.min(name.length(), 64));
        for (int i = 0; i < name.length() && out.length() < 64; i++) {
            char c = name.charAt(i);
            out.append((Character.isLetterOrDigit(c) && c < 128) || c == '.' || c == '_' || c == '-' ? c : '-');
        }
        return out.toString();
    }

    /** A node name is one logfmt token: letters, digits, {@code . _ -}, 1 to 64 characters. */
    public static String problem(String name) {
        if (name.isEmpty() || name.length() > 64) {
            return "must be 1 to 64 characters";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && c != '.' && c != '_' && c != '-') {
                return "may hold only letters, digits, '.', '_' and '-'";
            }
        }
        return null;
    }
}
