package dev.ferry.balancer.backend;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.FeatureList;
import dev.ferry.protocol.command.Verb;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What FEAT tells a client through the balancer (RFC 2389): what the backend offers, as the balancer
 * changes it. Pure functions; the checks learn each backend's list ({@link #offered}), the session asks.
 *
 * <p>Design: a client talks to two FTP servers at once, the balancer for some commands and the backend
 * for the rest, and FEAT must describe the pair:
 * <ul>
 *   <li>AUTH, PBSZ, PROT and CCC never reach a backend ({@code ControlProtection} answers or refuses them), so
 *       whatever a backend says of them is dropped; a balancer that terminates TLS lists AUTH TLS, PBSZ and
 *       PROT itself (RFC 4217 §6), one that does not lists none (it answers AUTH with 502).</li>
 *   <li>EPRT is always listed: the balancer serves PORT and EPRT itself (RFC 2428 §2), whatever the backend
 *       does with its own.</li>
 *   <li>Before login the balancer answers HOST (RFC 7151) and OPTS UTF8 (RFC 2640 §3.1) itself and replays
 *       them to the backend it chooses, so they are listed then; after login they are the backend's.</li>
 *   <li>Everything else (HASH, MFMT, MLST facts, SIZE, MDTM, REST STREAM, EPSV, TVFS, LANG...) is forwarded,
 *       so it is listed as the backend said it.</li>
 * </ul>
 * Before login the session may land on any backend in service, so it is told what all of them offer
 * ({@link #common}); a backend not heard from yet counts as offering {@link #BASELINE}. Lines are sorted
 * (RFC 2389 gives their order no meaning) so that the answer does not depend on which backend spoke first.
 */
public final class Features {

    /**
     * What a backend is taken to offer until a check has heard its FEAT (the balancer starts before its first
     * checks, and a tcp check never hears one): what a Ferry server without TLS lists, from the same table
     * ({@link FeatureList#server}), with its default OPTS (every MLST fact, SHA-256).
     */
    public static final List<String> BASELINE = FeatureList.server(false, FeatureList.HASH_ALGORITHMS.getFirst(),
            Set.copyOf(FeatureList.MLST_FACTS));

    /** The FEAT lines of RFC 4217 §6 when the balancer terminates TLS: the verb table's TLS features. */
    static final List<String> TLS_FEATURES = FeatureList.of(EnumSet.of(Verb.AUTH, Verb.PBSZ, Verb.PROT), true,
            Map.of(), List.of());

    /** Feature labels the balancer answers or refuses itself: never the backend's to announce. */
    private static final Set<String> ANSWERED_HERE = Set.of("AUTH", "PBSZ", "PROT", "CCC");

    /** A backend's listing is kept to this many features, each at most {@link #MAX_FEATURE_CHARS} long. */
    static final int MAX_FEATURES = 100;
    static final int MAX_FEATURE_CHARS = 200;

    private Features() {}

    /**
     * What a backend's reply to FEAT says it offers (RFC 2389 §3.2): the feature lines of a 211 listing,
     * without their leading space; none for a single-line 211 ("no-features"), a 500 or 502 (FEAT not
     * implemented) or any other reply that is no listing (a refusal before login announces nothing either);
     * null for a 4xx (421 and other transient replies), which says nothing yet. {@code lines} are the
     * reply's lines; only the middle ones are read, so the first and last may be with or without their code.
     */
    public static List<String> offered(int code, List<String> lines) {
        if (code / 100 == 4) {
            return null;
        }
        if (code != 211) {
            return List.of();
        }
        List<String> features = new ArrayList<>();
        for (int i = 1; i < lines.size() - 1 && features.size() < MAX_FEATURES; i++) {
            String line = lines.get(i);
            // RFC 2389 §3.2: each feature line begins with a space; other lines are not features.
            if (!line.startsWith(" ")) {
                continue;
            }
            String feature = line.strip();
            if (!feature.isEmpty() && feature.length() <= MAX_FEATURE_CHARS && indexOf(features, feature) < 0) {
                features.add(feature);
            }
        }
        return List.copyOf(features);
    }

    /**
     * The features every list offers: a line found in each (letter case aside), or, for a label each list
     * has exactly once with different parameters, the parameter items all share (the facts of MLST, the
     * algorithms of HASH, the languages of LANG: RFC 3659 §7.8 and its kin separate them by ';'; an item keeps
     * its '*' only when starred in each). In the order of the first list; {@link #BASELINE} when there is none.
     */
    public static List<String> common(List<List<String>> offered) {
        if (offered.isEmpty()) {
            return BASELINE;
        }
        List<String> out = new ArrayList<>();
        for (String feature : offered.getFirst()) {
            if (offered.stream().allMatch(list -> indexOf(list, feature) >= 0)) {
                out.add(feature);
                continue;
            }
            String merged = sharedParameters(label(feature), offered);
            if (merged != null && indexOf(out, merged) < 0) {
                out.add(merged);
            }
        }
        return List.copyOf(out);
    }

    /**
     * What a client is told before login: what every backend in service offers (any of them may take the
     * session; when none is in service, every backend), shaped by {@link #shaped}.
     *
     * @param tlsOffered the balancer terminates TLS (it answers AUTH TLS)
     */
    public static List<String> beforeLogin(List<Backend> backends, boolean tlsOffered) {
        List<Backend> inService = backends.stream().filter(Backend::eligible).toList();
        List<List<String>> offered = new ArrayList<>();
        for (Backend b : inService.isEmpty() ? backends : inService) {
            List<String> features = b.features();
            offered.add(features == null ? BASELINE : features);
        }
        return shaped(common(offered), tlsOffered, true);
    }

    /** What a client is told after login, given what its backend offers ({@link #offered}). */
    public static List<String> afterLogin(List<String> backend, boolean tlsOffered) {
        return shaped(backend, tlsOffered, false);
    }

    /**
     * The backend's features as the client must see them: without what the balancer answers itself, with
     * what it serves itself (see the class comment), sorted, each once.
     */
    static List<String> shaped(List<String> backend, boolean tlsOffered, boolean beforeLogin) {
        List<String> out = new ArrayList<>();
        for (String feature : backend) {
            if (!ANSWERED_HERE.contains(label(feature)) && indexOf(out, feature) < 0) {
                out.add(feature);
            }
        }
        if (tlsOffered) {
            out.addAll(TLS_FEATURES);
        }
        List<String> own = beforeLogin ? List.of("EPRT", "HOST", "UTF8") : List.of("EPRT");
        for (String label : own) {
            if (out.stream().noneMatch(f -> label(f).equals(label))) {
                out.add(label);
            }
        }
        out.sort(Comparator.comparing(f -> f.toUpperCase(Locale.ROOT)));
        return List.copyOf(out);
    }

    /**
     * After login: the reply the client gets for its backend's reply to FEAT ({@code lines} as sent, codes
     * included), or null when that reply is a 4xx (421: the backend is closing) and goes to the client as it
     * is. A backend without FEAT (500, 502) still sits behind a balancer that has some: the client gets those.
     */
    public static Reply rewriteReply(int code, List<String> lines, boolean tlsOffered) {
        List<String> offered = offered(code, lines);
        return offered == null ? null : FeatureList.reply(afterLogin(offered, tlsOffered));
    }

    /** RFC 2389 §3.2: feature-label, up to the first space; compared in upper case (labels are, in practice). */
    static String label(String feature) {
        int space = feature.indexOf(' ');
        return (space < 0 ? feature : feature.substring(0, space)).toUpperCase(Locale.ROOT);
    }

    private static String parameters(String feature) {
        int space = feature.indexOf(' ');
        return space < 0 ? "" : feature.substring(space + 1).strip();
    }

    private static int indexOf(List<String> features, String feature) {
        for (int i = 0; i < features.size(); i++) {
            if (features.get(i).equalsIgnoreCase(feature)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * {@code label} with the ';'-separated parameter items each list has (in the first list's order and
     * spelling), or null when a list lacks the label, has it more than once (SITE lines differ in their
     * parameters by design) or no item is shared.
     */
    private static String sharedParameters(String label, List<List<String>> offered) {
        List<String> parameterLists = new ArrayList<>();
        String spelling = null;
        for (List<String> list : offered) {
            List<String> withLabel = list.stream().filter(f -> label(f).equals(label)).toList();
            if (withLabel.size() != 1) {
                return null;
            }
            if (spelling == null) {
                String feature = withLabel.getFirst();
                spelling = feature.indexOf(' ') < 0 ? feature : feature.substring(0, feature.indexOf(' '));
            }
            parameterLists.add(parameters(withLabel.getFirst()));
        }
        String first = parameterLists.getFirst();
        List<String> shared = new ArrayList<>();
        for (String item : first.split(";")) {
            String name = unstarred(item);
            if (name.isEmpty()) {
                continue;
            }
            boolean everywhere = true;
            boolean starredEverywhere = true;
            for (String parameters : parameterLists) {
                String found = null;
                for (String other : parameters.split(";")) {
                    if (unstarred(other).equalsIgnoreCase(name)) {
                        found = other.strip();
                        break;
                    }
                }
                everywhere &= found != null;
                starredEverywhere &= found != null && found.endsWith("*");
            }
            if (everywhere) {
                shared.add(starredEverywhere ? name + "*" : name);
            }
        }
        if (shared.isEmpty()) {
            return null;
        }
        // MLST writes a ';' after every fact (RFC 3659 §7.8), HASH and LANG only between items: keep the style.
        return spelling + " " + String.join(";", shared) + (first.endsWith(";") ? ";" : "");
    }

    private static String unstarred(String item) {
        String s = item.strip();
        return s.endsWith("*") ? s.substring(0, s.length() - 1) : s;
    }
}
