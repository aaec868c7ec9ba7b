package dev.ferry.storage.s3;

import dev.ferry.server.fs.Storage.StoredHash;
import java.util.Base64;
import java.util.HexFormat;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * Whether an object's stored checksum is the HASH of its content. S3 keeps the checksum an upload sent
 * (x-amz-checksum-ALGORITHM, base64) and shows it to a HeadObject in checksum mode. A single PutObject's is the
 * digest of the whole object. A multipart upload's SHA or MD5 checksum is COMPOSITE: the digest of the parts'
 * digests, shown with "-N" (N parts) after it; it is no file's digest, so HASH must read the file then.
 */
final class StoredChecksum {

    private StoredChecksum() {
    }

    /** The whole-content digest {@code head} carries for HASH's {@code algorithm}, or null. */
    static StoredHash of(HeadObjectResponse head, String algorithm) {
        String hex = switch (algorithm) {
            case "SHA-256" -> fullObjectHex(head.checksumSHA256(), head.checksumType(), 32);
            case "SHA-1" -> fullObjectHex(head.checksumSHA1(), head.checksumType(), 20);
            case "MD5" -> fullObjectHex(head.checksumMD5(), head.checksumType(), 16);
            default -> null;
        };
        return hex == null || head.contentLength() == null ? null : new StoredHash(hex, head.contentLength());
    }

    /**
     * {@code checksum} (base64) as lowercase hex when it is a digest of the whole object: not COMPOSITE, no "-N"
     * part count (stores that send no checksum type still show it), and of the algorithm's length.
     */
    static String fullObjectHex(String checksum, ChecksumType type, int digestBytes) {
        if (checksum == null || checksum.isEmpty() || type == ChecksumType.COMPOSITE || checksum.indexOf('-') >= 0) {
            return null;
        }
        byte[] digest;
        try {
            digest = Base64.getDecoder().decode(checksum);
        } catch (IllegalArgumentException e) {
            return null;
        }
        return digest.length == digestBytes ? HexFormat.of().formatHex(digest) : null;
    }
}
