package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.Storage.StoredHash;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/** Which stored checksums are a file's digest: a whole object's, not a multipart upload's digest of digests. */
class StoredChecksumTest {

    private static final byte[] CONTENT = "hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static String digest(String algorithm) throws Exception {
        return Base64.getEncoder().encodeToString(MessageDigest.getInstance(algorithm).digest(CONTENT));
    }

    private static String hex(String algorithm) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(CONTENT));
    }

    // S3 shows a multipart upload's SHA checksum as BASE64-N with type COMPOSITE; stores that send no type
    // (S3Proxy, older MinIO) still show the "-N".
    @ParameterizedTest(name = "{0} {1} {2}: stored={3}")
    @CsvSource({
            "SHA-256, FULL_OBJECT, '',   true",
            "SHA-256, ,            '',   true",
            "SHA-256, COMPOSITE,   '',   false",
            "SHA-256, ,            '-3', false",
            "SHA-256, FULL_OBJECT, '-3', false",
            "SHA-1,   FULL_OBJECT, '',   true",
            "SHA-1,   COMPOSITE,   '',   false",
            "MD5,     FULL_OBJECT, '',   true",
            "MD5,     ,            '-2', false",
    })
    void aWholeObjectChecksumIsTheFilesDigest(String algorithm, ChecksumType type, String suffix, boolean stored)
            throws Exception {
        String checksum = digest(algorithm) + suffix;
        HeadObjectResponse.Builder head = HeadObjectResponse.builder().contentLength(5L).checksumType(type);
        switch (algorithm) {
            case "SHA-256" -> head.checksumSHA256(checksum);
            case "SHA-1" -> head.checksumSHA1(checksum);
            default -> head.checksumMD5(checksum);
        }

        StoredHash hash = StoredChecksum.of(head.build(), algorithm);

        if (stored) {
            assertThat(hash).isEqualTo(new StoredHash(hex(algorithm), 5));
        } else {
            assertThat(hash).isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "SHA-256",  // asked for SHA-256, but only a SHA-1 kept
            "MD5",
    })
    void anotherAlgorithmsChecksumIsNoAnswer(String asked) throws Exception {
        HeadObjectResponse head = HeadObjectResponse.builder().contentLength(5L).checksumSHA1(digest("SHA-1")).build();

        assertThat(StoredChecksum.of(head, asked)).isNull();
    }

    @ParameterizedTest(name = "''{0}''")
    @CsvSource({
            "''",
            "not base64!",
            // a SHA-1's length where SHA-256 is asked: no digest of this algorithm
            "qvTGHdzF6KLavt4PO0gs2a6pQ00=",
    })
    void whatIsNotADigestOfTheRightLengthIsNone(String checksum) {
        assertThat(StoredChecksum.fullObjectHex(checksum, ChecksumType.FULL_OBJECT, 32)).isNull();
    }
}
