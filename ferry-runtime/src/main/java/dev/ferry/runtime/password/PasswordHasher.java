package dev.ferry.runtime.password;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Password hashes in PHC string format.
 *
 * <p>New hashes are Argon2id, {@code $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>} (standard base64
 * without padding, 16-byte salt, 32-byte hash): OWASP's minimum parameters, about 19 MiB and a few
 * tens of milliseconds per verification. bcrypt ({@code $2a$}, {@code $2b$}, {@code $2y$}) is verified
 * too, so accounts can move over from other servers without a password reset.
 *
 * <p>The users file is trusted less than the code: every hash is parsed strictly and its cost
 * parameters are bounded before any work is done, so one bad entry cannot make each login allocate
 * gigabytes or spin for minutes. Problem messages never quote the value: an operator who pasted a
 * plain password into the file must not find it again in a log.
 */
public final class PasswordHasher {

    public static final int DEFAULT_MEMORY_KIB = 19_456;
    public static final int DEFAULT_ITERATIONS = 2;
    public static final int DEFAULT_PARALLELISM = 1;

    /** Upper bounds accepted from a users file; above them a hash is a configuration error. */
    public static final int MAX_MEMORY_KIB = 1024 * 1024;   // 1 GiB
    public static final int MAX_ITERATIONS = 100;
    public static final int MAX_PARALLELISM = 16;
    /** bcrypt cost is an exponent: 16 is 64 times the common default of 10, a few seconds per login. */
    public static final int MIN_BCRYPT_COST = 4;
    public static final int MAX_BCRYPT_COST = 16;

    private static final int SALT_BYTES = 16;
    private static final int HASH_BYTES = 32;
    // RFC 9106 §3.1: salt of at least 8 bytes. Hashes shorter than 16 bytes are too easy to collide.
    private static final int MIN_SALT_BYTES = 8;
    private static final int MIN_HASH_BYTES = 16;
    private static final int MAX_SALT_OR_HASH_BYTES = 64;
    private static final int ARGON2_VERSION = 19;   // 0x13, the only version worth accepting

    private static final String EXPECTED = "expected an Argon2id hash such as "
            + "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (made by `ferry passwd`) or a bcrypt hash ($2b$...)";

    private static final Pattern ARGON2ID = Pattern.compile(
            "\\$argon2id\\$v=(\\d{1,10})\\$m=(\\d{1,10}),t=(\\d{1,10}),p=(\\d{1,10})\\$([^$]*)\\$([^$]*)");
    // Other hash ids an operator may plausibly paste; naming them makes the message helpful.
    private static final Set<String> KNOWN_UNSUPPORTED = Set.of("argon2i", "argon2d", "scrypt", "pbkdf2",
            "pbkdf2-sha256", "pbkdf2-sha512", "1", "5", "6", "2x", "2", "apr1", "y", "7", "sha1");
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(\\d\\d)\\$[./A-Za-z0-9]{53}");
    private static final Pattern BASE64_UNPADDED = Pattern.compile("[A-Za-z0-9+/]*");

    private static final SecureRandom RANDOM = new SecureRandom();

    private PasswordHasher() {}

    /**
     * Argon2id cost of {@link #hashInMemoryOnly}: 1 MiB, one pass (RFC 9106 §4's parameters scaled down; 8 KiB
     * per lane is the floor).
     */
    public static final int IN_MEMORY_MEMORY_KIB = 1024;
    public static final int IN_MEMORY_ITERATIONS = 1;

    /** A new Argon2id hash with the default parameters. */
    public static String hash(char[] password) {
        return hash(password, DEFAULT_MEMORY_KIB, DEFAULT_ITERATIONS, DEFAULT_PARALLELISM);
    }

    /**
     * A cheap Argon2id hash, for a password that is never stored and that the process exposes anyway: one given
     * on the command line ({@code --user NAME:PASSWORD}, readable by every local user in the process list) or
     * generated and printed at start. A costly hash only slows offline guessing of a stolen hash; such a password
     * is not guarded by its hash, so the default cost bought nothing but two runs of it on every start of a
     * trial server (the hash at start, the first login's check: 19 MiB each, a third of the CPU of a start to the
     * first login, measured with JFR). Never use it for a hash that is written anywhere: those take {@link
     * #hash(char[])}.
     */
    public static String hashInMemoryOnly(char[] password) {
        return hash(password, IN_MEMORY_MEMORY_KIB, IN_MEMORY_ITERATIONS, DEFAULT_PARALLELISM);
    }

    /** A new Argon2id hash; throws IllegalArgumentException for parameters {@link #verify} would refuse. */
    public static String hash(char[] password, int memoryKiB, int iterations, int parallelism) {
        String problem = argon2ParameterProblem(memoryKiB, iterations, parallelism);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        byte[] hash = argon2id(password, new Argon2id(memoryKiB, iterations, parallelism, salt, new byte[HASH_BYTES]));
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return "$argon2id$v=" + ARGON2_VERSION + "$m=" + memoryKiB + ",t=" + iterations + ",p=" + parallelism
                + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    /**
     * Whether {@code password} matches {@code phc}. False on mismatch and for any string that
     * {@link #problemWith} rejects (configuration is validated at load time; a bad hash here just
     * never matches). The comparison takes the same time wherever the first differing byte is.
     */
    public static boolean verify(char[] password, String phc) {
        char[] candidate = password == null ? new char[0] : password;
        return switch (parse(phc)) {
            case Argon2id stored -> {
                byte[] computed = argon2id(candidate, stored);
                // SECURITY: constant-time comparison, so response time does not reveal how many
                // leading bytes of a guess's hash were right.
                boolean equal = MessageDigest.isEqual(computed, stored.hash());
                Arrays.fill(computed, (byte) 0);
                yield equal;
            }
            case Bcrypt bcrypt -> verifyBcrypt(candidate, bcrypt.phc());
            case Problem problem -> false;
        };
    }

    /** Null if {@code phc} is a supported, well-formed hash within bounds; otherwise what is wrong and expected. */
    public static String problemWith(String phc) {
        return parse(phc) instanceof Problem problem ? problem.message() : null;
    }

    // ---- parsing -------------------------------------------------------------------------------

    private sealed interface Parsed permits Argon2id, Bcrypt, Problem {}

    private record Argon2id(int memoryKiB, int iterations, int parallelism, byte[] salt, byte[] hash) implements Parsed {}

    private record Bcrypt(String phc) implements Parsed {}

    private record Problem(String message) implements Parsed {}

    private static Parsed parse(String phc) {
        if (phc == null || phc.isBlank()) {
            return new Problem("password hash is empty; " + EXPECTED);
        }
        if (!phc.equals(phc.strip())) {
            return new Problem("password hash has spaces or a line break around it; remove them");
        }
        if (!phc.startsWith("$")) {
            return new Problem("password hash is not a PHC string (is it a plain password?); " + EXPECTED);
        }
        if (phc.startsWith("$argon2id$")) {
            return parseArgon2id(phc);
        }
        if (phc.startsWith("$2a$") || phc.startsWith("$2b$") || phc.startsWith("$2y$")) {
            return parseBcrypt(phc);
        }
        int idEnd = phc.indexOf('$', 1);
        String id = idEnd < 0 ? "" : phc.substring(1, idEnd);
        String named = KNOWN_UNSUPPORTED.contains(id) ? "'" + id + "' hashes are not supported; " : "unsupported hash; ";
        return new Problem(named + EXPECTED);
    }

    private static Parsed parseArgon2id(String phc) {
        Matcher m = ARGON2ID.matcher(phc);
        if (!m.matches()) {
            return new Problem("malformed Argon2id hash; expected $argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<hash>");
        }
        long version = Long.parseLong(m.group(1));
        if (version != ARGON2_VERSION) {
            return new Problem("Argon2id version v=" + version + " is not supported; expected v=19");
        }
        long memory = Long.parseLong(m.group(2));
        long iterations = Long.parseLong(m.group(3));
        long parallelism = Long.parseLong(m.group(4));
        String bounds = argon2ParameterProblem(memory, iterations, parallelism);
        if (bounds != null) {
            return new Problem(bounds);
        }
        byte[] salt = decodeBase64(m.group(5), MIN_SALT_BYTES);
        if (salt == null) {
            return new Problem("Argon2id salt must be standard base64 without padding, "
                    + MIN_SALT_BYTES + " to " + MAX_SALT_OR_HASH_BYTES + " bytes");
        }
        byte[] hash = decodeBase64(m.group(6), MIN_HASH_BYTES);
        if (hash == null) {
            return new Problem("Argon2id hash value must be standard base64 without padding, "
                    + MIN_HASH_BYTES + " to " + MAX_SALT_OR_HASH_BYTES + " bytes");
        }
        return new Argon2id((int) memory, (int) iterations, (int) parallelism, salt, hash);
    }

    private static String argon2ParameterProblem(long memoryKiB, long iterations, long parallelism) {
        if (parallelism < 1 || parallelism > MAX_PARALLELISM) {
            return "Argon2id parallelism p=" + parallelism + " is outside 1.." + MAX_PARALLELISM;
        }
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            return "Argon2id iterations t=" + iterations + " is outside 1.." + MAX_ITERATIONS;
        }
        // RFC 9106 §3.1: memory of at least 8 KiB per lane.
        if (memoryKiB < 8 * parallelism || memoryKiB > MAX_MEMORY_KIB) {
            return "Argon2id memory m=" + memoryKiB + " KiB is outside " + 8 * parallelism + ".." + MAX_MEMORY_KIB
                    + " (1 GiB)";
        }
        return null;
    }

    private static byte[] decodeBase64(String text, int minBytes) {
        // PHC strings use standard base64 with the padding left off; '=' or URL-safe letters mean
        // the value came from somewhere else and would decode to something unexpected.
        if (!BASE64_UNPADDED.matcher(text).matches() || text.length() % 4 == 1) {
            return null;
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
        return bytes.length < minBytes || bytes.length > MAX_SALT_OR_HASH_BYTES ? null : bytes;
    }

    private static Parsed parseBcrypt(String phc) {
        Matcher m = BCRYPT.matcher(phc);
        if (!m.matches()) {
            return new Problem("malformed bcrypt hash; expected 60 characters: $2b$<cost>$<22 salt + 31 hash characters>");
        }
        int cost = Integer.parseInt(m.group(1));
        if (cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
            return new Problem("bcrypt cost " + cost + " is outside " + MIN_BCRYPT_COST + ".." + MAX_BCRYPT_COST);
        }
        return new Bcrypt(phc);
    }

    // ---- hashing -------------------------------------------------------------------------------

    private static byte[] argon2id(char[] password, Argon2id p) {
        Argon2Parameters parameters = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(p.memoryKiB())
                .withIterations(p.iterations())
                .withParallelism(p.parallelism())
                .withSalt(p.salt())
                .build();
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(parameters);
        byte[] secret = utf8(password);
        byte[] out = new byte[p.hash().length];
        try {
            generator.generateBytes(secret, out);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
        return out;
    }

    private static boolean verifyBcrypt(char[] password, String phc) {
        try {
            // Bouncy Castle compares the recomputed string without an early exit. bcrypt only
            // reads the first 72 bytes of a password; that is the algorithm, not a bug here.
            return OpenBSDBCrypt.checkPassword(phc, password);
        } catch (IllegalArgumentException e) {
            return false;   // the pattern check should make this unreachable
        }
    }

    /** UTF-8 bytes of a password without going through a String the caller cannot wipe. */
    static byte[] utf8(char[] chars) {
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(chars));
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        if (encoded.hasArray()) {
            Arrays.fill(encoded.array(), (byte) 0);
        }
        return bytes;
    }
}
