package dev.ferry.server.auth;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The logins a directory or an auth hook accepted lately, so that a script logging in again and again asks it once
 * per {@code ttl}: {@link dev.ferry.runtime.password.CredentialCache}'s rules for a source that answers with a
 * whole account rather than a hash to verify.
 *
 * <p>Each user has at most one entry: HMAC-SHA256(process key, user NUL password) and the login it proved. The key
 * is random and lives only in this process, so a heap dump gives nothing to attack offline faster than the directory
 * itself; the password is never stored. A wrong password computes another fingerprint and misses, so it is always
 * asked of the source, never answered from here (and never remembered: only successes are). A hit does not extend
 * the entry, so a password changed or an account removed in the directory stops working within {@code ttl}.
 * At most {@code maxEntries} users, the oldest forgotten first.
 */
public final class SuccessCache {

    private static final long MAX_TTL_NANOS = Long.MAX_VALUE / 2;

    private final long ttlNanos;
    private final int maxEntries;
    private final LongSupplier nanoTime;
    private final SecretKeySpec key;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}; insertion order is age. */
    private final LinkedHashMap<String, Remembered> entries = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Remembered> eldest) {
            return size() > maxEntries;
        }
    };

    private record Remembered(byte[] fingerprint, long expiresAtNanos, LoginResult.Success login) {}

    /** @param ttl zero: nothing is remembered */
    public SuccessCache(Duration ttl, int maxEntries) {
        this(ttl, maxEntries, System::nanoTime);
    }

    public SuccessCache(Duration ttl, int maxEntries, LongSupplier nanoTime) {
        if (ttl.isNegative() || maxEntries < 1) {
            throw new IllegalArgumentException("a cache needs a ttl of zero or more and room for one user at least");
        }
        this.ttlNanos = ttl.compareTo(Duration.ofNanos(MAX_TTL_NANOS)) > 0 ? MAX_TTL_NANOS : ttl.toNanos();
        this.maxEntries = maxEntries;
        this.nanoTime = nanoTime;
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    public boolean enabled() {
        return ttlNanos > 0;
    }

    /** The login {@code user} with {@code password} proved within the ttl, or null. */
    public LoginResult.Success get(String user, char[] password) {
        if (!enabled()) {
            return null;
        }
        byte[] fingerprint = fingerprint(user, password);
        lock.lock();
        try {
            Remembered e = entries.get(user);
            if (e == null) {
                return null;
            }
            if (nanoTime.getAsLong() - e.expiresAtNanos() >= 0) {
                entries.remove(user);
                return null;
            }
            // SECURITY: constant time, so timing does not tell a guesser how close its fingerprint came.
            return MessageDigest.isEqual(e.fingerprint(), fingerprint) ? e.login() : null;
        } finally {
            lock.unlock();
        }
    }

    /** Remembers a login the source accepted. */
    public void put(String user, char[] password, LoginResult.Success login) {
        put(user, password, login, null);
    }

    /**
     * Remembers a login the source accepted for the ttl, or for {@code validFor} when that is shorter (the account
     * expires sooner; null: no such bound; zero or less: not remembered).
     */
    public void put(String user, char[] password, LoginResult.Success login, Duration validFor) {
        if (!enabled()) {
            return;
        }
        long life = ttlNanos;
        if (validFor != null) {
            if (validFor.isNegative() || validFor.isZero()) {
                return;
            }
            life = Math.min(life, validFor.compareTo(Duration.ofNanos(MAX_TTL_NANOS)) > 0 ? MAX_TTL_NANOS : validFor.toNanos());
        }
        byte[] fingerprint = fingerprint(user, password);
        lock.lock();
        try {
            entries.remove(user);   // re-inserted as the newest
            entries.put(user, new Remembered(fingerprint, nanoTime.getAsLong() + life, login));
        } finally {
            lock.unlock();
        }
    }

    /** Users remembered (expired entries count until touched). */
    public int size() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }

    private byte[] fingerprint(String user, char[] password) {
        Mac mac;
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
        mac.update(user.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) 0);
        ByteBuffer secret = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password == null ? new char[0] : password));
        mac.update(secret.duplicate());
        if (secret.hasArray()) {
            Arrays.fill(secret.array(), (byte) 0);
        }
        return mac.doFinal();
    }
}
