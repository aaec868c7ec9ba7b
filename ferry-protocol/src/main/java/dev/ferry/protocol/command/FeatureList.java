package dev.ferry.protocol.command;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb.Feature;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The FEAT answer (RFC 2389 §3.2), built from the verb table's feature column plus what belongs to no
 * single verb, so that server and balancer describe the same extensions the same way.
 *
 * <p>Design: a verb row says whether FEAT names it and how (always; only with TLS, RFC 4217 §6; or with
 * parameters that depend on the session's OPTS: MLST facts and HASH algorithms). The daemon gives the
 * verbs it serves, whether it offers TLS, the parameters, and its extras ({@link #PATH_FEATURES}).
 * Lines are sorted, case aside: RFC 2389 gives their order no meaning, and a sorted list compares the
 * same whichever daemon wrote it.
 */
public final class FeatureList {

    private FeatureList() {}

    /**
     * Features of the path names rather than of a verb: TVFS, '/'-separated virtual paths (RFC 3659 §6), and
     * UTF8, path names in UTF-8 (RFC 2640 §3.1; OPTS UTF8 is always on).
     */
    public static final List<String> PATH_FEATURES = List.of("TVFS", "UTF8");

    /** The MLST facts a Ferry server knows (RFC 3659 §7.5), in the order it lists them. */
    public static final List<String> MLST_FACTS = List.of("type", "size", "modify", "perm", "unique");

    /** The HASH algorithms a Ferry server computes (draft-bryan-ftpext-hash), its default first. */
    public static final List<String> HASH_ALGORITHMS = List.of("SHA-256", "SHA-1", "MD5");

    /**
     * The feature lines of a daemon serving {@code served}, sorted, each once.
     *
     * @param tlsOffered whether the daemon answers AUTH TLS (else AUTH, PBSZ and PROT are not listed)
     * @param parameters for each served verb whose feature takes parameters, the parameter text
     * @param extras     lines tied to no verb
     * @throws IllegalArgumentException when a served verb's parameters are missing (a bug in the caller)
     */
    public static List<String> of(Collection<Verb> served, boolean tlsOffered, Map<Verb, String> parameters,
            Collection<String> extras) {
        List<String> lines = new ArrayList<>();
        for (Verb v : served) {
            Feature f = v.feature();
            switch (f.offered()) {
                case NEVER -> { }
                case ALWAYS -> lines.add(f.line());
                case WITH_TLS -> {
                    if (tlsOffered) {
                        lines.add(f.line());
                    }
                }
                case WITH_PARAMETERS -> {
                    String p = parameters.get(v);
                    if (p == null) {
                        throw new IllegalArgumentException("FEAT needs the parameters of " + v);
                    }
                    lines.add(f.line() + " " + p);
                }
            }
        }
        for (String extra : extras) {
            if (lines.stream().noneMatch(extra::equalsIgnoreCase)) {
                lines.add(extra);
            }
        }
        lines.sort(Comparator.comparing(line -> line.toUpperCase(Locale.ROOT)));
        return List.copyOf(lines);
    }

    /**
     * What a Ferry server lists: every verb of the table, and its path features.
     *
     * @param hashAlgorithm the session's HASH algorithm (OPTS HASH), starred in the list
     * @param mlstFacts     the session's MLST facts (OPTS MLST), starred in the list
     */
    public static List<String> server(boolean tlsOffered, String hashAlgorithm, Set<String> mlstFacts) {
        return server(EnumSet.allOf(Verb.class), tlsOffered, hashAlgorithm, mlstFacts);
    }

    /**
     * As {@link #server(boolean, String, Set)}, for a server that serves only {@code served} (one on object
     * storage leaves MFMT out, since it cannot set a file's time).
     */
    public static List<String> server(Set<Verb> served, boolean tlsOffered, String hashAlgorithm, Set<String> mlstFacts) {
        return of(served, tlsOffered,
                Map.of(Verb.HASH, hashParameters(HASH_ALGORITHMS, hashAlgorithm),
                        Verb.MLST, mlstParameters(MLST_FACTS, mlstFacts)),
                PATH_FEATURES);
    }

    /**
     * MLST's parameters (RFC 3659 §7.8): every fact followed by ';', starred when the session selected it
     * ("type*;size*;modify;"). {@code selected} is compared without regard to case.
     */
    public static String mlstParameters(List<String> facts, Set<String> selected) {
        StringBuilder b = new StringBuilder();
        for (String fact : facts) {
            boolean on = selected.stream().anyMatch(fact::equalsIgnoreCase);
            b.append(fact).append(on ? "*" : "").append(';');
        }
        return b.toString();
    }

    /** HASH's parameters (draft-bryan-ftpext-hash §3.1): the algorithms separated by ';', the selected one starred. */
    public static String hashParameters(List<String> algorithms, String selected) {
        List<String> items = new ArrayList<>(algorithms.size());
        for (String a : algorithms) {
            items.add(a.equals(selected) ? a + "*" : a);
        }
        return String.join(";", items);
    }

    /** The 211 reply listing {@code features}; with none, the single-line form of RFC 2389 §3.2. */
    public static Reply reply(List<String> features) {
        return features.isEmpty() ? Reply.of(211, "No features.")
                : Reply.multiLine(211, "Features:", features, "End");
    }
}
