package dev.ferry.config;

import dev.ferry.server.events.EventSettings;
import dev.ferry.server.events.EventSettings.Kind;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * {@code server.events}: upload, delete and rename events to a webhook or a command (docs/policy.md, "Upload
 * events"). The flags {@code --event-webhook} and {@code --event-command} go through {@link #webhook} and
 * {@link #command}, so a value is refused in the same words.
 */
public final class EventsSection {

    static final List<String> KEYS = List.of("webhook", "command", "on", "queue", "workers", "retries", "backoff",
            "timeout", "partial-suffixes");
    public static final String WEBHOOK = "an http:// or https:// URL such as https://hooks.example.com/ferry";

    private EventsSection() {
    }

    static EventSettings read(YamlMapping m, EventSettings base) throws ConfigException {
        EventSettings e = base;
        e = e.withWebhook(m.parsed("webhook", WEBHOOK, EventsSection::webhook, e.webhook()));
        if (m.has("command")) {
            e = e.withCommand(texts(m, "command", "the program and its arguments", false));
            if (e.command().isEmpty()) {
                throw m.error("command", "expected the program and its arguments, got an empty list");
            }
        }
        if (m.has("on")) {
            Set<Kind> kinds = EnumSet.noneOf(Kind.class);
            List<Node> items = m.list("on", "upload, delete, rename").orElseThrow();
            for (Node item : items) {
                String word = item instanceof ScalarNode s ? s.getValue() : null;
                Kind kind = word == null ? null : switch (word) {
                    case "upload" -> Kind.UPLOAD;
                    case "delete" -> Kind.DELETE;
                    case "rename" -> Kind.RENAME;
                    default -> null;
                };
                if (kind == null) {
                    throw m.file().error(item, m.pathOf("on") + ": expected upload, delete or rename, got "
                            + (word == null ? YamlFile.describe(item) : Values.quote(word)));
                }
                if (!kinds.add(kind)) {
                    throw m.file().error(item, m.pathOf("on") + ": " + word + " is listed twice");
                }
            }
            if (kinds.isEmpty()) {
                throw m.error("on", "expected at least one of upload, delete, rename (leave out webhook and command"
                        + " to turn events off)");
            }
            e = e.withOn(kinds);
        }
        e = e.withQueue(m.get(Setting.EVENTS_QUEUE, e.queue()));
        e = e.withWorkers(m.get(Setting.EVENTS_WORKERS, e.workers()));
        e = e.withRetries(m.get(Setting.EVENTS_RETRIES, e.retries()));
        e = e.withBackoff(m.get(Setting.EVENTS_BACKOFF, e.backoff()));
        e = e.withTimeout(m.get(Setting.EVENTS_TIMEOUT, e.timeout()));
        if (m.has("partial-suffixes")) {
            List<String> suffixes = texts(m, "partial-suffixes", "name endings such as .filepart", true);
            for (String suffix : suffixes) {
                if (suffix.contains("/")) {
                    throw m.error("partial-suffixes", "a suffix is the end of a file name, without '/', got "
                            + Values.quote(suffix));
                }
            }
            e = e.withPartialSuffixes(suffixes);
        }
        if (!e.enabled() && (m.has("on") || m.has("partial-suffixes") || m.has("queue"))) {
            // Settings for hooks that do not exist: surely a webhook or command was meant to be here too.
            throw m.missing("webhook", "or 'command': where the events go");
        }
        return e;
    }

    /** The list under {@code key}, each item non-empty single-line text. */
    private static List<String> texts(YamlMapping m, String key, String what, boolean emptyAllowed) throws ConfigException {
        List<Node> items = m.list(key, what).orElseThrow();
        List<String> out = new ArrayList<>();
        for (Node item : items) {
            if (!(item instanceof ScalarNode s) || YamlFile.isNull(item) || s.getValue().isEmpty()
                    || s.getValue().chars().anyMatch(Character::isISOControl)) {
                throw m.file().error(item, m.pathOf(key) + ": expected " + what + " as text on one line, got "
                        + YamlFile.describe(item));
            }
            out.add(s.getValue());
        }
        if (out.isEmpty() && !emptyAllowed) {
            throw m.error(key, "expected " + what + ", got an empty list");
        }
        return out;
    }

    /** A webhook URL: http or https, with a host; no fragment. */
    public static URI webhook(String s) {
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("expected " + WEBHOOK + " (" + e.getReason() + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getFragment() != null) {
            // SECURITY: the value is not echoed: a URL may carry a token in its query or user info.
            throw new IllegalArgumentException("expected " + WEBHOOK + " (with a host name and no #fragment)");
        }
        return uri;
    }

    /** {@code --event-command}: the program and its arguments, split at spaces (no shell, no quoting). */
    public static List<String> command(String s) {
        List<String> argv = List.of(s.trim().split("\\s+"));
        if (s.isBlank() || s.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("expected a program and its arguments separated by spaces");
        }
        return argv;
    }
}
