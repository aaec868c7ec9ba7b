package dev.ferry.server.auth;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * A home an external source names (a directory's homeDirectory, an auth hook's home_dir), read below the server root
 * as a chroot would: {@code /home/alice} is {@code ROOT/home/alice}. One rule for every such source, so that they
 * cannot drift apart on what "outside the root" means.
 */
public final class ChrootHome {

    private ChrootHome() {
    }

    /**
     * The directory {@code home} names below {@code root} (absolute, normalized); {@code root} itself for null or
     * empty; null when it is no path or leads out of the root.
     */
    public static Path resolve(Path root, String home) {
        if (home == null || home.isEmpty()) {
            return root;
        }
        String trimmed = home.replaceFirst("^/+", "");
        Path resolved;
        try {
            resolved = trimmed.isEmpty() ? root : root.resolve(trimmed).normalize();
        } catch (InvalidPathException e) {
            return null;
        }
        // SECURITY: a home such as ../../etc must not take the user outside the served tree (Path, not string,
        // comparison: /srv/ftp2 is not below /srv/ftp).
        return resolved.startsWith(root) ? resolved : null;
    }
}
