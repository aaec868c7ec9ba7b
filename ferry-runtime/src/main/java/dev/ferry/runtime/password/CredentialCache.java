package dev.ferry.runtime.password;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiPredicate;
import java.util.function.LongSupplier;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * Password verification with memory of recent successes, so a script that logs in again and again
 * pays the slow hash once per {@code ttl} instead of once per login.
 *
 * <p>Design. A login is reduced to a fingerprint, HMAC-SHA256(process key, user NUL password NUL
 * hash). The key is random and lives only in this process, so a fingerprint found in a heap dump
 * cannot be attacked offline any faster than the Argon2 hash next to it in the users file; the
 * password itself is never stored. The fingerprint covers the stored hash, so a changed password
 * in the users file misses by construction, with no invalidation step.
 * <ul>
 *   <li>Remembered: one fingerprint per user, for {@code ttl} after the verification that proved it
 *       (a hit does not extend it), at most {@code maxEntries} users, the oldest evicted first.</li>
 *   <li>Single flight: logins with the same fingerprint that arrive while it is being verified wait
 *       for that one result, so a burst of 200 sessions of one user costs one hash, not 200.</li>
 *   <li>Bounded: at most {@code maxConcurrentVerifications} hashes run at once (default: the number
 *       of cores), so memory stays near cores x 19 MiB however many sessions log in together.</li>
 *   <li>No negative memory: a wrong password is never remembered, so each guess costs a full
 *       verification and gets no fast "no" (identical guesses in flight at the same moment share
 *       one, and are all answered when it ends).</li>
 * </ul>
 */
public final class CredentialCache {

    private static final int KEY_BYTES = 32;
    // Keeps nanoTime arithmetic away from overflow for absurd settings (about 146 years).
    private static final long MAX_TTL_NANOS = Long.MAX_VALUE / 2;

    private final long ttlNanos;
    private final int maxEntries;
    private final BiPredicate<char[], String> verifier;
    private final LongSupplier nanoTime;
    private final Semaphore verifications;
    private final byte[] processKey = new byte[KEY_BYTES];

    private final ReentrantLock lock = new ReentrantLock();
    /** user -> last proven fingerprint; insertion order is age. Guarded by {@link #lock}. */
    private final LinkedHashMap<String, Remembered> remembered = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Remembered> eldest) {
            return size() > maxEntries;
        }
    };
    private final ConcurrentHashMap<ByteBuffer, CompletableFuture<Boolean>> inFlight = new ConcurrentHashMap<>();

    private record Remembered(byte[] fingerprint, long expiresAtNanos) {}

    /**
     * @param ttl        how long a verified password is remembered; zero turns remembering off
     *                   (single flight and the concurrency bound still apply)
     * @param maxEntries most users remembered at once
     */
    public CredentialCache(Duration ttl, int maxEntries) {
        this(ttl, maxEntries, PasswordHasher::verify, System::nanoTime, Runtime.getRuntime().availableProcessors());
    }

    /** With the verifier, clock and verification bound given (the callers' tests count and time verifications). */
    public CredentialCache(Duration ttl, int maxEntries, BiPredicate<char[], String> verifier, LongSupplier nanoTime,
                    int maxConcurrentVerifications) {
        if (ttl.isNegative()) {
            throw new IllegalArgumentException("ttl must not be negative");
        }
        if (maxEntries < 1 || maxConcurrentVerifications < 1) {
            throw new IllegalArgumentException("maxEntries and maxConcurrentVerifications must be positive");
        }
        this.ttlNanos = ttl.compareTo(Duration.ofNanos(MAX_TTL_NANOS)) > 0 ? MAX_TTL_NANOS : ttl.toNanos();
        this.maxEntries = maxEntries;
        this.verifier = verifier;
        this.nanoTime = nanoTime;
        this.verifications = new Semaphore(maxConcurrentVerifications, true);
        new SecureRandom().nextBytes(processKey);
    }

    /**
     * Whether {@code password} matches {@code phc} for {@code user}; blocks while a hash runs. An
     * interrupted wait answers false (fail closed) and keeps the interrupt flag.
     */
    public boolean verify(String user, char[] password, String phc) {
        byte[] fingerprint = fingerprint(user, password, phc);
        if (isRemembered(user, fingerprint)) {
            return true;
        }
        ByteBuffer key = ByteBuffer.wrap(fingerprint);
        while (true) {
            CompletableFuture<Boolean> mine = new CompletableFuture<>();
            CompletableFuture<Boolean> running = inFlight.putIfAbsent(key, mine);
            if (running == null) {
                return lead(mine, key, user, fingerprint, password, phc);
            }
            Boolean answer = await(running);
            if (answer != null) {
                return answer;
            }
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
            // The leader was interrupted before it had an answer: take over.
        }
    }

    /** Number of users currently remembered (expired entries may still count until touched). */
    public int size() {
        lock.lock();
        try {
            return remembered.size();
        } finally {
            lock.unlock();
        }
    }

    private boolean lead(CompletableFuture<Boolean> mine, ByteBuffer key, String user, byte[] fingerprint,
                         char[] password, String phc) {
        try {
            // A leader that finished between our first look and putIfAbsent has remembered it.
            if (isRemembered(user, fingerprint)) {
                mine.complete(true);
                return true;
            }
            verifications.acquire();
            boolean matches;
            try {
                matches = verifier.test(password == null ? new char[0] : password, phc);
            } finally {
                verifications.release();
            }
            if (matches) {
                remember(user, fingerprint);
            }
            mine.complete(matches);
            return matches;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            mine.complete(null);   // no answer: a waiter will verify for itself
            return false;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    private static Boolean await(CompletableFuture<Boolean> running) {
        try {
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            throw new IllegalStateException("password verification failed", e.getCause());
        }
    }

    private boolean isRemembered(String user, byte[] fingerprint) {
        if (ttlNanos == 0) {
            return false;
        }
        lock.lock();
        try {
            Remembered r = remembered.get(user);
            if (r == null) {
                return false;
            }
            if (nanoTime.getAsLong() - r.expiresAtNanos() >= 0) {
                remembered.remove(user);
                return false;
            }
            // SECURITY: constant-time comparison, so timing does not tell a guesser how close
            // its fingerprint came to the remembered one.
            return MessageDigest.isEqual(r.fingerprint(), fingerprint);
        } finally {
            lock.unlock();
        }
    }

    private void remember(String user, byte[] fingerprint) {
        if (ttlNanos == 0) {
            return;
        }
        lock.lock();
        try {
            remembered.remove(user);   // re-insert so it counts as the newest
            remembered.put(user, new Remembered(fingerprint.clone(), nanoTime.getAsLong() + ttlNanos));
        } finally {
            lock.unlock();
        }
    }

    private byte[] fingerprint(String user, char[] password, String phc) {
        HMac mac = new HMac(new SHA256Digest());
        mac.init(new KeyParameter(processKey));
        byte[] userBytes = user.getBytes(StandardCharsets.UTF_8);
        mac.update(userBytes, 0, userBytes.length);
        mac.update((byte) 0);
        // With user and hash fixed, NUL separators make the password part unambiguous.
        byte[] secret = PasswordHasher.utf8(password == null ? new char[0] : password);
        mac.update(secret, 0, secret.length);
        Arrays.fill(secret, (byte) 0);
        mac.update((byte) 0);
        byte[] phcBytes = phc.getBytes(StandardCharsets.UTF_8);
        mac.update(phcBytes, 0, phcBytes.length);
        byte[] out = new byte[mac.getMacSize()];
        mac.doFinal(out, 0);
        return out;
    }
}
