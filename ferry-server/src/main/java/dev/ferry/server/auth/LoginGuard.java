package dev.ferry.server.auth;

import dev.ferry.server.ServerSettings.LoginPolicy;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Failed logins per client address, and bans for addresses that keep failing. RFC 2577 §5 notes
 * that a per-connection attempt limit is defeated by opening more connections; this is the
 * across-sessions part.
 *
 * <p>Design. Each address has a fixed window that opens at its first failure: {@code
 * banAfterFailures} failures before the window ({@code banWindow}) closes start a ban of {@code
 * banDuration}; a failure after the window closes opens a new one. When a ban ends the address
 * starts from zero. A ban is not extended by further failures (a banned address cannot get as far
 * as a login anyway).
 *
 * <p>An IPv6 client is tracked by its /64 prefix: one host usually has a whole /64 to itself and
 * could otherwise change address for every attempt. IPv4 addresses are tracked one by one.
 *
 * <p>Bounded: at most {@value #MAX_TRACKED_ADDRESSES} addresses; the one whose last failure is
 * oldest is forgotten first (even if banned: a flood from that many addresses is beyond what
 * per-address bans can stop). All operations are O(1) under one short lock, except {@link
 * #bannedCount()}.
 */
public final class LoginGuard {

    public static final int MAX_TRACKED_ADDRESSES = 65_536;

    private final int banAfterFailures;
    private final long windowMillis;
    private final long banMillis;
    private final Clock clock;
    private final int maxTracked;

    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}; insertion order is the time of the last failure. */
    private final LinkedHashMap<InetAddress, Failures> tracked = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Failures> eldest) {
            return size() > maxTracked;
        }
    };

    private static final class Failures {
        long windowStartMillis;
        int count;
        long bannedUntilMillis;   // 0: not banned

        Failures(long now) {
            windowStartMillis = now;
        }

        boolean bannedAt(long now) {
            return bannedUntilMillis != 0 && now < bannedUntilMillis;
        }

        boolean banEndedAt(long now) {
            return bannedUntilMillis != 0 && now >= bannedUntilMillis;
        }
    }

    public LoginGuard(LoginPolicy policy, Clock clock) {
        this(policy, clock, MAX_TRACKED_ADDRESSES);
    }

    LoginGuard(LoginPolicy policy, Clock clock, int maxTracked) {
        this.clock = clock;
        this.maxTracked = maxTracked;
        this.windowMillis = saturatedMillis(policy.banWindow());
        this.banMillis = saturatedMillis(policy.banDuration());
        // Banning is off with 0 failures (the documented switch) or a ban or window that lasts no time.
        this.banAfterFailures = windowMillis > 0 && banMillis > 0 ? Math.max(0, policy.banAfterFailures()) : 0;
    }

    /** Whether connections and logins from {@code address} are refused right now. */
    public boolean isBanned(InetAddress address) {
        if (banAfterFailures == 0) {
            return false;
        }
        InetAddress key = trackingKey(address);
        lock.lock();
        try {
            Failures f = tracked.get(key);
            if (f == null) {
                return false;
            }
            long now = clock.millis();
            if (f.banEndedAt(now)) {
                tracked.remove(key);   // served its time: start from zero
                return false;
            }
            return f.bannedAt(now);
        } finally {
            lock.unlock();
        }
    }

    /** Records a failed login from {@code address}; true if this failure started a ban. */
    public boolean recordFailure(InetAddress address) {
        if (banAfterFailures == 0) {
            return false;
        }
        InetAddress key = trackingKey(address);
        lock.lock();
        try {
            long now = clock.millis();
            Failures f = tracked.remove(key);   // re-inserted below as the newest
            if (f == null || f.banEndedAt(now)) {
                f = new Failures(now);
            }
            boolean started = false;
            if (!f.bannedAt(now)) {
                if (now - f.windowStartMillis >= windowMillis) {
                    f.windowStartMillis = now;
                    f.count = 0;
                }
                f.count++;
                if (f.count >= banAfterFailures) {
                    f.bannedUntilMillis = saturatedAdd(now, banMillis);
                    f.count = 0;
                    started = true;
                }
            }
            tracked.put(key, f);
            return started;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Forgets the failures of {@code address} after a good login; a running ban stays. Call it for
     * real accounts only: an anonymous login proves nothing, and counting it would let anyone reset
     * their count between guesses.
     */
    public void recordSuccess(InetAddress address) {
        if (banAfterFailures == 0) {
            return;
        }
        InetAddress key = trackingKey(address);
        lock.lock();
        try {
            Failures f = tracked.get(key);
            if (f != null && !f.bannedAt(clock.millis())) {
                tracked.remove(key);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Addresses (IPv6: /64 prefixes) banned right now. O(tracked addresses); for status pages and metrics. */
    public int bannedCount() {
        lock.lock();
        try {
            long now = clock.millis();
            int banned = 0;
            for (Failures f : tracked.values()) {
                if (f.bannedAt(now)) {
                    banned++;
                }
            }
            return banned;
        } finally {
            lock.unlock();
        }
    }

    /** Number of addresses with failures on record; never above {@value #MAX_TRACKED_ADDRESSES}. */
    int trackedCount() {
        lock.lock();
        try {
            return tracked.size();
        } finally {
            lock.unlock();
        }
    }

    /** The address itself for IPv4 (also when IPv4-mapped), its /64 prefix for IPv6. */
    static InetAddress trackingKey(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] bytes = address.getAddress();
        try {
            if (isIpv4Mapped(bytes)) {
                return InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16));
            }
            Arrays.fill(bytes, 8, 16, (byte) 0);
            return InetAddress.getByAddress(bytes);   // drops the scope id too: same host, same key
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4 or 16 byte address is always valid", e);
        }
    }

    private static boolean isIpv4Mapped(byte[] bytes) {
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
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
