package dev.ferry.storage.s3;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.testkit.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** What the upload tests share: an engine on a store, objects put and read back directly, bytes written in chunks. */
final class UploadFixture {

    static final int MIB = 1024 * 1024;
    static final int PART = 5 * MIB;
    /** The home's key prefix, as {@code ObjectStore.homePrefix(root, root)} gives for s3://ferry/srv. */
    static final String PREFIX = "srv/";

    private UploadFixture() {
    }

    static Path credentials(Path dir) throws IOException {
        Path f = dir.resolve("credentials");
        Files.writeString(f, "[default]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
        return f;
    }

    static ObjectStore store(URI endpoint, Path credentials, long uploadMemory, Duration timeout) {
        return ObjectStore.parseUrl("s3://" + S3ProxyServer.BUCKET + "/srv").withEndpoint(endpoint).withPathStyle(true)
                .withCredentialsFile(credentials).withPartSize(PART).withPartsInFlight(2).withUploadMemory(uploadMemory)
                .withRequestTimeout(timeout);
    }

    static Upload open(S3Engine engine, ObjectStore store, String path, UploadMode mode, long offset) throws IOException {
        // InvalidVirtualPathException is not an IOException
        try {
            return S3Uploads.open(engine.client(), store, engine.budget(), engine.log(), PREFIX, VirtualPath.of(path), mode, offset);
        } catch (dev.ferry.server.fs.InvalidVirtualPathException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    /** Writes {@code data} in 64 KiB pieces, as the server's receive loop does. */
    static void write(Upload upload, byte[] data) throws IOException {
        for (int at = 0; at < data.length; at += 64 * 1024) {
            ByteBuffer piece = ByteBuffer.wrap(data, at, Math.min(64 * 1024, data.length - at));
            while (piece.hasRemaining()) {
                upload.channel().write(piece);
            }
        }
    }

    static void put(S3Client client, String path, byte[] data) {
        client.putObject(PutObjectRequest.builder().bucket(S3ProxyServer.BUCKET).key(key(path)).build(),
                RequestBody.fromBytes(data));
    }

    static byte[] get(S3Client client, String path) {
        return client.getObjectAsBytes(GetObjectRequest.builder().bucket(S3ProxyServer.BUCKET).key(key(path)).build())
                .asByteArray();
    }

    static List<MultipartUpload> multipartUploads(S3Client client) {
        return client.listMultipartUploads(ListMultipartUploadsRequest.builder().bucket(S3ProxyServer.BUCKET).build())
                .uploads();
    }

    static String key(String path) {
        return PREFIX + path.substring(1);
    }

    static String sha256(byte[] data) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
