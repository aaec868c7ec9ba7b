package dev.ferry.server.listing;

import dev.ferry.protocol.command.FeatureList;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Right;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Machine listings of RFC 3659 §7 (MLST, MLSD) and the OPTS MLST texts. Pure functions. The FEAT line is
 * the verb table's (FeatureList), from the same facts.
 */
public final class MlsxFormat {
    /** Facts Ferry supports, in the order they are written. */
    public static final List<String> ALL_FACTS = FeatureList.MLST_FACTS;

    private MlsxFormat() {
    }

    /**
     * One entry without CRLF and without the leading space MLST puts on the control connection:
     * {@code "type=file;size=12;modify=20261124215600;perm=adfrw;unique=abc; name"}.
     *
     * @param typeFact     file, dir, cdir (the listed directory itself) or pdir
     * @param userWritable whether the logged-in user may change this entry
     * @param facts        the facts selected (OPTS MLST), case-insensitive
     */
    public static String factsLine(FileInfo f, String displayName, String typeFact, boolean userWritable,
                                   Set<String> facts) {
        Set<Right> rights = FolderRights.access(userWritable);
        return factsLine(f, displayName, typeFact, rights, rights, facts);
    }

    /**
     * As above, with the perm fact from the rights the user has at the entry ({@code here}) and over the entry
     * itself ({@code asEntry}: deleting or renaming it), which per-folder rights can make differ
     * ({@code FolderRights.atEntry}).
     */
    public static String factsLine(FileInfo f, String displayName, String typeFact, Set<Right> here,
                                   Set<Right> asEntry, Set<String> facts) {
        Set<String> selected = lowerCase(facts);
        StringBuilder line = new StringBuilder();
        for (String fact : ALL_FACTS) {
            if (!selected.contains(fact)) {
                continue;
            }
            String value = switch (fact) {
                case "type" -> typeFact;
                // RFC 3659 §7.5.7: size applies to non-directory types only
                case "size" -> f.type() == FileType.DIRECTORY ? null : Long.toString(f.size());
                case "modify" -> timeVal(f.lastModified());
                case "perm" -> perm(f.type(), here, asEntry);
                case "unique" -> isFactValue(f.uniqueId()) ? f.uniqueId() : null;
                default -> throw new IllegalStateException(fact);
            };
            if (value != null) {
                line.append(fact).append('=').append(value).append(';');
            }
        }
        // RFC 3659 §7.2: entry = [ facts ] SP pathname
        return line.append(' ').append(displayName).toString();
    }

    /**
     * RFC 3659 §2.3 time-val in UTC, "YYYYMMDDHHMMSS" with ".sss" only when the milliseconds are
     * not zero; also the MDTM reply (§3).
     */
    public static String timeVal(Instant time) {
        LocalDateTime t = LocalDateTime.ofInstant(Times.clamp(time), ZoneOffset.UTC);
        String seconds = String.format(Locale.ROOT, "%04d%02d%02d%02d%02d%02d", t.getYear(), t.getMonthValue(),
                t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond());
        int millis = t.getNano() / 1_000_000;
        return millis == 0 ? seconds : seconds + String.format(Locale.ROOT, ".%03d", millis);
    }

    /**
     * RFC 3659 §7.5.5 perm letters for what the user may do, from its rights at the entry ({@code here}) and over
     * the entry itself ({@code asEntry}). A file: r (RETR) with download; a (APPE) and w (STOR) with overwrite;
     * d (DELE) and f (RNFR) with delete and rename over it. A directory: e (CWD) with list or upload; l with
     * list; c (STOR of a new file) with upload; m (MKD) with mkdir; p (deleting what is in it) with delete; d
     * (RMD) and f (RNFR) with delete and rename over it. Other types: none. A read-write account (every right)
     * gets "adfrw" and "cdeflmp", a read-only one (list, download) "r" and "el".
     */
    public static String perm(FileType type, Set<Right> here, Set<Right> asEntry) {
        StringBuilder p = new StringBuilder();
        switch (type) {
            case FILE -> {
                letter(p, 'a', here.contains(Right.OVERWRITE));
                letter(p, 'd', asEntry.contains(Right.DELETE));
                letter(p, 'f', asEntry.contains(Right.RENAME));
                letter(p, 'r', here.contains(Right.DOWNLOAD));
                letter(p, 'w', here.contains(Right.OVERWRITE));
            }
            case DIRECTORY -> {
                letter(p, 'c', here.contains(Right.UPLOAD));
                letter(p, 'd', asEntry.contains(Right.DELETE));
                letter(p, 'e', here.contains(Right.LIST) || here.contains(Right.UPLOAD));
                letter(p, 'f', asEntry.contains(Right.RENAME));
                letter(p, 'l', here.contains(Right.LIST));
                letter(p, 'm', here.contains(Right.MKDIR));
                letter(p, 'p', here.contains(Right.DELETE));
            }
            case OTHER -> { }
        }
        return p.toString();
    }

    /** {@link #perm(FileType, Set, Set)} for an account's access: read-write, or read-only. */
    public static String perm(FileType type, boolean userWritable) {
        Set<Right> rights = FolderRights.access(userWritable);
        return perm(type, rights, rights);
    }

    private static void letter(StringBuilder p, char c, boolean granted) {
        if (granted) {
            p.append(c);
        }
    }

    /**
     * RFC 3659 §7.9: the facts an "OPTS MLST" argument selects, e.g. "Type;Size;" or "" (none);
     * unknown facts are ignored; the result is lower case in {@link #ALL_FACTS} order.
     */
    public static Set<String> selectFacts(String argument) {
        Set<String> requested = new LinkedHashSet<>();
        for (String fact : (argument == null ? "" : argument).split(";")) {
            requested.add(fact.trim().toLowerCase(Locale.ROOT));
        }
        Set<String> selected = new LinkedHashSet<>();
        for (String fact : ALL_FACTS) {
            if (requested.contains(fact)) {
                selected.add(fact);
            }
        }
        return selected;
    }

    /** RFC 3659 §7.9.1: the fact list of the "200 MLST OPTS type;size;" reply. */
    public static String factList(Set<String> selected) {
        Set<String> lower = lowerCase(selected);
        StringBuilder list = new StringBuilder();
        for (String fact : ALL_FACTS) {
            if (lower.contains(fact)) {
                list.append(fact).append(';');
            }
        }
        return list.toString();
    }

    private static Set<String> lowerCase(Set<String> facts) {
        Set<String> lower = new LinkedHashSet<>();
        for (String fact : facts) {
            lower.add(fact.toLowerCase(Locale.ROOT));
        }
        return lower;
    }

    /** RFC 3659 §7.4: a fact value may hold neither ';' nor a space (nor, sensibly, controls). */
    private static boolean isFactValue(String value) {
        if (value == null || value.isEmpty()) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ';' || c <= ' ' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }
}
