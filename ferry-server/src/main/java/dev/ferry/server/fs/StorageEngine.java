package dev.ferry.server.fs;

import dev.ferry.server.ServerSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ServiceLoader;

/**
 * Where a server's files live: the {@link Storage} each home sees as "/". One engine per server, made at start
 * (which checks that the storage is usable: a local root that is a directory, a bucket that answers to the
 * credentials) and closed at stop. {@link HomeStorage} is the local engine; an object-store engine comes from a
 * {@link Provider} found on the class path ({@code ferry-storage-s3}).
 */
public interface StorageEngine extends AutoCloseable {

    /** The storage {@code home} sees as "/" (a directory below or at the server root). */
    Storage forHome(Path home) throws IOException;

    /** The same home, but what is created there is the server's alone (the anonymous upload directory). */
    Storage forPrivateUploads(Path home) throws IOException;

    /** Whether MFMT can be honoured (FEAT lists it only then). */
    default boolean keepsModificationTimes() {
        return true;
    }

    /** What the log's "listening" line says the server serves: a directory, or {@code s3://bucket/prefix}. */
    String describe();

    @Override
    default void close() {
    }

    /** Makes the engine for an {@link ObjectStore}; registered with {@link ServiceLoader}. */
    interface Provider {
        /**
         * Opens the store and checks it (bucket reachable, credentials valid): an IOException whose message says
         * what is wrong and which setting to change, never a credential.
         */
        StorageEngine open(ObjectStore store, ServerSettings settings) throws IOException;
    }

    /** The engine {@code settings} ask for: the local root, or the object store through its provider. */
    static StorageEngine open(ServerSettings settings) throws IOException {
        ObjectStore store = settings.objectStore();
        if (store == null) {
            return new HomeStorage(new FileModes(settings.umask()), settings.root());
        }
        return open(store, settings);
    }

    /** The engine of {@code store} (the server's, or an account's own), from the provider on the class path. */
    static StorageEngine open(ObjectStore store, ServerSettings settings) throws IOException {
        for (Provider p : ServiceLoader.load(Provider.class, StorageEngine.class.getClassLoader())) {
            return p.open(store, settings);
        }
        throw new IOException("storage " + store.url() + " needs the object-store engine (ferry-storage-s3), which is"
                + " not on the class path");
    }
}
