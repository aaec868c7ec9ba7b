package dev.ferry.config;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.server.ServerSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The table of Ferry's whole-number and duration settings: per row, the YAML key (its dotted path), the
 * flag that sets it too (or null), and the one rule that accepts a value — a {@link Values.Range}, or a
 * duration that may or may not be zero. The config files ({@link YamlMapping#get}) and the command line
 * (ferry-cli's {@code Flags}) both read a value through its row, so whether a setting allows zero, its
 * minimum and the words that refuse a bad value are written once, here; the front-ends only say where the
 * value came from ("FILE:LINE:COL: server.limits.max-sessions: " or "--max-sessions: ").
 *
 * <p>A table rather than one {@link Values} method per setting: the rule of most settings is one of four
 * (at least 1, at least 0, a duration above zero, any duration), so a row is one line naming its rule, and
 * {@link #all()} lets a test check every flag against its key.
 *
 * @param path the YAML key, dotted from the top of the file; "[]" stands for a list's entries
 * @param flag the command-line flag that sets the same value, or null when only the file does
 * @param expected completes "expected ..." when the YAML value is not a scalar
 */
public record Setting<T>(String path, String flag, String expected, Function<String, T> parser) {

    private static final List<Setting<?>> ALL = new ArrayList<>();
    private static final String DURATION = "a duration such as 30s";

    // ferry server
    public static final Setting<Integer> SERVER_MAX_SESSIONS = number("server.limits.max-sessions", "--max-sessions", Values.POSITIVE);
    public static final Setting<Integer> SERVER_MAX_SESSIONS_PER_ADDRESS = number("server.limits.max-sessions-per-address",
            "--max-sessions-per-address", Values.POSITIVE);
    public static final Setting<Duration> SERVER_IDLE_TIMEOUT = positiveDuration("server.limits.idle-timeout", "--idle-timeout");
    public static final Setting<Duration> SERVER_DATA_TIMEOUT = positiveDuration("server.limits.data-timeout", null);
    public static final Setting<Integer> SERVER_MAX_COMMAND_LENGTH = number("server.limits.max-command-length", null,
            new Values.Range(ServerSettings.Limits.MIN_COMMAND_LENGTH, ServerSettings.Limits.MAX_COMMAND_LENGTH));
    public static final Setting<Duration> SERVER_LOGIN_TIMEOUT = positiveDuration("server.limits.login-timeout", null);
    public static final Setting<Duration> SERVER_ACCEPT_TIMEOUT = positiveDuration("server.passive.accept-timeout", null);
    public static final Setting<Duration> SERVER_HANDSHAKE_TIMEOUT = positiveDuration("server.tls.handshake-timeout", null);
    public static final Setting<Duration> SERVER_FAILURE_DELAY = duration("server.login.failure-delay", null);
    public static final Setting<Integer> SERVER_MAX_ATTEMPTS_PER_SESSION = number("server.login.max-attempts-per-session", null,
            Values.POSITIVE);
    public static final Setting<Integer> SERVER_BAN_AFTER_FAILURES = number("server.login.ban-after-failures", null,
            Values.NON_NEGATIVE);
    public static final Setting<Duration> SERVER_BAN_WINDOW = positiveDuration("server.login.ban-window", null);
    public static final Setting<Duration> SERVER_BAN_DURATION = positiveDuration("server.login.ban-duration", null);
    public static final Setting<Duration> SERVER_CREDENTIAL_CACHE_TTL = duration("server.login.credential-cache-ttl", null);
    /** Bytes per second for the whole server's uploads (downloads below); 0, the default, is no limit. */
    public static final Setting<Long> SERVER_UPLOAD_RATE = add(new Setting<>("server.limits.upload-rate",
            "--max-upload-rate", Values.RATE, Values::rate));
    public static final Setting<Long> SERVER_DOWNLOAD_RATE = add(new Setting<>("server.limits.download-rate",
            "--max-download-rate", Values.RATE, Values::rate));
    /** Octal, so its own parser; a number all the same, read once here for the file and the flag. */
    public static final Setting<Integer> SERVER_UMASK = add(new Setting<>("server.umask", "--umask", Values.UMASK, Values::umask));

    // ferry server: object storage (server.storage, and each user's storage: mapping)
    public static final Setting<Integer> STORAGE_PART_SIZE = add(new Setting<>("server.storage.part-size", "--s3-part-size",
            Values.PART_SIZE, Values::partSize));
    public static final Setting<Integer> STORAGE_PARTS_IN_FLIGHT = number("server.storage.parts-in-flight",
            "--s3-parts-in-flight", Values.POSITIVE);
    public static final Setting<Long> STORAGE_UPLOAD_MEMORY = add(new Setting<>("server.storage.upload-memory",
            "--s3-upload-memory", Values.SIZE, Values::positiveSize));
    public static final Setting<Duration> STORAGE_REQUEST_TIMEOUT = positiveDuration("server.storage.request-timeout", null);

    // ferry server: upload events (server.events)
    public static final Setting<Integer> EVENTS_QUEUE = number("server.events.queue", null, Values.POSITIVE);
    public static final Setting<Integer> EVENTS_WORKERS = number("server.events.workers", null, new Values.Range(1, 64));
    public static final Setting<Integer> EVENTS_RETRIES = number("server.events.retries", null, new Values.Range(0, 100));
    public static final Setting<Duration> EVENTS_BACKOFF = positiveDuration("server.events.backoff", null);
    public static final Setting<Duration> EVENTS_TIMEOUT = positiveDuration("server.events.timeout", null);

    // ferry balancer
    public static final Setting<Integer> BALANCER_MAX_SESSIONS = number("balancer.max-sessions", "--max-sessions", Values.POSITIVE);
    public static final Setting<Integer> BALANCER_MAX_SESSIONS_PER_ADDRESS = number("balancer.max-sessions-per-address",
            "--max-sessions-per-address", Values.POSITIVE);
    public static final Setting<Integer> BALANCER_BAN_AFTER_FAILURES = number("balancer.login.ban-after-failures", null,
            Values.NON_NEGATIVE);
    public static final Setting<Duration> BALANCER_BAN_WINDOW = positiveDuration("balancer.login.ban-window", null);
    public static final Setting<Duration> BALANCER_BAN_DURATION = positiveDuration("balancer.login.ban-duration", null);
    public static final Setting<Integer> RETRIES = number("balancer.retries", null, new Values.Range(1, BalancerSettings.MAX_RETRIES));
    public static final Setting<Integer> QUEUE_SIZE = number("balancer.queue.size", "--queue", Values.NON_NEGATIVE);
    public static final Setting<Duration> QUEUE_TIMEOUT = positiveDuration("balancer.queue.timeout", null);
    public static final Setting<Duration> CHECK_INTERVAL = positiveDuration("balancer.check.interval", "--check-interval");
    public static final Setting<Duration> CHECK_TIMEOUT = positiveDuration("balancer.check.timeout", null);
    public static final Setting<Integer> CHECK_RISE = number("balancer.check.rise", "--rise", Values.POSITIVE);
    public static final Setting<Integer> CHECK_FALL = number("balancer.check.fall", "--fall", Values.POSITIVE);
    public static final Setting<Duration> CONNECT_TIMEOUT = positiveDuration("balancer.timeouts.connect", null);
    public static final Setting<Duration> CLIENT_IDLE_TIMEOUT = positiveDuration("balancer.timeouts.client-idle", null);
    public static final Setting<Duration> SERVER_IDLE = positiveDuration("balancer.timeouts.server-idle", null);
    public static final Setting<Duration> DATA_TIMEOUT = positiveDuration("balancer.timeouts.data", null);
    public static final Setting<Duration> GRACE = duration("balancer.timeouts.grace", "--grace");
    public static final Setting<Duration> BALANCER_LOGIN_TIMEOUT = positiveDuration("balancer.timeouts.login", "--login-timeout");
    public static final Setting<Duration> BALANCER_HANDSHAKE_TIMEOUT = positiveDuration("balancer.tls.handshake-timeout", null);
    /** Also {@code --backend NAME=HOST:PORT,weight=N}. */
    public static final Setting<Integer> BACKEND_WEIGHT = number("balancer.backends[].weight", null, Values.WEIGHT);
    /** Also {@code --backend NAME=HOST:PORT,max-connecting=N}. */
    public static final Setting<Integer> BACKEND_MAX_CONNECTING = number("balancer.backends[].max-connecting", null,
            Values.MAX_CONNECTING);

    /** The key within its mapping: the last name of the path. */
    public String key() {
        return path.substring(path.lastIndexOf('.') + 1);
    }

    /** The value of {@code text}, or an {@link IllegalArgumentException} whose message is the same for the file and the flag. */
    public T parse(String text) {
        return parser.apply(text);
    }

    /** Every row, in the order above. */
    public static List<Setting<?>> all() {
        return List.copyOf(ALL);
    }

    private static Setting<Integer> number(String path, String flag, Values.Range range) {
        return add(new Setting<>(path, flag, range.expected(), range::parse));
    }

    private static Setting<Duration> positiveDuration(String path, String flag) {
        return add(new Setting<>(path, flag, DURATION, Values::positiveDuration));
    }

    private static Setting<Duration> duration(String path, String flag) {
        return add(new Setting<>(path, flag, DURATION, Values::duration));
    }

    private static <T> Setting<T> add(Setting<T> setting) {
        ALL.add(setting);
        return setting;
    }
}
