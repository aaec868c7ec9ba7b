package dev.ferry.storage.s3;

import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileSystemException;
import java.util.concurrent.atomic.AtomicBoolean;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * An object read as a channel: the body of one GetObject, streamed (never the whole object in memory), from the
 * position the channel is at.
 *
 * <p>Design: the server opens a download at 0, asks {@link #size()}, then moves to a REST offset. So opening
 * sends one GetObject (the request that says whether the object exists) and {@link #position(long)} to another
 * place only drops that stream: the next read asks again with {@code Range: bytes=N-} (RFC 7233 §2.1, an open
 * byte range to the end) and {@code If-Match} on the first answer's ETag, so the bytes of a resumed read all come
 * from one version of the object (a replaced object fails the read with 412, never mixes two versions). A
 * stream is dropped with {@link ResponseInputStream#abort()}, never drained: a client that aborts a 10 GiB
 * download after a few bytes must not cost 10 GiB of reading. (With the JDK's HttpURLConnection under the
 * url-connection client, abort comes down to closing the body, and the JDK closes the connection rather than
 * reading the rest of a body over 512 KiB; a smaller rest is read off by its keep-alive cleaner thread.)
 *
 * <p>Reads block on the socket with the client's socket timeout. {@link #close()} may come from another thread
 * (ABOR) while a read blocks: it aborts the stream, which fails that read.
 */
final class S3ReadChannel implements SeekableByteChannel {

    private static final int COPY_BUFFER = 64 * 1024;

    private final S3Client client;
    private final String bucket;
    private final String key;
    private final VirtualPath path;
    private final long size;
    private final String etag;
    private final AtomicBoolean open = new AtomicBoolean(true);
    /** The stream being read, or null until the next read opens one at {@link #position}. */
    private volatile ResponseInputStream<GetObjectResponse> body;
    private long position;
    private byte[] copyBuffer;

    private S3ReadChannel(S3Client client, String bucket, String key, VirtualPath path, long size, String etag,
                          ResponseInputStream<GetObjectResponse> body, long position) {
        this.client = client;
        this.bucket = bucket;
        this.key = key;
        this.path = path;
        this.size = size;
        this.etag = etag;
        this.body = body;
        this.position = position;
    }

    /** A channel over an object whose GetObject at {@code offset} has answered {@code body}. */
    static S3ReadChannel streaming(S3Client client, String bucket, String key, VirtualPath path, long size,
                                   ResponseInputStream<GetObjectResponse> body, long offset) {
        return new S3ReadChannel(client, bucket, key, path, size, body.response().eTag(), body, offset);
    }

    /** A channel at or past the end of an object of {@code size} bytes: nothing to stream yet. */
    static S3ReadChannel atEnd(S3Client client, String bucket, String key, VirtualPath path, long size, String etag,
                               long offset) {
        return new S3ReadChannel(client, bucket, key, path, size, etag, null, offset);
    }

    /** The request for the bytes from {@code offset} on; no Range at 0 (an empty object has no byte 0 to ask for). */
    static GetObjectRequest request(String bucket, String key, long offset, String ifMatch) {
        var b = GetObjectRequest.builder().bucket(bucket).key(key).ifMatch(ifMatch);
        if (offset > 0) {
            b.range("bytes=" + offset + "-");
        }
        return b.build();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (position >= size) {
            return -1;
        }
        InputStream in = body();
        int want = (int) Math.min(dst.remaining(), size - position);
        int n;
        try {
            if (dst.hasArray()) {
                n = in.read(dst.array(), dst.arrayOffset() + dst.position(), want);
                if (n > 0) {
                    dst.position(dst.position() + n);
                }
            } else {
                if (copyBuffer == null) {
                    copyBuffer = new byte[COPY_BUFFER];
                }
                n = in.read(copyBuffer, 0, Math.min(want, copyBuffer.length));
                if (n > 0) {
                    dst.put(copyBuffer, 0, n);
                }
            }
        } catch (IOException | SdkException e) {
            dropBody();
            if (!open.get()) {
                throw closed(e);
            }
            throw e instanceof SdkException sdk ? S3Errors.of(sdk, path) : S3Errors.ofStream((IOException) e, path);
        }
        if (n < 0) {
            // the object said it had more: the connection ended early
            dropBody();
            throw new FileSystemException(path.toString(), null,
                    "the store ended the object's body early");
        }
        position += n;
        return n;
    }

    private InputStream body() throws IOException {
        ResponseInputStream<GetObjectResponse> in = body;
        if (in != null) {
            return in;
        }
        try {
            in = client.getObject(request(bucket, key, position, etag));
        } catch (SdkException e) {
            if (S3Errors.status(e) == 412) {
                throw new FileSystemException(path.toString(), null,
                        "the file was replaced while it was being read");
            }
            throw S3Errors.of(e, path);
        }
        body = in;
        if (!open.get()) {
            // closed while the request was under way
            dropBody();
            throw new ClosedChannelException();
        }
        return in;
    }

    private static ClosedChannelException closed(Throwable cause) {
        var e = new ClosedChannelException();
        e.initCause(cause);
        return e;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long position() throws IOException {
        ensureOpen();
        return position;
    }

    /** Moves where the next read starts; moving drops the stream, and the next read asks from there. */
    @Override
    public SeekableByteChannel position(long newPosition) throws IOException {
        ensureOpen();
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position " + newPosition);
        }
        if (newPosition != position) {
            dropBody();
            position = newPosition;
        }
        return this;
    }

    /** The object's size when the channel was opened. */
    @Override
    public long size() throws IOException {
        ensureOpen();
        return size;
    }

    @Override
    public SeekableByteChannel truncate(long size) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return open.get();
    }

    @Override
    public void close() {
        if (open.compareAndSet(true, false)) {
            dropBody();
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!open.get()) {
            throw new ClosedChannelException();
        }
    }

    /** Drops the stream without reading the rest of the body (the connection is not reused). */
    private void dropBody() {
        ResponseInputStream<GetObjectResponse> in = body;
        body = null;
        if (in != null) {
            in.abort();
            try {
                in.close();
            } catch (IOException | RuntimeException e) {
                // aborted already: nothing more to release
            }
        }
    }
}
