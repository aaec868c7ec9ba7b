package dev.ferry.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * A YAML mapping checked against the keys it may hold, read through typed getters.
 *
 * <p>All structural checks happen on construction — the node is a mapping, keys are plain names,
 * no key appears twice, no key is unknown (with the closest allowed key suggested) — so the
 * getters only deal with values. Each getter takes the value to keep when the key is absent,
 * which is how "settings absent from the file keep their current values" is expressed. Errors
 * point at the value (or the key, for key errors) and start with the dotted path of the setting,
 * e.g. {@code server.limits.max-sessions: expected a number, got 'abc'}.
 */
final class YamlMapping {

    private static final Pattern LIST_INDEX = Pattern.compile("\\[[0-9]+]");

    private final YamlFile file;
    private final String path;
    private final Node node;
    private final Map<String, NodeTuple> entries;

    private YamlMapping(YamlFile file, String path, Node node, Map<String, NodeTuple> entries) {
        this.file = file;
        this.path = path;
        this.node = node;
        this.entries = entries;
    }

    /** {@code path} is the dotted name of this mapping ("" at the top of a file). */
    static YamlMapping of(YamlFile file, Node node, String path, List<String> allowed) throws ConfigException {
        return of(file, node, path, allowed, key -> null);
    }

    /** As {@link #of(YamlFile, Node, String, List)}, with {@code unknownKeyHint} adding advice for an unknown key (or null). */
    static YamlMapping of(YamlFile file, Node node, String path, List<String> allowed,
                          Function<String, String> unknownKeyHint) throws ConfigException {
        if (!(node instanceof MappingNode mapping)) {
            throw file.error(node, prefix(path) + "expected a mapping with the keys " + String.join(", ", allowed)
                    + ", got " + YamlFile.describe(node));
        }
        Map<String, NodeTuple> entries = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (!(keyNode instanceof ScalarNode scalarKey) || YamlFile.isNull(keyNode)) {
                throw file.error(keyNode, prefix(path) + "expected a key name, got " + YamlFile.describe(keyNode));
            }
            String key = scalarKey.getValue();
            NodeTuple first = entries.get(key);
            if (first != null) {
                throw file.error(keyNode, prefix(path) + "duplicate key " + Values.quote(key) + " (first at "
                        + file.lineOf(first.getKeyNode()) + "); each key may appear once");
            }
            if (!allowed.contains(key)) {
                throw file.error(keyNode, unknownKey(path, key, allowed, unknownKeyHint.apply(key)));
            }
            entries.put(key, tuple);
        }
        return new YamlMapping(file, path, node, entries);
    }

    private static String unknownKey(String path, String key, List<String> allowed, String hint) {
        StringBuilder message = new StringBuilder(prefix(path)).append("unknown key ").append(Values.quote(key));
        Optional<String> closest = closest(key, allowed);
        if (hint != null) {
            message.append("; ").append(hint);
        } else if (closest.isPresent()) {
            message.append("; did you mean '").append(closest.get()).append("'?");
        } else {
            message.append('.');
        }
        return message.append(" Allowed keys").append(path.isEmpty() ? "" : " in " + path).append(": ")
                .append(String.join(", ", allowed)).toString();
    }

    /** The allowed key nearest to a misspelt one, if it is near enough to be the likely intent. */
    static Optional<String> closest(String key, List<String> allowed) {
        String wanted = normalized(key);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : allowed) {
            int d = editDistance(wanted, normalized(candidate));
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return bestDistance <= Math.max(2, wanted.length() / 3) ? Optional.ofNullable(best) : Optional.empty();
    }

    /** Lower case with '_' as '-', so "maxSessions" and "max_sessions" land next to "max-sessions". */
    private static String normalized(String key) {
        return key.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static String prefix(String path) {
        return path.isEmpty() ? "" : path + ": ";
    }

    YamlFile file() {
        return file;
    }

    Node node() {
        return node;
    }

    boolean has(String key) {
        return entries.containsKey(key);
    }

    /** The value node of {@code key}, or null when absent. */
    Node value(String key) {
        NodeTuple tuple = entries.get(key);
        return tuple == null ? null : tuple.getValueNode();
    }

    /** The dotted path of a key in this mapping. */
    String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** An error about the value of {@code key}. */
    ConfigException error(String key, String problem) {
        return file.error(value(key), pathOf(key) + ": " + problem);
    }

    /** An error about a key that should be here and is not. */
    ConfigException missing(String key, String what) {
        return file.error(node, prefix(path) + "missing key '" + key + "' (" + what + ")");
    }

    /** The text of a scalar value; {@code expected} completes "expected ..." when it is not a scalar. */
    private String scalar(String key, String expected) throws ConfigException {
        Node value = value(key);
        if (!(value instanceof ScalarNode scalar) || YamlFile.isNull(value)) {
            throw error(key, "expected " + expected + ", got " + YamlFile.describe(value));
        }
        return scalar.getValue();
    }

    /** Non-empty single-line text. */
    String text(String key, String fallback) throws ConfigException {
        if (!has(key)) {
            return fallback;
        }
        String s = scalar(key, "text");
        if (s.isBlank()) {
            throw error(key, "expected text, got an empty value");
        }
        // SECURITY: a CR or LF here would end up in replies and logs, where it could forge extra lines.
        if (s.chars().anyMatch(Character::isISOControl)) {
            throw error(key, "expected text on one line, got " + Values.quote(s) + " (control characters are not allowed)");
        }
        return s;
    }

    boolean bool(String key, boolean fallback) throws ConfigException {
        if (!has(key)) {
            return fallback;
        }
        String s = scalar(key, "true or false");
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw error(key, "expected true or false, got " + Values.quote(s));
        };
    }

    /**
     * The value of a {@link Setting} whose key is in this mapping, through the setting's own rule, so the
     * command line refuses a bad value in the same words.
     */
    <T> T get(Setting<T> setting, T fallback) throws ConfigException {
        String key = setting.key();
        if (!LIST_INDEX.matcher(pathOf(key)).replaceAll("[]").equals(setting.path())) {
            throw new IllegalStateException(setting.path() + " read from " + pathOf(key));
        }
        return parsed(key, setting.expected(), setting::parse, fallback);
    }

    /** An error about this mapping as a whole, or about {@code key} when it is present (a problem of several keys). */
    ConfigException errorAt(String key, String problem) {
        return has(key) ? error(key, problem) : file.error(node, path + ": " + problem);
    }

    /**
     * A scalar turned into a value by a {@link Values} parser, whose message (what is expected,
     * what was given) becomes the error. {@code expected} is used when the value is not a scalar.
     */
    <T> T parsed(String key, String expected, Function<String, T> parser, T fallback) throws ConfigException {
        if (!has(key)) {
            return fallback;
        }
        String s = scalar(key, expected);
        try {
            return parser.apply(s);
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
    }

    /** A local path; relative paths are resolved against {@code base}. */
    Path path(String key, Path base, Path fallback) throws ConfigException {
        if (!has(key)) {
            return fallback;
        }
        String s = scalar(key, "a path");
        if (s.isEmpty()) {
            throw error(key, "expected a path, got an empty value");
        }
        try {
            return base.resolve(Path.of(s)).normalize();
        } catch (InvalidPathException e) {
            throw error(key, "expected a path, got " + Values.quote(s) + " (" + e.getReason() + ")");
        }
    }

    /** A nested mapping, or empty when the key is absent. */
    Optional<YamlMapping> mapping(String key, List<String> allowed) throws ConfigException {
        if (!has(key)) {
            return Optional.empty();
        }
        return Optional.of(of(file, value(key), pathOf(key), allowed));
    }

    /** The items of a list, or empty when the key is absent. */
    Optional<List<Node>> list(String key, String ofWhat) throws ConfigException {
        if (!has(key)) {
            return Optional.empty();
        }
        if (!(value(key) instanceof SequenceNode sequence)) {
            throw error(key, "expected a list of " + ofWhat + ", got " + YamlFile.describe(value(key)));
        }
        return Optional.of(sequence.getValue());
    }
}
