package dev.ferry.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * A users file edited as text, for {@code ferry users}: each change splices the lines of one entry, found by
 * the marks of its YAML nodes, so comments, blank lines, quoting and key order elsewhere stay as the operator
 * wrote them (a YAML dump would drop every comment). The file is validated by {@link UsersFile} before it is
 * read here, and the caller validates the new text the same way before it replaces the file, so an edit
 * can never leave a file the server refuses.
 *
 * <p>Supported shape: the {@code users:} list in block style ({@code - name: ...} lines), or empty
 * ({@code users: []}). Entries written in flow style ({@code - {name: a, ...}}) can be removed and listed but
 * not changed in place.
 */
public final class UsersFileText {

    /**
     * One account as written in the file; {@code home} is null when the entry has none (the server root),
     * {@code storage} when it has no storage of its own (the server's), else "local" or s3://BUCKET[/PREFIX].
     */
    public record Entry(String name, String home, boolean readOnly, boolean enabled, String storage) {
        /** On the server's storage. */
        public Entry(String name, String home, boolean readOnly, boolean enabled) {
            this(name, home, readOnly, enabled, null);
        }
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9._@/-]*");
    // Words a YAML loader may read as booleans or null if left unquoted.
    private static final Set<String> YAML_WORDS = Set.of("true", "false", "null", "yes", "no", "on", "off", "y", "n", "~");
    private static final String NEW_FILE = "users: []\n";

    private final String text;
    private final MappingNode top;
    private final NodeTuple users;

    private UsersFileText(String text) {
        this.text = text;
        Node root = new Compose(LoadSettings.builder().setSchema(new CoreSchema()).build()).composeString(text)
                .orElseThrow(() -> new IllegalStateException("a checked users file is empty"));
        this.top = (MappingNode) root;
        this.users = top.getValue().stream().filter(t -> scalar(t.getKeyNode()).equals("users")).findFirst()
                .orElseThrow(() -> new IllegalStateException("a checked users file has no users key"));
    }

    /** The file, checked as the server checks it (a file the server would refuse is refused here too). */
    public static UsersFileText read(Path file) throws ConfigException {
        UsersFile.load(file, Path.of(""));
        try {
            String s = Files.readString(file);
            return new UsersFileText(s.startsWith("\uFEFF") ? s.substring(1) : s);
        } catch (java.io.IOException e) {
            throw new ConfigException(file.toString(), 0, 0, "cannot read the file (" + e.getMessage() + ")");
        }
    }

    /** The text of a users file with no accounts, to which {@link #withAdded} can add the first. */
    public static UsersFileText empty() {
        return new UsersFileText(NEW_FILE);
    }

    /** Text made by this class's own edits, to edit further (the caller checks the result before writing it). */
    public static UsersFileText parse(String text) {
        return new UsersFileText(text);
    }

    public String text() {
        return text;
    }

    public List<Entry> entries() {
        List<Entry> entries = new ArrayList<>();
        for (Node item : items()) {
            MappingNode m = (MappingNode) item;
            entries.add(new Entry(scalar(value(m, "name").orElseThrow()),
                    value(m, "home").map(UsersFileText::scalar).orElse(null),
                    value(m, "access").map(UsersFileText::scalar).map("read-only"::equals).orElse(false),
                    value(m, "enabled").map(UsersFileText::scalar).map(v -> !v.equals("false")).orElse(true),
                    value(m, "storage").map(UsersFileText::storage).orElse(null)));
        }
        return entries;
    }

    public boolean has(String name) {
        return find(name).isPresent();
    }

    /**
     * The text with a new entry at the end of the list: name, password hash, home (null: none, the server
     * root) and, when read-only, {@code access: read-only}. The name must not be in the file already.
     */
    public String withAdded(String name, String passwordHash, String home, boolean readOnly) {
        if (has(name)) {
            throw new IllegalArgumentException("user " + Values.quote(name) + " is already in the file");
        }
        List<Node> items = items();
        StringBuilder out = new StringBuilder(text);
        int dashColumn;
        int keyColumn;
        int at;
        boolean separated = false;
        if (items.isEmpty()) {
            // `users: []` (or `users:` with nothing): the value becomes a block list below the key.
            Node value = users.getValueNode();
            int keyEnd = offset(users.getKeyNode().getEndMark());
            int valueEnd = value instanceof SequenceNode ? offset(value.getEndMark()) : keyEnd + 1;
            out.replace(keyEnd, valueEnd, ":");
            at = lineEnd(out, keyEnd);
            dashColumn = column(users.getKeyNode()) + 2;
            keyColumn = dashColumn + 2;
        } else {
            Node last = items.get(items.size() - 1);
            at = lineEnd(out, offset(lastContent(last)));
            keyColumn = column(last);
            int dash = dashOffset(last);
            dashColumn = dash - lineStart(text, dash);
            separated = items.size() > 1 && blankLineBefore(lineStart(text, dash));
        }
        if (at == out.length() && (out.isEmpty() || out.charAt(out.length() - 1) != '\n')) {
            out.append('\n');
            at = out.length();
        }
        String indent = " ".repeat(keyColumn);
        StringBuilder entry = new StringBuilder(separated ? "\n" : "");
        entry.append(" ".repeat(dashColumn)).append('-').append(" ".repeat(keyColumn - dashColumn - 1))
                .append("name: ").append(scalar(name)).append('\n');
        entry.append(indent).append("password: ").append(passwordHash).append('\n');
        if (home != null) {
            entry.append(indent).append("home: ").append(scalar(home)).append('\n');
        }
        if (readOnly) {
            entry.append(indent).append("access: read-only\n");
        }
        out.insert(at, entry);
        return out.toString();
    }

    /** The text without the lines of {@code name}'s entry; an emptied list is written {@code users: []}. */
    public String withRemoved(String name) {
        Node item = find(name).orElseThrow(() -> noSuchUser(name));
        int from = lineStart(text, dashOffset(item));
        int to = lineEnd(text, offset(lastContent(item)));
        StringBuilder out = new StringBuilder(text);
        if (items().size() == 1) {
            // The server refuses `users:` with nothing under it: say "no accounts" as `users: []`.
            int keyEnd = offset(users.getKeyNode().getEndMark());
            out.replace(keyEnd, to, ": []\n");
        } else {
            out.delete(from, to);
        }
        return out.toString();
    }

    /** The text with {@code key: value} in {@code name}'s entry, replacing the value there or adding the line. */
    public String withValue(String name, String key, String value) {
        MappingNode item = (MappingNode) find(name).orElseThrow(() -> noSuchUser(name));
        if (item.getFlowStyle() == FlowStyle.FLOW) {
            throw new IllegalArgumentException("the entry of " + Values.quote(name) + " is written in flow style"
                    + " ({name: ..., password: ...}); write it as lines of `key: value` to change it with ferry users");
        }
        StringBuilder out = new StringBuilder(text);
        Optional<Node> old = value(item, key);
        if (old.isPresent() && old.get() instanceof ScalarNode s) {
            out.replace(offset(s.getStartMark()), offset(s.getEndMark()), value);
        } else if (old.isPresent()) {
            throw new IllegalArgumentException(key + " of " + Values.quote(name) + " is not a single value");
        } else {
            int at = lineEnd(out, offset(lastContent(item)));
            if (at == out.length() && out.charAt(out.length() - 1) != '\n') {
                out.append('\n');
                at = out.length();
            }
            out.insert(at, " ".repeat(column(item)) + key + ": " + value + "\n");
        }
        return out.toString();
    }

    /**
     * The text with {@code key} of {@code name}'s entry set to {@code flowValue}, a scalar or a flow collection
     * ({@code {bytes: 1, files: 2}}): as {@link #withValue}, except that a mapping or list already there (block or
     * flow) is replaced whole, comments inside it included.
     */
    public String withFlowValue(String name, String key, String flowValue) {
        MappingNode item = (MappingNode) find(name).orElseThrow(() -> noSuchUser(name));
        NodeTuple old = item.getValue().stream().filter(t -> scalar(t.getKeyNode()).equals(key)).findFirst().orElse(null);
        if (old == null || old.getValueNode() instanceof ScalarNode || item.getFlowStyle() == FlowStyle.FLOW) {
            return withValue(name, key, flowValue);
        }
        // From just after the key to the end of the value's last content: "key" + ": " + the new value.
        int from = offset(old.getKeyNode().getEndMark());
        int to = offset(lastContent(old.getValueNode()));
        return new StringBuilder(text).replace(from, to, ": " + flowValue).toString();
    }

    /** A name or path as a YAML scalar: plain when it reads back as the same text, else single-quoted. */
    public static String scalar(String value) {
        if (PLAIN.matcher(value).matches() && !YAML_WORDS.contains(value.toLowerCase(Locale.ROOT))) {
            return value;
        }
        return "'" + value.replace("'", "''") + "'";
    }

    private static IllegalArgumentException noSuchUser(String name) {
        return new IllegalArgumentException("no user " + Values.quote(name) + " in the file");
    }

    private List<Node> items() {
        return users.getValueNode() instanceof SequenceNode s ? s.getValue() : List.of();
    }

    private Optional<Node> find(String name) {
        return items().stream().filter(i -> value((MappingNode) i, "name").map(UsersFileText::scalar)
                .filter(name::equals).isPresent()).findFirst();
    }

    private static Optional<Node> value(MappingNode m, String key) {
        return m.getValue().stream().filter(t -> scalar(t.getKeyNode()).equals(key)).map(NodeTuple::getValueNode).findFirst();
    }

    /** A checked storage value, short ("s3://b/p", "local") or a mapping, as one word for a listing. */
    private static String storage(Node node) {
        if (node instanceof MappingNode m) {
            String bucket = value(m, "bucket").map(UsersFileText::scalar).orElse(null);
            if (bucket == null) {
                return "local";
            }
            String prefix = value(m, "prefix").map(UsersFileText::scalar).orElse("").replaceAll("^/+|/+$", "");
            return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
        }
        return scalar(node);
    }

    private static String scalar(Node node) {
        return node instanceof ScalarNode s ? s.getValue() : "";
    }

    /**
     * Where the entry's text ends: the end of its last scalar. (A block collection's own end mark lies at the
     * next token, which may be several lines further down, past comments that belong to the next entry.)
     */
    private static Mark lastContent(Node node) {
        return switch (node) {
            case ScalarNode s -> s.getEndMark().orElseThrow();
            case MappingNode m -> m.getFlowStyle() == FlowStyle.FLOW ? m.getEndMark().orElseThrow()
                    : lastContent(m.getValue().get(m.getValue().size() - 1).getValueNode());
            case SequenceNode q -> q.getFlowStyle() == FlowStyle.FLOW || q.getValue().isEmpty() ? q.getEndMark().orElseThrow()
                    : lastContent(q.getValue().get(q.getValue().size() - 1));
            default -> node.getEndMark().orElseThrow();
        };
    }

    /** The offset of the {@code -} that starts a list item (it may stand on a line of its own). */
    private int dashOffset(Node item) {
        int i = offset(item.getStartMark().orElseThrow()) - 1;
        while (i >= 0 && text.charAt(i) != '-') {
            i--;
        }
        return i;
    }

    /** Whether the line before the one starting at {@code lineStart} is blank: entries set apart by blank lines. */
    private boolean blankLineBefore(int lineStart) {
        if (lineStart == 0) {
            return false;
        }
        int previous = lineStart(text, lineStart - 1);
        return text.substring(previous, lineStart).isBlank();
    }

    private static int column(Node node) {
        return node.getStartMark().orElseThrow().getColumn();
    }

    /** A mark's index counts code points; this is the text's char offset. */
    private int offset(Mark mark) {
        return text.offsetByCodePoints(0, mark.getIndex());
    }

    private int offset(Optional<Mark> mark) {
        return offset(mark.orElseThrow());
    }

    private static int lineStart(CharSequence s, int offset) {
        int i = offset;
        while (i > 0 && s.charAt(i - 1) != '\n') {
            i--;
        }
        return i;
    }

    /** The offset just past the line ending of the line holding {@code offset} (or the end of the text). */
    private static int lineEnd(CharSequence s, int offset) {
        int i = offset;
        while (i < s.length() && s.charAt(i) != '\n') {
            i++;
        }
        return i < s.length() ? i + 1 : i;
    }
}
