package dev.ferry.server.fs;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.ServerSettings.UserAccount;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The storage engines of one server: its own (an object store, or local files below the root), and one more per
 * distinct {@link ObjectStore} that an account's own {@code storage:} names (another bucket, prefix or endpoint),
 * so that two accounts on the same store share one client and one upload budget. Accounts whose
 * {@code storage: local} puts them on local files of a server on an object store share one local engine.
 *
 * <p>Every engine is opened (and so checked: bucket reachable, credentials accepted) before the server binds, or
 * during the reload that brings the account; an engine opened at reload stays open until the server stops, since
 * sessions logged in through it may still be using it. An account whose store was never opened cannot happen in
 * a running server; {@link #forAccount} says so with an IOException rather than opening on a login, where a slow
 * or broken store would hold up the USER/PASS exchange and its message would reach no operator.
 */
public final class StorageEngines implements AutoCloseable {

    /** Opens (and checks) the engine of one object store. */
    @FunctionalInterface
    public interface Opener {
        StorageEngine open(ObjectStore store) throws IOException;
    }

    private final ObjectStore serverStore;
    private final StorageEngine server;
    private final StorageEngine local;
    private final Opener opener;
    private final Map<ObjectStore, StorageEngine> others = new ConcurrentHashMap<>();

    /**
     * @param serverStore the server's own object store, or null when its files are local
     * @param server      the server's engine (for {@code serverStore}, or local files)
     * @param local       the engine of accounts with {@code storage: local}; {@code server} itself when that is local
     * @param opener      opens the engine of another object store
     */
    public StorageEngines(ObjectStore serverStore, StorageEngine server, StorageEngine local, Opener opener) {
        this.serverStore = serverStore;
        this.server = server;
        this.local = local;
        this.opener = opener;
    }

    /** One engine for everything, with no store of any account's own (tests, and servers built by hand). */
    public static StorageEngines of(StorageEngine only) {
        return new StorageEngines(null, only, only, store -> {
            throw new IOException("storage " + store.url() + " cannot be opened: this server serves one storage only");
        });
    }

    /**
     * The engines {@code settings} need: the server's, then one per account's own store, each checked. If any
     * cannot be opened, those already open are closed and the IOException names the account.
     */
    public static StorageEngines open(ServerSettings settings) throws IOException {
        ObjectStore serverStore = settings.objectStore();
        Opener opener = store -> StorageEngine.open(store, settings);
        StorageEngine server = serverStore == null ? StorageEngine.open(settings) : opener.open(serverStore);
        StorageEngine local = serverStore == null ? server : new HomeStorage(new FileModes(settings.umask()), settings.root());
        StorageEngines engines = new StorageEngines(serverStore, server, local, opener);
        try {
            engines.openFor(settings.users());
        } catch (IOException | RuntimeException e) {
            engines.close();
            throw e;
        }
        return engines;
    }

    /**
     * Opens the engines of the stores {@code users} name that are not open yet (at start, and at reload before the
     * new accounts apply). All or nothing: when one fails, those this call opened are closed again and the
     * IOException says which account's store failed. Returns the stores opened now.
     */
    public synchronized List<ObjectStore> openFor(List<UserAccount> users) throws IOException {
        Map<ObjectStore, StorageEngine> opened = new LinkedHashMap<>();
        try {
            for (UserAccount user : users) {
                ObjectStore store = user.storage() == null ? null : user.storage().objectStore();
                if (store == null || store.equals(serverStore) || others.containsKey(store) || opened.containsKey(store)) {
                    continue;
                }
                try {
                    opened.put(store, opener.open(store));
                } catch (IOException e) {
                    throw new IOException("user " + user.name() + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException | RuntimeException e) {
            opened.values().forEach(StorageEngine::close);
            throw e;
        }
        others.putAll(opened);
        return List.copyOf(opened.keySet());
    }

    /** The server's own engine (anonymous logins and accounts without a storage of their own). */
    public StorageEngine server() {
        return server;
    }

    /** The engine of an account whose own storage is {@code storage} (null: the server's). */
    public StorageEngine forAccount(StorageOverride storage) throws IOException {
        if (storage == null) {
            return server;
        }
        if (storage.local()) {
            return local;
        }
        ObjectStore store = storage.objectStore();
        if (store.equals(serverStore)) {
            return server;
        }
        StorageEngine engine = others.get(store);
        if (engine == null) {
            throw new IOException("storage " + store.url() + " is not open (stores are opened at start and at reload)");
        }
        return engine;
    }

    /** The names of the accounts whose own storage is {@code store}, comma-separated (the start's log, --check-config). */
    public static String usersOn(List<UserAccount> users, ObjectStore store) {
        return String.join(",", users.stream()
                .filter(u -> u.storage() != null && store.equals(u.storage().objectStore()))
                .map(UserAccount::name).toList());
    }

    /** The stores of accounts' own, opened so far. */
    public List<ObjectStore> otherStores() {
        return List.copyOf(others.keySet());
    }

    @Override
    public void close() {
        List<StorageEngine> all = new ArrayList<>(others.values());
        others.clear();
        all.add(server);
        if (local != server) {
            all.add(local);
        }
        for (StorageEngine engine : all) {
            try {
                engine.close();
            } catch (RuntimeException ignored) {
                // closing the rest anyway: one failed close must not leave the other clients open
            }
        }
    }
}
