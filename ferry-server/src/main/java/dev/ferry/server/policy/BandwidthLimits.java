package dev.ferry.server.policy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A server's bandwidth buckets: one per direction for the whole server (when its limits set a rate), and one per
 * direction for each limited user with a session on this server, shared by that user's sessions. A user's buckets
 * are made at the first login and dropped when the last session that holds them lets go, so the map holds at most
 * one entry per session (bounded by the server's session limit).
 *
 * <p>An entry is keyed by the user's name and rates: a reload that changes a user's bandwidth gives new logins new
 * buckets, while the sessions already logged in keep theirs (a policy is fixed for a session's life).
 */
public final class BandwidthLimits {

    private final TokenBucket serverUpload;
    private final TokenBucket serverDownload;
    private final Map<Key, Shared> users = new ConcurrentHashMap<>();
    /**
     * The lease of every session whose user has no rates of their own: it holds nothing to give back, so one is
     * shared rather than one kept per session (an idle logged-in session holds its lease for its whole life).
     */
    private final Lease unlimited;

    private record Key(String user, Bandwidth bandwidth) {}

    /** One user's buckets and how many sessions hold them; changed only inside the map's compute. */
    private static final class Shared {
        final TokenBucket upload;
        final TokenBucket download;
        int holders;

        Shared(Bandwidth b) {
            upload = b.uploadPerSecond() > 0 ? new TokenBucket(b.uploadPerSecond()) : null;
            download = b.downloadPerSecond() > 0 ? new TokenBucket(b.downloadPerSecond()) : null;
        }
    }

    /** {@code server}: the whole server's rates ({@link Bandwidth#UNLIMITED}: none). */
    public BandwidthLimits(Bandwidth server) {
        this.serverUpload = server.uploadPerSecond() > 0 ? new TokenBucket(server.uploadPerSecond()) : null;
        this.serverDownload = server.downloadPerSecond() > 0 ? new TokenBucket(server.downloadPerSecond()) : null;
        this.unlimited = new Lease(null, Throttle.of(serverUpload), Throttle.of(serverDownload));
    }

    /** What limits a session of {@code user} with {@code bandwidth}, until the lease is closed. */
    public Lease lease(String user, Bandwidth bandwidth) {
        if (!bandwidth.limited()) {
            return unlimited;
        }
        Key key = new Key(user, bandwidth);
        Shared shared = users.compute(key, (k, s) -> {
            Shared held = s == null ? new Shared(k.bandwidth()) : s;
            held.holders++;
            return held;
        });
        return new Lease(key, Throttle.of(shared.upload, serverUpload), Throttle.of(shared.download, serverDownload));
    }

    /** Users whose buckets are held now; for tests and the metrics. */
    public int users() {
        return users.size();
    }

    private void release(Key key) {
        users.computeIfPresent(key, (k, s) -> --s.holders == 0 ? null : s);
    }

    /** A session's hold on its buckets; closing it twice is harmless (and closing the shared unlimited one does nothing). */
    public final class Lease implements AutoCloseable {
        private final Key key;
        private final Throttle upload;
        private final Throttle download;
        private boolean closed;

        private Lease(Key key, Throttle upload, Throttle download) {
            this.key = key;
            this.upload = upload;
            this.download = download;
        }

        public Throttle upload() {
            return upload;
        }

        public Throttle download() {
            return download;
        }

        @Override
        public void close() {
            if (key == null) {
                return; // the shared lease of the unlimited: nothing is held
            }
            synchronized (this) {
                if (!closed) {
                    release(key);
                }
                closed = true;
            }
        }
    }
}
