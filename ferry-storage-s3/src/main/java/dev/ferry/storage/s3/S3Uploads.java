package dev.ferry.storage.s3;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import software.amazon.awssdk.services.s3.S3Client;

/** SKELETON (helper s3-upload replaces this): the entry point S3Storage.openUpload calls. */
final class S3Uploads {

    private S3Uploads() {
    }

    /**
     * An upload of {@code file} (a virtual path below the home's {@code prefix}) in {@code mode}; see
     * {@link Upload} and {@link UploadMode} for the promises each mode keeps.
     */
    static Upload open(S3Client client, ObjectStore store, UploadBudget budget, String prefix, VirtualPath file,
                       UploadMode mode, long offset) throws IOException {
        throw new UnsupportedOperationException();
    }
}
