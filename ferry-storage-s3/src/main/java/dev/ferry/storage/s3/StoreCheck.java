package dev.ferry.storage.s3;

import dev.ferry.server.fs.ObjectStore;
import java.io.IOException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** The start's check of the store: the bucket answers to these credentials, with a message per cause. */
final class StoreCheck {

    private StoreCheck() {
    }

    static void headBucket(S3Client client, ObjectStore store) throws IOException {
        String where = store.url() + (store.endpoint() == null ? "" : " at " + store.endpoint());
        try {
            client.headBucket(S3Engine.headBucket(store));
        } catch (S3Exception e) {
            int status = e.statusCode();
            String why = switch (status) {
                case 301 -> "the bucket is in another region than " + store.region() + " (set the region)";
                case 400 -> "the request was refused (check the region and the path-style setting)";
                case 403 -> "the credentials were refused (check the access key and secret, or the credentials file)";
                case 404 -> "the bucket does not exist";
                default -> "the store answered HTTP " + status;
            };
            throw new IOException("storage " + where + " cannot be used: " + why, e);
        } catch (SdkClientException e) {
            throw new IOException("storage " + where + " cannot be reached: " + rootMessage(e)
                    + " (check the endpoint; credentials come from the environment, profile files or the"
                    + " credentials file)", e);
        }
    }

    /** The innermost message: "Connection refused" rather than the SDK's wrapper text. */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
