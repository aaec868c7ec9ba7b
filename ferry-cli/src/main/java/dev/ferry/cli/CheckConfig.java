package dev.ferry.cli;

import dev.ferry.database.Database;
import dev.ferry.database.DatabaseSettings;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.StorageEngines;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code --check-config} of {@code ferry server} and {@code ferry balancer}, as {@code haproxy -c} and
 * {@code nginx -t}: everything the start reads and checks before it binds, then exit 0 with one line on
 * stdout, or the start's own message on stderr and exit 2. Nothing is bound, no thread started, no
 * certificate generated. The systemd units run it in {@code ExecReload} before the SIGHUP, so that
 * {@code systemctl reload} shows a broken file instead of only logging it.
 */
final class CheckConfig {

    static final String FLAG = "--check-config";
    static final String DESCRIPTION = "Check the configuration (file, users file, options, certificate and key, state directory) "
            + "as the start would, bind nothing, print 'configuration OK' and exit 0, or the error and exit 2. "
            + "With object storage it prints the store's settings and, as the start does, checks that the bucket answers "
            + "to the credentials, so it reaches the store.";
    /** The exit code of an invalid configuration, which a failed check always is (even where the start says 1). */
    static final int INVALID = 2;

    private CheckConfig() {
    }

    /**
     * With object storage, one line per store (the server's, then each account's own) with its settings, after the
     * start's own check of each bucket: the check opens the stores as the start does and closes them again. Nothing
     * when the files are local. Never prints a credential: only where they come from.
     */
    static void storage(ServerSettings settings) throws IOException {
        if (settings.objectStore() == null && settings.users().stream().allMatch(u -> u.storage() == null)) {
            return;
        }
        try (StorageEngines engines = StorageEngines.open(settings)) {
            if (settings.objectStore() != null) {
                System.out.println("storage: " + describe(settings.objectStore()) + ": bucket answers");
            }
            for (ObjectStore store : engines.otherStores()) {
                System.out.println("storage of " + StorageEngines.usersOn(settings.users(), store) + ": " + describe(store)
                        + ": bucket answers");
            }
            List<String> local = settings.users().stream()
                    .filter(u -> settings.objectStore() != null && u.storedLocally(settings.objectStore()))
                    .map(ServerSettings.UserAccount::name).toList();
            if (!local.isEmpty()) {
                System.out.println("storage of " + String.join(",", local) + ": local files");
            }
        }
    }

    /**
     * With a {@code database:} section, one line saying whether the database answers and which schema it holds; a
     * database that cannot be reached, refuses the role, or is newer than this Ferry fails the check as it fails the
     * start. Changes nothing (the start migrates). Never prints the password: only its file.
     */
    static void database(ServerSettings settings) throws IOException {
        DatabaseSettings db = settings.database();
        if (db == null) {
            return;
        }
        Database.SchemaState state = Database.inspect(db);
        if (state.found() > state.latest()) {
            throw new IOException("database " + db.displayUrl() + ": " + state.describe());
        }
        System.out.println("database: " + db.displayUrl() + " user=" + db.user() + " password-file="
                + (db.passwordFile() == null ? "-" : db.passwordFile()) + ": answers, " + state.describe());
    }

    /** The settings of a store as the config file spells them. */
    static String describe(ObjectStore store) {
        return store.url()
                + " endpoint=" + (store.endpoint() == null ? "AWS (" + store.region() + ")" : store.endpoint())
                + " region=" + store.region()
                + " path-style=" + store.pathStyle()
                + " credentials=" + (store.credentialsFile() == null ? "the AWS chain" : store.credentialsFile())
                + " part-size=" + size(store.partSize())
                + " parts-in-flight=" + store.partsInFlight()
                + " upload-memory=" + size(store.uploadMemory())
                + " request-timeout=" + duration(store.requestTimeout());
    }

    /** "60s", "1500ms": as the file spells durations. */
    private static String duration(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static String size(long bytes) {
        for (String unit : List.of("GiB", "MiB", "KiB")) {
            int shift = unit.equals("GiB") ? 30 : unit.equals("MiB") ? 20 : 10;
            if (bytes >= 1L << shift && bytes % (1L << shift) == 0) {
                return (bytes >> shift) + unit;
            }
        }
        return Long.toString(bytes);
    }

    /** Prints the OK line and returns the exit code 0 (no service runs). */
    static Started ok(String command, Path config) {
        System.out.println("configuration OK: " + (config != null ? config : "(" + command + " options only, no --config)"));
        return new Started(0, false);
    }
}
