package dev.ferry.server.policy;

import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Per-folder grants of one account: each names a folder of the account's tree (as the account sees it) and
 * the rights it grants there and below, unless a deeper grant says otherwise. Empty: the account's access
 * (read-only or read-write) applies everywhere.
 *
 * <p>Rules (docs/policy.md, "Per-folder rights"), SFTPGo's per-directory permissions:
 * <ul>
 *   <li>The deepest grant whose folder contains the path decides, alone: grants do not add up, so
 *       {@code /: [list, download]} with {@code /incoming: [upload]} leaves {@code /incoming} without list.</li>
 *   <li>A path under no grant has the account's access ({@link #access}): read-write is every right, read-only is
 *       list and download. A grant replaces the access in its folder both ways: it can open a drop folder to a
 *       read-only account and close part of a read-write one.</li>
 *   <li>An entry's own existence (creating, removing or renaming it) is its parent's business
 *       ({@link #allowsOnEntry}): a grant on {@code /shared} governs what is inside it, not whether
 *       {@code /shared} itself may be removed or renamed, which {@code /}'s rights decide.</li>
 * </ul>
 *
 * <p>Pure and compared by {@link VirtualPath} segments, never string prefixes ({@code /shared2} is not below
 * {@code /shared}).
 */
public record FolderRights(List<Grant> grants) {

    public static final FolderRights NONE = new FolderRights(List.of());

    private static final Set<Right> READ_WRITE = Set.copyOf(EnumSet.allOf(Right.class));
    private static final Set<Right> READ_ONLY = Set.copyOf(EnumSet.of(Right.LIST, Right.DOWNLOAD));

    /** The rights {@code rights} on {@code folder} and below. */
    public record Grant(VirtualPath folder, Set<Right> rights) {
        public Grant {
            Objects.requireNonNull(folder, "folder");
            rights = rights.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(rights));
        }
    }

    public FolderRights {
        grants = List.copyOf(grants);
        Set<VirtualPath> seen = new HashSet<>();
        for (Grant g : grants) {
            // Two grants on one folder would make "the deepest decides" depend on their order.
            if (!seen.add(g.folder())) {
                throw new IllegalArgumentException("folder " + g.folder() + " is given twice");
            }
        }
    }

    public boolean isEmpty() {
        return grants.isEmpty();
    }

    /** The rights of an account's access where no grant applies: read-write, every right; read-only, list and download. */
    public static Set<Right> access(boolean writable) {
        return writable ? READ_WRITE : READ_ONLY;
    }

    /** The grant that decides for {@code path}: the deepest whose folder is {@code path} or above it; null if none. */
    public Grant deciding(VirtualPath path) {
        Grant best = null;
        for (Grant g : grants) {
            if (path.startsWith(g.folder())
                    && (best == null || g.folder().segments().size() > best.folder().segments().size())) {
                best = g;
            }
        }
        return best;
    }

    /** The rights at {@code path}; {@code outside} where no grant applies (the account's {@link #access}). */
    public Set<Right> at(VirtualPath path, Set<Right> outside) {
        Grant g = deciding(path);
        return g == null ? outside : g.rights();
    }

    /** Whether {@code right} holds at {@code path} (reading it, or what is inside it). */
    public boolean allows(Right right, VirtualPath path, Set<Right> outside) {
        return at(path, outside).contains(right);
    }

    /**
     * Whether {@code right} holds for creating, removing or renaming the entry {@code path}: as {@link #allows},
     * except that a path a grant names is asked of its parent. SECURITY: otherwise {@code /shared: [delete]},
     * meant for the files in it, would let the account remove the shared folder itself, and
     * {@code /shared: [rename]} move it away, taking the grant's protection of the rest of the tree with it.
     */
    public boolean allowsOnEntry(Right right, VirtualPath path, Set<Right> outside) {
        return atEntry(path, outside).contains(right);
    }

    /**
     * The rights over the entry {@code path} itself (see {@link #allowsOnEntry}). SECURITY: never
     * {@link Right#RENAME} where a grant names {@code path} or a folder below it. Rights follow paths, so a folder
     * moved away leaves its grants behind: renaming a read-only {@code /home/pub} (or {@code /home}) under a
     * read-write {@code /} would make its files writable, and a rename onto such a path would put other files
     * under grants made for these. SFTPGo refuses both alike.
     */
    public Set<Right> atEntry(VirtualPath path, Set<Right> outside) {
        Set<Right> rights = entryRights(path, outside);
        if (rights.contains(Right.RENAME) && grantsAtOrBelow(path)) {
            EnumSet<Right> fewer = EnumSet.copyOf(rights);
            fewer.remove(Right.RENAME);
            return Set.copyOf(fewer);
        }
        return rights;
    }

    private Set<Right> entryRights(VirtualPath path, Set<Right> outside) {
        for (Grant g : grants) {
            if (!path.isRoot() && g.folder().equals(path)) {
                return at(path.parent(), outside);
            }
        }
        return at(path, outside);
    }

    /** Whether a grant names {@code path} or a folder below it. */
    public boolean grantsAtOrBelow(VirtualPath path) {
        for (Grant g : grants) {
            if (g.folder().startsWith(path)) {
                return true;
            }
        }
        return false;
    }

    // --- Text form: for a database column, the CLI and the auth hook --------------------------------------------

    /**
     * The compact form: grants separated by {@code ;}, each {@code /folder=right,right}, e.g.
     * {@code /=list,download;/incoming=list,upload}; an empty text is no grant, {@code /private=} a grant of no
     * right. In a folder name {@code %}, {@code ;}, {@code =} and {@code ,} are written {@code %25}, {@code %3B},
     * {@code %3D} and {@code %2C} ({@link #format} does so); no other escape exists. Right names are lower-case,
     * spaces around them are ignored; the folder is taken as written, which must be absolute.
     *
     * @throws IllegalArgumentException the text is not that form; the message says where and why
     */
    public static FolderRights parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.isBlank()) {
            return NONE;
        }
        List<Grant> grants = new ArrayList<>();
        Set<VirtualPath> seen = new HashSet<>();
        int n = 0;
        for (String part : text.split(";", -1)) {
            n++;
            String where = "rights grant " + n + " (" + quote(part) + ")";
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException(where + ": expected /folder=right,right");
            }
            String folderText = unescape(part.substring(0, eq), where);
            if (!folderText.startsWith("/")) {
                throw new IllegalArgumentException(where + ": the folder must start with /");
            }
            VirtualPath folder;
            try {
                folder = VirtualPath.of(folderText);
            } catch (InvalidVirtualPathException e) {
                throw new IllegalArgumentException(where + ": not a valid folder: " + e.getMessage());
            }
            if (!seen.add(folder)) {
                throw new IllegalArgumentException(where + ": folder " + folder + " is given twice");
            }
            Set<Right> rights = EnumSet.noneOf(Right.class);
            String list = part.substring(eq + 1);
            if (!list.isBlank()) {
                for (String name : list.split(",", -1)) {
                    Right r = named(name.strip());
                    if (r == null) {
                        throw new IllegalArgumentException(where + ": unknown right " + quote(name.strip())
                                + "; expected " + names());
                    }
                    rights.add(r);
                }
            }
            grants.add(new Grant(folder, rights));
        }
        return new FolderRights(grants);
    }

    /** The text {@link #parse} reads back into an equal value; grants in their order, rights in {@link Right}'s. */
    public String format() {
        StringBuilder b = new StringBuilder();
        for (Grant g : grants) {
            if (!b.isEmpty()) {
                b.append(';');
            }
            b.append(escape(g.folder().toString())).append('=');
            boolean first = true;
            for (Right r : Right.values()) {
                if (g.rights().contains(r)) {
                    b.append(first ? "" : ",").append(r.name().toLowerCase(Locale.ROOT));
                    first = false;
                }
            }
        }
        return b.toString();
    }

    /** A right by its lower-case name ("upload"), or null. */
    public static Right named(String name) {
        for (Right r : Right.values()) {
            if (r.name().toLowerCase(Locale.ROOT).equals(name)) {
                return r;
            }
        }
        return null;
    }

    private static String names() {
        return String.join(", ", java.util.Arrays.stream(Right.values())
                .map(r -> r.name().toLowerCase(Locale.ROOT)).toList());
    }

    private static String escape(String folder) {
        StringBuilder b = new StringBuilder(folder.length());
        for (int i = 0; i < folder.length(); i++) {
            char c = folder.charAt(i);
            switch (c) {
                case '%' -> b.append("%25");
                case ';' -> b.append("%3B");
                case '=' -> b.append("%3D");
                case ',' -> b.append("%2C");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static String unescape(String text, String where) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ',') {
                throw new IllegalArgumentException(where + ": a , in a folder name is written %2C");
            }
            if (c != '%') {
                b.append(c);
                continue;
            }
            String code = i + 3 <= text.length() ? text.substring(i + 1, i + 3).toUpperCase(Locale.ROOT) : "";
            b.append(switch (code) {
                case "25" -> '%';
                case "3B" -> ';';
                case "3D" -> '=';
                case "2C" -> ',';
                default -> throw new IllegalArgumentException(where
                        + ": % in a folder name starts %25, %3B, %3D or %2C (for %, ;, = and ,)");
            });
            i += 2;
        }
        return b.toString();
    }

    private static String quote(String s) {
        return "'" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "'";
    }
}
