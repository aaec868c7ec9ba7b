package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Removes the temp files that uploads cut short by a crash of the server left behind ({@link UploadTemp}):
 * at start-up under every directory the server serves (a walk that FtpServer runs in the background, so
 * the listener opens at once), and in one directory when an RMD finds nothing else in it. A temp file in
 * use by any server process, this one or another sharing the directory, is never touched.
 */
public final class StaleUploads {

    /** Entries one sweep looks at before it stops: a sweep is one pass at start-up, not a crawler. */
    static final long MAX_ENTRIES = 10_000_000;

    private StaleUploads() {}

    /**
     * What a sweep did: temp files removed, temp files left (in use, or not lockable here), entries looked at,
     * and whether it went through every root (false: stopped, or {@link #MAX_ENTRIES} reached).
     */
    public record Result(int removed, int kept, long entries, boolean complete) {}

    /**
     * Walks {@code roots} (links not followed, each directory once however the roots nest) and removes the
     * temp files no upload uses, telling {@code removedFile} each one. {@code stop} is asked at each entry; a
     * sweep that is told to stop returns what it did so far.
     */
    public static Result sweep(Collection<Path> roots, BooleanSupplier stop, Consumer<Path> removedFile) {
        int[] removed = {0};
        int[] kept = {0};
        long[] entries = {0};
        boolean[] cut = {false};
        for (Path root : outermost(roots)) {
            if (cut[0]) {
                break;
            }
            try {
                Files.walkFileTree(root, Set.of(), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                        return next();
                    }

                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                        if (file.getFileName().toString().startsWith(Jail.UPLOAD_PREFIX)) {
                            switch (UploadTemp.removeIfStale(file)) {
                                case REMOVED -> {
                                    removed[0]++;
                                    removedFile.accept(file);
                                }
                                case KEPT -> kept[0]++;
                                case GONE -> { }
                            }
                        }
                        return next();
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException e) {
                        // unreadable or gone meanwhile: not ours to judge
                        return next();
                    }

                    private FileVisitResult next() {
                        if (++entries[0] > MAX_ENTRIES || stop.getAsBoolean()) {
                            cut[0] = true;
                            return FileVisitResult.TERMINATE;
                        }
                        return FileVisitResult.CONTINUE;
                    }
                });
            } catch (IOException e) {
                // the root itself cannot be read: nothing to sweep there
            }
        }
        return new Result(removed[0], kept[0], entries[0], !cut[0]);
    }

    /** Removes the temp files no upload uses directly in {@code directory} (RMD); returns how many went. */
    static int removeIn(Path directory) {
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, Jail.UPLOAD_PREFIX + "*")) {
            for (Path entry : entries) {
                if (UploadTemp.removeIfStale(entry) == UploadTemp.Removal.REMOVED) {
                    removed++;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the directory cannot be listed: the caller's own error says so
        }
        return removed;
    }

    /** The real paths of the existing roots, without those inside another (compared as paths). */
    static List<Path> outermost(Collection<Path> roots) {
        List<Path> real = new ArrayList<>();
        for (Path root : roots) {
            try {
                real.add(root.toRealPath());
            } catch (IOException e) {
                // a home that does not exist (yet) holds no temp files
            }
        }
        real.sort(Comparator.comparingInt(Path::getNameCount));
        List<Path> kept = new ArrayList<>();
        for (Path p : real) {
            if (kept.stream().noneMatch(p::startsWith)) {
                kept.add(p);
            }
        }
        return kept;
    }
}
