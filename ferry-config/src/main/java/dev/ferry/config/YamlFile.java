package dev.ferry.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * One YAML file composed into nodes, not objects: nodes keep their start marks, so every later
 * error can name the file, line and column of the value at fault. Syntax errors from the parser
 * are turned into the same {@link ConfigException} shape.
 */
final class YamlFile {

    private final Path path;
    private final String label;
    private final Node root;

    private YamlFile(Path path, Node root) {
        this.path = path;
        this.label = path.toString();
        this.root = root;
    }

    static YamlFile read(Path path) throws ConfigException {
        String label = path.toString();
        if (Files.isDirectory(path)) {
            throw new ConfigException(label, 0, 0, "is a directory; expected a YAML file");
        }
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(label, 0, 0, "no such file");
        } catch (AccessDeniedException e) {
            throw new ConfigException(label, 0, 0, "cannot read the file (permission denied)");
        } catch (CharacterCodingException e) {
            throw new ConfigException(label, 0, 0, "not UTF-8 text; expected a YAML file in UTF-8");
        } catch (IOException e) {
            throw new ConfigException(label, 0, 0, "cannot read the file (" + e.getMessage() + ")");
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        // CoreSchema: YAML 1.2 core types, so "~" and an empty value both read as null.
        LoadSettings settings = LoadSettings.builder().setLabel(label)
                .setSchema(new CoreSchema()).build();
        try {
            return new YamlFile(path, new Compose(settings).composeString(text).orElse(null));
        } catch (MarkedYamlEngineException e) {
            throw syntaxError(label, e);
        } catch (YamlEngineException e) {
            throw new ConfigException(label, 1, 1, "YAML error: " + e.getMessage());
        }
    }

    private static ConfigException syntaxError(String label, MarkedYamlEngineException e) {
        Optional<Mark> mark = e.getProblemMark().or(e::getContextMark);
        int line = mark.map(m -> m.getLine() + 1).orElse(1);
        int column = mark.map(m -> m.getColumn() + 1).orElse(1);
        String problem = e.getProblem() == null ? "" : e.getProblem();
        if (problem.contains("\\t(TAB)") || problem.contains("\t")) {
            return new ConfigException(label, line, column, "tab character; YAML indents with spaces only (replace the tab with spaces)");
        }
        String context = e.getContext();
        if (context != null && context.contains("expected a single document")) {
            return new ConfigException(label, line, column, "a second YAML document starts here; expected the file to hold one document");
        }
        StringBuilder message = new StringBuilder("YAML syntax error: ").append(problem.strip());
        if (context != null && !context.isBlank()) {
            message.append(" (").append(context.strip());
            e.getContextMark().filter(m -> m.getLine() + 1 != line)
                    .ifPresent(m -> message.append(" started at line ").append(m.getLine() + 1));
            message.append(')');
        }
        message.append(advice(problem, context == null ? "" : context));
        return new ConfigException(label, line, column, message.toString());
    }

    /** The usual cause of a parser complaint, in the operator's terms. */
    private static String advice(String problem, String context) {
        if (problem.contains("mapping values are not allowed here")) {
            return "; check the indentation, or quote a value that contains ': '";
        }
        if (problem.contains("found undefined alias")) {
            return "; a value that starts with * must be put in quotes, as in \"*:2121\"";
        }
        if (context.startsWith("while parsing a flow")) {
            return "; if the value is an address such as [::1]:2121, put it in quotes";
        }
        return "";
    }

    String label() {
        return label;
    }

    /** The directory relative paths in this file are resolved against. */
    Path directory() {
        Path parent = path.toAbsolutePath().getParent();
        return parent == null ? path.toAbsolutePath().getRoot() : parent;
    }

    /** The document's top node; empty when the file holds nothing but blanks and comments. */
    Optional<Node> root() {
        return Optional.ofNullable(root);
    }

    ConfigException error(Node node, String problem) {
        Optional<Mark> mark = node.getStartMark();
        return new ConfigException(label, mark.map(m -> m.getLine() + 1).orElse(1),
                mark.map(m -> m.getColumn() + 1).orElse(1), problem);
    }

    /** "line 7" within this file, for pointing back at an earlier definition. */
    String lineOf(Node node) {
        return "line " + node.getStartMark().map(m -> m.getLine() + 1).orElse(1);
    }

    /** "users.yaml:7", for pointing at a definition from another file. */
    String where(Node node) {
        return label + ":" + node.getStartMark().map(m -> m.getLine() + 1).orElse(1);
    }

    static boolean isNull(Node node) {
        return node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    /** What a node holds, for "got ..." in messages. Never call it on a secret. */
    static String describe(Node node) {
        if (isNull(node)) {
            return "nothing";
        }
        return switch (node) {
            case MappingNode m -> "a mapping";
            case SequenceNode s -> "a list";
            case ScalarNode s -> Values.quote(s.getValue());
            default -> "a " + node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
