package dev.ferry.runtime.limits;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ban list of one process, in memory.
 *
 * <p>Design. Each address has a fixed window that opens at its first failure: {@code afterFailures} failures
 * before the window closes start a ban of {@code duration}; a failure after the window closes opens a new
 * one. When a ban ends the address starts from zero. A ban is not extended by further failures (a banned
 * address cannot get as far as a login anyway). A ban by hand uses the same entry, so that lifting it, or
 * its end, also forgets the failures.
 *
 * <p>Bounded: at most {@value #MAX_TRACKED_ADDRESSES} addresses; the one whose last failure (or ban) is oldest
 * is forgotten first, even if banned: a flood from that many addresses is beyond what per-address bans can
 * stop. All operations are O(1) under one short lock, except {@link #bans()} and {@link #bannedCount()}.
 */
public final class LocalBanList implements BanList {

    public static final int MAX_TRACKED_ADDRESSES = 65_536;

    private final boolean automatic;
    private final int afterFailures;
    private final long windowMillis;
    private final long banMillis;
    private final Clock clock;
    private final String node;
    private final int maxTracked;

    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}; insertion order is the time of the last failure or ban. */
    private final LinkedHashMap<InetAddress, Tracked> tracked;

    private static final class Tracked {
        long windowStartMillis;
        int count;
        long bannedUntilMillis;   // 0: not banned
        int banFailures;
        String reason;
        String origin;

        Tracked(long now) {
            windowStartMillis = now;
        }

        boolean bannedAt(long now) {
            return bannedUntilMillis != 0 && now < bannedUntilMillis;
        }

        boolean banEndedAt(long now) {
            return bannedUntilMillis != 0 && now >= bannedUntilMillis;
        }
    }

    /** @param node where failures are counted: the origin of the bans they start */
    public LocalBanList(BanRules rules, Clock clock, String node) {
        this(rules, clock, node, MAX_TRACKED_ADDRESSES);
    }

    LocalBanList(BanRules rules, Clock clock, String node, int maxTracked) {
        this.clock = clock;
        this.node = node;
        this.maxTracked = maxTracked;
        this.windowMillis = saturatedMillis(rules.window());
        this.banMillis = saturatedMillis(rules.duration());
        this.automatic = rules.enabled() && windowMillis > 0 && banMillis > 0;
        this.afterFailures = rules.afterFailures();
        this.tracked = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, Tracked> eldest) {
                return size() > LocalBanList.this.maxTracked;
            }
        };
    }

    @Override
    public boolean isBanned(InetAddress address) {
        InetAddress key = trackingKey(address);
        lock.lock();
        try {
            if (tracked.isEmpty()) {
                return false;
            }
            Tracked e = tracked.get(key);
            if (e == null) {
                return false;
            }
            long now = clock.millis();
            if (e.banEndedAt(now)) {
                tracked.remove(key);   // served its time: start from zero
                return false;
            }
            return e.bannedAt(now);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean recordFailure(InetAddress address) {
        if (!automatic) {
            return false;
        }
        InetAddress key = trackingKey(address);
        lock.lock();
        try {
            long now = clock.millis();
            Tracked e = tracked.remove(key);   // re-inserted below as the newest
            if (e == null || e.banEndedAt(now)) {
                e = new Tracked(now);
            }
            boolean started = false;
            if (!e.bannedAt(now)) {
                if (now - e.windowStartMillis >= windowMillis) {
                    e.windowStartMillis = now;
                    e.count = 0;
                }
                e.count++;
                if (e.count >= afterFailures) {
                    e.bannedUntilMillis = saturatedAdd(now, banMillis);
                    e.banFailures = e.count;
                    e.reason = Ban.FAILED_LOGINS;
                    e.origin = node;
                    e.count = 0;
                    started = true;
                }
            }
            tracked.put(key, e);
            return started;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void recordSuccess(InetAddress address) {
        if (!automatic) {
            return;
        }
        InetAddress key = trackingKey(address);
        lock.lock();
        try {
            Tracked e = tracked.get(key);
            if (e != null && !e.bannedAt(clock.millis())) {
                tracked.remove(key);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Ban> bans() {
        List<Ban> out = new ArrayList<>();
        lock.lock();
        try {
            long now = clock.millis();
            for (Map.Entry<InetAddress, Tracked> me : tracked.entrySet()) {
                Tracked e = me.getValue();
                if (e.bannedAt(now)) {
                    out.add(new Ban(me.getKey(), Instant.ofEpochMilli(e.bannedUntilMillis), e.banFailures, e.reason,
                            e.origin));
                }
            }
        } finally {
            lock.unlock();
        }
        out.sort(Comparator.comparing(Ban::until));
        return out;
    }

    @Override
    public Ban ban(InetAddress address, Duration duration, String reason, String origin) {
        if (duration == null || !duration.isPositive()) {
            throw new IllegalArgumentException("a ban lasts some time, got " + duration);
        }
        InetAddress key = trackingKey(address);
        lock.lock();
        try {
            long now = clock.millis();
            Tracked e = tracked.remove(key);
            if (e == null) {
                e = new Tracked(now);
            }
            e.count = 0;
            e.bannedUntilMillis = saturatedAdd(now, saturatedMillis(duration));
            e.banFailures = 0;
            e.reason = reason;
            e.origin = origin;
            tracked.put(key, e);
            return new Ban(key, Instant.ofEpochMilli(e.bannedUntilMillis), 0, reason, origin);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean lift(InetAddress address) {
        InetAddress key = trackingKey(address);
        lock.lock();
        try {
            Tracked e = tracked.remove(key);
            return e != null && e.bannedAt(clock.millis());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int bannedCount() {
        lock.lock();
        try {
            long now = clock.millis();
            int banned = 0;
            for (Tracked e : tracked.values()) {
                if (e.bannedAt(now)) {
                    banned++;
                }
            }
            return banned;
        } finally {
            lock.unlock();
        }
    }

    /** Number of addresses with failures or a ban on record; never above {@value #MAX_TRACKED_ADDRESSES}. */
    int trackedCount() {
        lock.lock();
        try {
            return tracked.size();
        } finally {
            lock.unlock();
        }
    }

    /** The address itself for IPv4 (also when IPv4-mapped), its /64 prefix for IPv6: {@link Ban#key}. */
    static InetAddress trackingKey(InetAddress address) {
        return Ban.key(address);
    }

    private static long saturatedMillis(Duration d) {
        if (d == null || d.isNegative()) {
            return 0;
        }
        return d.compareTo(Duration.ofMillis(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : d.toMillis();
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
