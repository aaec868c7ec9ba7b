package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for an object-store engine in tests that cannot reach one: local files (a {@link HomeStorage}
 * underneath), named after its store, keeping no modification times as an object store keeps none, and recording
 * which homes it served and whether it was closed.
 */
public final class RecordingEngine implements StorageEngine {

    private final String name;
    private final HomeStorage files = new HomeStorage();
    public final List<Path> homes = new CopyOnWriteArrayList<>();
    public volatile boolean closed;

    public RecordingEngine(String name) {
        this.name = name;
    }

    @Override
    public Storage forHome(Path home) throws IOException {
        homes.add(home);
        return files.forHome(home);
    }

    @Override
    public Storage forPrivateUploads(Path home) throws IOException {
        homes.add(home);
        return files.forPrivateUploads(home);
    }

    @Override
    public boolean keepsModificationTimes() {
        return false;
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public void close() {
        closed = true;
    }
}
