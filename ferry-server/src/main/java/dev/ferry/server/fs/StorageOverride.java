package dev.ferry.server.fs;

/**
 * One account's storage when it is not the server's ({@code storage:} in a user entry): local files below its
 * {@code home} directory, or an object store where its home is a key prefix. An account without one (null)
 * uses the server's storage.
 *
 * @param objectStore the account's object store; null: local files ({@link #LOCAL})
 */
public record StorageOverride(ObjectStore objectStore) {

    /** Local files, even on a server whose own storage is an object store. */
    public static final StorageOverride LOCAL = new StorageOverride(null);

    public static StorageOverride of(ObjectStore store) {
        return store == null ? LOCAL : new StorageOverride(store);
    }

    public boolean local() {
        return objectStore == null;
    }
}
