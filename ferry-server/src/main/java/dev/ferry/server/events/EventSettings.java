package dev.ferry.server.events;

import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Upload, delete and rename events (docs/policy.md, "Upload events"): where they go and how hard Ferry tries.
 * Off unless a webhook or a command is given.
 *
 * @param webhook         POSTed the event's JSON; null: none
 * @param command         run with the JSON on stdin and FERRY_* variables (argv, no shell); empty: none
 * @param on              the kinds of event delivered
 * @param queue           events waiting for a worker; one more is dropped (WARN, metric), never waited for
 * @param workers         threads delivering events
 * @param retries         attempts after the first, on an error, a timeout, a 5xx or a nonzero exit (not on a 4xx)
 * @param backoff         wait before the first retry; doubled before each next one, up to {@link #MAX_BACKOFF}
 * @param timeout         connect and request timeout of the webhook; how long the command may run before it is killed
 * @param partialSuffixes an upload to a name ending in one of these is not reported; its rename to the name without
 *                        the suffix is, as an upload of that name (WinSCP's {@code .filepart})
 */
public record EventSettings(URI webhook, List<String> command, Set<Kind> on, int queue, int workers, int retries,
                            Duration backoff, Duration timeout, List<String> partialSuffixes) {

    /** What happened to a file. */
    public enum Kind {
        UPLOAD, DELETE, RENAME;

        /** The name in the JSON, the log and the {@code on:} list. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final Duration MAX_BACKOFF = Duration.ofMinutes(1);
    public static final List<String> DEFAULT_PARTIAL_SUFFIXES = List.of(".filepart", ".part");

    public static final EventSettings OFF = new EventSettings(null, List.of(), EnumSet.allOf(Kind.class), 1000, 2, 3,
            Duration.ofSeconds(1), Duration.ofSeconds(10), DEFAULT_PARTIAL_SUFFIXES);

    public EventSettings {
        command = List.copyOf(command);
        on = on.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(on));
        partialSuffixes = List.copyOf(partialSuffixes);
        Objects.requireNonNull(backoff, "backoff");
        Objects.requireNonNull(timeout, "timeout");
        if (queue < 1 || workers < 1 || retries < 0) {
            throw new IllegalArgumentException("events: queue and workers must be at least 1, retries at least 0");
        }
        if (webhook != null && !("http".equals(webhook.getScheme()) || "https".equals(webhook.getScheme()))) {
            throw new IllegalArgumentException("events: the webhook must be an http:// or https:// URL");
        }
    }

    /** Whether any action is configured. */
    public boolean enabled() {
        return webhook != null || !command.isEmpty();
    }

    public EventSettings withWebhook(URI v) { return new EventSettings(v, command, on, queue, workers, retries, backoff, timeout, partialSuffixes); }
    public EventSettings withCommand(List<String> v) { return new EventSettings(webhook, v, on, queue, workers, retries, backoff, timeout, partialSuffixes); }
    public EventSettings withOn(Set<Kind> v) { return new EventSettings(webhook, command, v, queue, workers, retries, backoff, timeout, partialSuffixes); }
    public EventSettings withQueue(int v) { return new EventSettings(webhook, command, on, v, workers, retries, backoff, timeout, partialSuffixes); }
    public EventSettings withWorkers(int v) { return new EventSettings(webhook, command, on, queue, v, retries, backoff, timeout, partialSuffixes); }
    public EventSettings withRetries(int v) { return new EventSettings(webhook, command, on, queue, workers, v, backoff, timeout, partialSuffixes); }
    public EventSettings withBackoff(Duration v) { return new EventSettings(webhook, command, on, queue, workers, retries, v, timeout, partialSuffixes); }
    public EventSettings withTimeout(Duration v) { return new EventSettings(webhook, command, on, queue, workers, retries, backoff, v, partialSuffixes); }
    public EventSettings withPartialSuffixes(List<String> v) { return new EventSettings(webhook, command, on, queue, workers, retries, backoff, timeout, v); }

    /** The name without its partial suffix, or null when it has none (a bare ".part" is a name, not a suffix). */
    public String withoutPartialSuffix(String name) {
        for (String suffix : partialSuffixes) {
            if (name.length() > suffix.length() && name.endsWith(suffix)) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        return null;
    }

    /**
     * The webhook as it may be logged: scheme://host:port/path. SECURITY: a URL's user info or query may carry a
     * token; neither reaches a log line.
     */
    public static String loggable(URI url) {
        if (url == null) {
            return null;
        }
        int port = url.getPort() != -1 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        return url.getScheme() + "://" + url.getHost() + ":" + port + path;
    }
}
