package dev.ferry.storage.s3;

import dev.ferry.runtime.log.EventLog;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Objects;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;

/**
 * The entry point S3Storage.openUpload calls: looks at the key (a directory? an object, its size and ETag?) and
 * picks the {@link S3Upload} each mode needs. What each mode promises is said in {@link UploadMode}; on an object
 * store every mode writes a new object that replaces the old one only at commit, so a failed APPE or REST+STOR
 * leaves the old object as it was (where a local file has to be cut back).
 */
final class S3Uploads {

    private S3Uploads() {
    }

    /**
     * An upload of {@code file} (a virtual path below the home's {@code prefix}) in {@code mode}; see
     * {@link Upload} and {@link UploadMode} for the promises each mode keeps.
     */
    static Upload open(S3Client client, ObjectStore store, UploadBudget budget, EventLog log, String prefix,
                       VirtualPath file, UploadMode mode, long offset) throws IOException {
        Objects.requireNonNull(mode, "mode");
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        if (file.isRoot()) {
            throw new FileSystemException(file.toString(), null, "Is a directory");
        }
        S3Target target = new S3Target(client, store.bucket(), new Keys(prefix).file(file), file,
                store.requestTimeout(), log);
        refuseDirectory(target);
        return switch (mode) {
            case REPLACE -> S3Upload.replacing(target, store, budget);
            case CREATE -> {
                if (target.head() != null) {
                    throw target.exists();
                }
                yield S3Upload.newOnly(target, store, budget);
            }
            case UNIQUE -> {
                HeadObjectResponse made = target.head();
                if (made == null) {
                    throw new NoSuchFileException(file.toString());
                }
                yield S3Upload.intoCreated(target, store, budget, made.eTag());
            }
            case APPEND -> {
                // A missing object is a new one, as APPE creates a missing file.
                HeadObjectResponse old = target.head();
                long kept = old == null ? 0 : old.contentLength();
                yield kept == 0 ? S3Upload.replacing(target, store, budget)
                        : S3Upload.rebuilding(target, store, budget, ObjectRebuild.keep(old.eTag(), kept, store.partSize()));
            }
            case RESUME -> {
                HeadObjectResponse old = target.head();
                long length = old == null ? 0 : old.contentLength();
                if (offset > length) {
                    // The same words as a local file's (LocalUpload): the client sees one message for both.
                    throw new IOException(file + ": restart offset " + offset + " is beyond the end of the file ("
                            + length + " bytes)");
                }
                yield offset == 0 ? S3Upload.replacing(target, store, budget)
                        : S3Upload.rebuilding(target, store, budget, ObjectRebuild.keep(old.eTag(), offset, store.partSize()));
            }
        };
    }

    /**
     * A directory on an object store is a marker object {@code key/} or any key below {@code key/}; storing a
     * file of that name would hide it in listings, so it is refused as a local directory is.
     */
    private static void refuseDirectory(S3Target target) throws IOException {
        try {
            var below = target.client().listObjectsV2(ListObjectsV2Request.builder().bucket(target.bucket())
                    .prefix(target.key() + "/").maxKeys(1).overrideConfiguration(target.limits()).build());
            if (!below.contents().isEmpty()) {
                throw new FileSystemException(target.path().toString(), null, "Is a directory");
            }
        } catch (SdkException e) {
            throw target.failure("looking up", e);
        }
    }
}
