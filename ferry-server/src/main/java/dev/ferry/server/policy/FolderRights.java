package dev.ferry.server.policy;

import dev.ferry.server.fs.VirtualPath;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Per-folder grants of one account: each names a folder of the account's tree (as the account sees it) and
 * the rights it grants there and below, unless a deeper grant says otherwise. Empty: the account's access
 * (read-only or read-write) applies everywhere.
 */
public record FolderRights(List<Grant> grants) {

    public static final FolderRights NONE = new FolderRights(List.of());

    /** The rights {@code rights} on {@code folder} and below. */
    public record Grant(VirtualPath folder, Set<Right> rights) {
        public Grant {
            Objects.requireNonNull(folder, "folder");
            rights = rights.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(rights));
        }
    }

    public FolderRights {
        grants = List.copyOf(grants);
    }

    public boolean isEmpty() {
        return grants.isEmpty();
    }
}
