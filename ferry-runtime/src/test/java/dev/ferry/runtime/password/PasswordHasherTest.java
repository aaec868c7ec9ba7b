package dev.ferry.runtime.password;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PasswordHasherTest {

    // phc-winner-argon2 src/test.c: argon2id, "password", salt "somesalt".
    private static final String REFERENCE_ARGON2ID =
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
    // Openwall crypt_blowfish test vector, also in Bouncy Castle's OpenBSDBCryptTest.
    private static final String REFERENCE_BCRYPT = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

    private static final String SALT16 = "AAAAAAAAAAAAAAAAAAAAAA";                        // 16 bytes
    private static final String HASH32 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";   // 32 bytes

    @Test
    void defaultHashUsesOwaspParametersAndVerifies() {
        String phc = PasswordHasher.hash("s3cret!".toCharArray());

        assertThat(phc).matches("\\$argon2id\\$v=19\\$m=19456,t=2,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}");
        assertThat(PasswordHasher.problemWith(phc)).isNull();
        assertThat(PasswordHasher.verify("s3cret!".toCharArray(), phc)).isTrue();
    }

    @Test
    void inMemoryHashIsACheapArgon2idThatVerifiesLikeAnyOther() {
        String phc = PasswordHasher.hashInMemoryOnly("given on the command line".toCharArray());

        assertThat(phc).matches("\\$argon2id\\$v=19\\$m=1024,t=1,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}");
        assertThat(PasswordHasher.problemWith(phc)).isNull();
        assertThat(PasswordHasher.verify("given on the command line".toCharArray(), phc)).isTrue();
        assertThat(PasswordHasher.verify("given on the command lin".toCharArray(), phc)).isFalse();
        // A fresh salt each time: two hashes of one password differ.
        assertThat(PasswordHasher.hashInMemoryOnly("given on the command line".toCharArray())).isNotEqualTo(phc);
    }

    @Test
    void wrongPasswordDoesNotVerify() {
        String phc = PasswordHasher.hash("s3cret!".toCharArray(), 64, 1, 1);

        assertThat(PasswordHasher.verify("s3cret?".toCharArray(), phc)).isFalse();
        assertThat(PasswordHasher.verify(new char[0], phc)).isFalse();
        assertThat(PasswordHasher.verify(null, phc)).isFalse();
    }

    @Test
    void samePasswordGetsAFreshSaltEachTime() {
        String first = PasswordHasher.hash("pw".toCharArray(), 64, 1, 1);
        String second = PasswordHasher.hash("pw".toCharArray(), 64, 1, 1);

        assertThat(first).isNotEqualTo(second);
        assertThat(PasswordHasher.verify("pw".toCharArray(), second)).isTrue();
    }

    @Test
    void nonAsciiPasswordsAreHashedAsUtf8() {
        String phc = PasswordHasher.hash("pässwörd€".toCharArray(), 64, 1, 1);

        assertThat(PasswordHasher.verify("pässwörd€".toCharArray(), phc)).isTrue();
        assertThat(PasswordHasher.verify("passwoerd€".toCharArray(), phc)).isFalse();
    }

    @Test
    void verifiesTheArgon2ReferenceVector() {
        assertThat(PasswordHasher.problemWith(REFERENCE_ARGON2ID)).isNull();
        assertThat(PasswordHasher.verify("password".toCharArray(), REFERENCE_ARGON2ID)).isTrue();
        assertThat(PasswordHasher.verify("passwore".toCharArray(), REFERENCE_ARGON2ID)).isFalse();
    }

    @Test
    void verifiesTheBcryptReferenceVector() {
        assertThat(PasswordHasher.problemWith(REFERENCE_BCRYPT)).isNull();
        assertThat(PasswordHasher.verify("U*U".toCharArray(), REFERENCE_BCRYPT)).isTrue();
        assertThat(PasswordHasher.verify("U*V".toCharArray(), REFERENCE_BCRYPT)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2a", "2b", "2y"})
    void verifiesBcryptHashesOfEachAcceptedVersion(String version) {
        byte[] salt = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        String phc = OpenBSDBCrypt.generate(version, "migrated".toCharArray(), salt, 4);

        assertThat(phc).startsWith("$" + version + "$04$");
        assertThat(PasswordHasher.problemWith(phc)).isNull();
        assertThat(PasswordHasher.verify("migrated".toCharArray(), phc)).isTrue();
        assertThat(PasswordHasher.verify("migrate".toCharArray(), phc)).isFalse();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', nullValues = "NULL", value = {
            "NULL                                                 | password hash is empty",
            "\"\"                                                 | password hash is empty",
            "\"   \"                                              | password hash is empty",
            "hunter2                                              | not a PHC string (is it a plain password?)",
            "$argon2i$v=19$m=19456,t=2,p=1$" + SALT16 + "$" + HASH32 + " | 'argon2i' hashes are not supported",
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E | 'scrypt' hashes are not supported",
            "$6$rounds=5000$saltsalt$abc                          | '6' hashes are not supported",
            "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW | '2x' hashes are not supported",
            "$argon2id$                                           | malformed Argon2id hash",
            "$argon2id$m=19456,t=2,p=1$" + SALT16 + "$" + HASH32 + " | malformed Argon2id hash",
            "$argon2id$v=19$t=2,m=19456,p=1$" + SALT16 + "$" + HASH32 + " | malformed Argon2id hash",
            "$argon2id$v=19$m=19456,t=2,p=1$" + SALT16 + "          | malformed Argon2id hash",
            "$argon2id$v=19$m=19456,t=2,p=1$" + SALT16 + "$" + HASH32 + "$x | malformed Argon2id hash",
            "$argon2id$v=19$m=19456,t=2,p=1,keyid=k$" + SALT16 + "$" + HASH32 + " | malformed Argon2id hash",
            "$argon2id$v=19$m=99999999999,t=2,p=1$" + SALT16 + "$" + HASH32 + " | malformed Argon2id hash",
            "$argon2id$v=16$m=19456,t=2,p=1$" + SALT16 + "$" + HASH32 + " | version v=16 is not supported",
            "$argon2id$v=19$m=1048577,t=2,p=1$" + SALT16 + "$" + HASH32 + " | memory m=1048577 KiB is outside 8..1048576",
            "$argon2id$v=19$m=7,t=2,p=1$" + SALT16 + "$" + HASH32 + " | memory m=7 KiB is outside 8..1048576",
            "$argon2id$v=19$m=64,t=1,p=16$" + SALT16 + "$" + HASH32 + " | memory m=64 KiB is outside 128..1048576",
            "$argon2id$v=19$m=19456,t=101,p=1$" + SALT16 + "$" + HASH32 + " | iterations t=101 is outside 1..100",
            "$argon2id$v=19$m=19456,t=0,p=1$" + SALT16 + "$" + HASH32 + " | iterations t=0 is outside 1..100",
            "$argon2id$v=19$m=19456,t=2,p=17$" + SALT16 + "$" + HASH32 + " | parallelism p=17 is outside 1..16",
            "$argon2id$v=19$m=19456,t=2,p=0$" + SALT16 + "$" + HASH32 + " | parallelism p=0 is outside 1..16",
            "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA==$" + HASH32 + " | salt must be standard base64 without padding",
            "$argon2id$v=19$m=19456,t=2,p=1$AAAAAA$" + HASH32 + " | salt must be standard base64 without padding, 8 to 64 bytes",
            "$argon2id$v=19$m=19456,t=2,p=1$" + SALT16 + "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA- | hash value must be standard base64",
            "$argon2id$v=19$m=19456,t=2,p=1$" + SALT16 + "$AAAAAAAAAAA | hash value must be standard base64 without padding, 16 to 64 bytes",
            "$argon2id$v=19$m=19456,t=2,p=1$" + SALT16 + "$AAAAA | hash value must be standard base64",
            "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe | malformed bcrypt hash",
            "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe_ | malformed bcrypt hash",
            "$2b$17$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW | bcrypt cost 17 is outside 4..16",
            "$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW | bcrypt cost 3 is outside 4..16",
    })
    void explainsWhatIsWrongWithAHash(String phc, String expected) {
        assertThat(PasswordHasher.problemWith(phc)).contains(expected);
        assertThat(PasswordHasher.verify("password".toCharArray(), phc)).isFalse();
    }

    @Test
    void surroundingWhitespaceIsNotSilentlyAccepted() {
        assertThat(PasswordHasher.problemWith(REFERENCE_ARGON2ID + "\n")).contains("spaces or a line break around it");
        assertThat(PasswordHasher.problemWith(" " + REFERENCE_BCRYPT)).contains("spaces or a line break around it");
    }

    @ParameterizedTest
    @ValueSource(strings = {"correct horse battery staple", "$hunter2$x", "$hunter2"})
    void problemMessagesNeverQuoteTheValue(String mistakenPlainPassword) {
        String message = PasswordHasher.problemWith(mistakenPlainPassword);

        assertThat(message).isNotNull().doesNotContain("horse").doesNotContain("hunter2");
    }

    @Test
    void verifyRefusesHashesAboveTheBoundsEvenWhenThePasswordIsRight() {
        // Cheap to compute, so the test proves verify itself applies the bounds.
        String tooManyIterations = rawArgon2id("pw", 8, 101, 1);
        String tooManyLanes = rawArgon2id("pw", 8 * 17, 1, 17);
        String withinBounds = rawArgon2id("pw", 8, 100, 1);

        assertThat(PasswordHasher.verify("pw".toCharArray(), tooManyIterations)).isFalse();
        assertThat(PasswordHasher.verify("pw".toCharArray(), tooManyLanes)).isFalse();
        assertThat(PasswordHasher.verify("pw".toCharArray(), withinBounds)).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"1048577,1,1", "7,1,1", "8,0,1", "8,101,1", "8,1,0", "136,1,17"})
    void hashRefusesParametersVerifyWouldRefuse(int memoryKiB, int iterations, int parallelism) {
        assertThatThrownBy(() -> PasswordHasher.hash("pw".toCharArray(), memoryKiB, iterations, parallelism))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** An Argon2id PHC string made directly with Bouncy Castle, bypassing PasswordHasher's bounds. */
    private static String rawArgon2id(String password, int memoryKiB, int iterations, int parallelism) {
        byte[] salt = "saltsaltsaltsalt".getBytes(StandardCharsets.US_ASCII);
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(memoryKiB).withIterations(iterations).withParallelism(parallelism)
                .withSalt(salt).build());
        byte[] out = new byte[32];
        generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return "$argon2id$v=19$m=" + memoryKiB + ",t=" + iterations + ",p=" + parallelism
                + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(out);
    }
}
