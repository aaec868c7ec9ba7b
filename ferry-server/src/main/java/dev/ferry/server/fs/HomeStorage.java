package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link Storage} per home directory, shared by all sessions of that home. A LocalStorage is
 * immutable (its root resolved once), so sharing is safe, and a login then costs no path
 * resolution. Bounded by the number of distinct homes in the configuration; a home that cannot
 * be opened is not remembered, so it is retried at the next login.
 */
public final class HomeStorage implements StorageEngine {

    /** umask 077: files 0600, directories 0700, whatever the server's umask. */
    private static final int PRIVATE_UMASK = 0077;

    private final ConcurrentHashMap<Path, Storage> byHome = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Path, Storage> privateByHome = new ConcurrentHashMap<>();
    private final FileModes modes;
    private final FileModes privateModes = new FileModes(PRIVATE_UMASK);
    private final Path root;

    /** With the default umask (022). */
    public HomeStorage() {
        this(new FileModes(FileModes.DEFAULT_UMASK));
    }

    /** @param modes the permissions of what users create, in every home */
    public HomeStorage(FileModes modes) {
        this(modes, null);
    }

    /** @param root the server root, named by {@link #describe} (null: not known) */
    public HomeStorage(FileModes modes, Path root) {
        this.modes = modes;
        this.root = root;
    }

    @Override
    public String describe() {
        return root == null ? "local directories" : root.toString();
    }

    @Override
    public Storage forHome(Path home) throws IOException {
        return forHome(home, byHome, modes);
    }

    /** The same home, but what is created there is readable by the server's account only (0600, 0700). */
    @Override
    public Storage forPrivateUploads(Path home) throws IOException {
        return forHome(home, privateByHome, privateModes);
    }

    private static Storage forHome(Path home, ConcurrentHashMap<Path, Storage> byHome, FileModes modes)
            throws IOException {
        Storage s = byHome.get(home);
        if (s == null) {
            s = new LocalStorage(home, modes);
            Storage raced = byHome.putIfAbsent(home, s);
            if (raced != null) {
                s = raced;
            }
        }
        return s;
    }
}
