package dev.ferry.server.events;

import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.server.events.EventSettings.Kind;
import dev.ferry.server.events.HookAction.Attempt;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Delivers upload, delete and rename events to a webhook and/or a command, off the sessions' threads.
 *
 * <p>Design: a session hands an event over with {@link #upload}, {@link #delete} or {@link #rename}, which only
 * offer it to a bounded queue: a full queue drops the event (a WARN line, a metric), so a slow or dead hook never
 * holds a session, its 226 or its memory. A fixed set of worker threads takes events from the queue; for an upload
 * the worker first reads the stored file's size and SHA-256 (the storage's own digest when it keeps one, else the
 * file read back), so hashing costs the transfer nothing. Then each action gets up to 1 + retries attempts with a
 * doubling backoff; each attempt's outcome is one log line (hook-delivered, hook-failed). Events are delivered
 * at least once per action as far as the retries reach, in no guaranteed order across workers. {@link #close}
 * lets the workers empty the queue for a bounded time when the server stops.
 */
public final class EventHooks implements AutoCloseable {

    /** What the metrics count; the server's Prometheus metrics in production. */
    public interface Counters {
        void delivered(String action);

        void failed(String action);

        void dropped();

        Counters NONE = new Counters() {
            @Override public void delivered(String action) {}
            @Override public void failed(String action) {}
            @Override public void dropped() {}
        };
    }

    /** Waits between attempts; tests pass one that does not sleep. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;

        Sleeper REAL = d -> Thread.sleep(d);
    }

    /** Who caused an event: the fields every event of a session shares (the server's node is added here). */
    public record Origin(String user, String client, String session) {}

    /** Hooks that deliver nothing: events off. */
    public static final EventHooks NONE = new EventHooks(EventSettings.OFF, List.of(), Counters.NONE, null,
            Sleeper.REAL, Clock.systemUTC());

    /** How long the workers may go on emptying the queue when the server stops. */
    public static final Duration DRAIN = Duration.ofSeconds(5);
    private static final Duration POLL = Duration.ofMillis(200);

    private final EventSettings settings;
    private final List<HookAction> actions;
    private final Counters counters;
    private final EventLog log;
    private final Sleeper sleeper;
    private final Clock clock;
    private final BlockingQueue<Pending> queue;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean closed;

    /**
     * An event and the storage its file is read from (for an upload's size and hash; else null); {@code renamedFrom}:
     * the partial file's name, for an upload reported by a rename.
     */
    private record Pending(FileEvent event, Storage storage, VirtualPath renamedFrom) {
        Pending(FileEvent event, Storage storage) {
            this(event, storage, null);
        }
    }

    /**
     * The hooks {@code settings} name, their workers started; {@link #NONE} when no action is configured.
     * {@code log}: where hook-* lines go (the server's node on each).
     */
    public static EventHooks start(EventSettings settings, Counters counters, EventLog log) {
        if (settings == null || !settings.enabled()) {
            return NONE;
        }
        List<HookAction> actions = new ArrayList<>();
        if (settings.webhook() != null) {
            actions.add(new Webhook(settings.webhook(), settings.timeout()));
        }
        if (!settings.command().isEmpty()) {
            actions.add(new CommandHook(settings.command(), settings.timeout()));
        }
        return new EventHooks(settings, actions, counters, log, Sleeper.REAL, Clock.systemUTC());
    }

    /** Workers are started here unless there is no action. */
    public EventHooks(EventSettings settings, List<HookAction> actions, Counters counters, EventLog log,
                      Sleeper sleeper, Clock clock) {
        this.settings = settings;
        this.actions = List.copyOf(actions);
        this.counters = counters;
        this.log = log;
        this.sleeper = sleeper;
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(settings.queue());
        if (!this.actions.isEmpty()) {
            for (int i = 1; i <= settings.workers(); i++) {
                // Platform threads: few, long-lived, and a command's waitFor would pin a virtual one anyway.
                workers.add(Thread.ofPlatform().daemon().name("ferry-events-" + i).start(this::work));
            }
        }
    }

    public EventSettings settings() {
        return settings;
    }

    private boolean wanted(Kind kind) {
        return !actions.isEmpty() && settings.on().contains(kind);
    }

    /**
     * A STOR, APPE or STOU committed {@code path}. Not reported when its name ends in a partial suffix: the rename
     * that puts it in place is (see {@link #rename}).
     */
    public void upload(Origin origin, VirtualPath path, Storage storage) {
        if (wanted(Kind.UPLOAD) && settings.withoutPartialSuffix(path.name()) == null) {
            offer(new Pending(event(Kind.UPLOAD, origin, path, null, -1), storage));
        }
    }

    /** DELE removed {@code path}, of {@code size} bytes. */
    public void delete(Origin origin, VirtualPath path, long size) {
        if (wanted(Kind.DELETE)) {
            offer(new Pending(event(Kind.DELETE, origin, path, null, size), null));
        }
    }

    /**
     * RNFR {@code from}, RNTO {@code to} succeeded. A partial file renamed to its name without the suffix
     * ("a.txt.filepart" to "a.txt", in any directory) is the end of an upload: reported as the upload of {@code to}.
     */
    public void rename(Origin origin, VirtualPath from, VirtualPath to, Storage storage) {
        if (to.name().equals(settings.withoutPartialSuffix(from.name()))) {
            if (wanted(Kind.UPLOAD)) {
                offer(new Pending(event(Kind.UPLOAD, origin, to, null, -1), storage, from));
            }
        } else if (wanted(Kind.RENAME)) {
            offer(new Pending(event(Kind.RENAME, origin, from, to, -1), null));
        }
    }

    private FileEvent event(Kind kind, Origin o, VirtualPath path, VirtualPath target, long size) {
        return new FileEvent(kind, o.user(), path, target, size, null, o.client(), log == null ? null : log.node(),
                o.session(), clock.instant());
    }

    /** Never waits: a full queue (or a stopping server) drops the event. */
    private void offer(Pending p) {
        if (!closed && queue.offer(p)) {
            return;
        }
        counters.dropped();
        if (log != null) {
            fields(log.warn("hook-dropped"), p.event()).with("reason", closed ? "server-stopping" : "queue-full")
                    .with("queue", settings.queue()).log();
        }
    }

    /** Events waiting for a worker. */
    public int queued() {
        return queue.size();
    }

    private void work() {
        try {
            while (!(closed && queue.isEmpty())) {
                Pending p = queue.poll(POLL.toMillis(), TimeUnit.MILLISECONDS);
                if (p == null) {
                    continue;
                }
                try {
                    deliver(p);
                } catch (RuntimeException e) {
                    // A bug costs this event, not the worker: the next ones are still delivered.
                    if (log != null) {
                        log.error("hook-worker-failed").with("error", e.toString()).log(e);
                    }
                }
            }
        } catch (InterruptedException e) {
            // the drain time is over
        }
    }

    private void deliver(Pending p) throws InterruptedException {
        FileEvent event = p.storage() == null ? p.event() : withContent(p.event(), p.storage());
        if (p.renamedFrom() != null && event.sha256() == null && isDirectory(p.storage(), event.path())) {
            // A directory named like a partial file ("x.part" to "x"): no upload, a rename as any other.
            if (!settings.on().contains(Kind.RENAME)) {
                return;
            }
            event = new FileEvent(Kind.RENAME, event.user(), p.renamedFrom(), event.path(), -1, null, event.client(),
                    event.server(), event.session(), event.time());
        }
        for (HookAction action : actions) {
            deliver(action, event);
        }
    }

    /** Up to 1 + retries attempts; one log line per attempt. */
    void deliver(HookAction action, FileEvent event) throws InterruptedException {
        int attempts = 1 + settings.retries();
        Duration wait = settings.backoff();
        for (int attempt = 1; ; attempt++) {
            long start = System.nanoTime();
            Attempt a = action.deliver(event);
            long ms = (System.nanoTime() - start) / 1_000_000L;
            boolean last = a.delivered() || !a.retry() || attempt == attempts;
            if (log != null) {
                Event line = a.delivered() ? log.info("hook-delivered") : log.warn("hook-failed");
                fields(line, event).with("hook", action.name()).with("destination", action.describe())
                        .with("attempt", attempt).with(a.key(), a.value()).with("ms", ms);
                if (!a.delivered()) {
                    line.with("next", last ? "none" : "retry");
                }
                line.log();
            }
            if (a.delivered()) {
                counters.delivered(action.name());
                return;
            }
            if (last) {
                counters.failed(action.name());
                return;
            }
            sleeper.sleep(wait);
            wait = wait.multipliedBy(2).compareTo(EventSettings.MAX_BACKOFF) > 0 ? EventSettings.MAX_BACKOFF
                    : wait.multipliedBy(2);
        }
    }

    private static Event fields(Event line, FileEvent e) {
        line.with("kind", e.kind().label()).with("path", e.path());
        if (e.target() != null) {
            line.with("target", e.target());
        }
        return line.with("user", e.user()).with("client", e.client()).with("session", e.session());
    }

    /**
     * The upload's size and SHA-256 as stored now: the storage's own digest when it keeps one (an object's checksum),
     * else the file read back. A file already gone (deleted or renamed meanwhile) leaves them unknown.
     */
    static FileEvent withContent(FileEvent e, Storage storage) {
        try {
            Storage.StoredHash stored = storage.storedHash(e.path(), "SHA-256");
            if (stored != null) {
                return e.withContent(stored.size(), stored.hex());
            }
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            long total = 0;
            try (SeekableByteChannel ch = storage.openRead(e.path(), 0); InputStream in = Channels.newInputStream(ch)) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    digest.update(buf, 0, n);
                    total += n;
                }
            }
            return e.withContent(total, HexFormat.of().formatHex(digest.digest()));
        } catch (IOException x) {
            return e;
        } catch (NoSuchAlgorithmException x) {
            throw new IllegalStateException(x);
        }
    }

    /** Asked only when an upload by rename could not be read: the common case costs no extra stat. */
    private static boolean isDirectory(Storage storage, VirtualPath path) {
        try {
            return storage.stat(path).type() == FileType.DIRECTORY;
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops taking events and lets the workers empty the queue for up to {@link #DRAIN}. */
    @Override
    public void close() {
        close(DRAIN);
    }

    /** As {@link #close()}, draining for up to {@code drain}; what is left after it is dropped, and logged. */
    public void close(Duration drain) {
        if (this == NONE || closed) {
            return;
        }
        closed = true;
        long deadline = System.nanoTime() + drain.toNanos();
        try {
            for (Thread t : workers) {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    t.join(Duration.ofNanos(left));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.forEach(Thread::interrupt);
        int left = queue.size();
        queue.clear();
        for (HookAction action : actions) {
            if (action instanceof Webhook w) {
                w.close();
            }
        }
        if (left > 0 && log != null) {
            log.warn("hooks-abandoned").with("events", left).with("drain_ms", drain.toMillis()).log();
        }
        for (int i = 0; i < left; i++) {
            counters.dropped();
        }
    }
}
