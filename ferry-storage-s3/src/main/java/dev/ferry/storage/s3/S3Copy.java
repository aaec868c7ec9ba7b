package dev.ferry.storage.s3;

import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.UploadPartCopyRequest;

/**
 * Server-side copies, the first half of a rename (S3 has no rename): the bytes never pass through the server.
 *
 * <p>One CopyObject up to {@link #threshold} bytes. Above it, and always above 5 GiB (the largest object one
 * CopyObject may copy), a multipart copy: UploadPartCopy of byte ranges, {@code partsInFlight} of them at a
 * time, each on a virtual thread, then CompleteMultipartUpload; a failed part aborts the upload, so no
 * half-copied object and no orphaned parts are left. Every part names the source's ETag
 * ({@code x-amz-copy-source-if-match}), so a source replaced during the copy fails it instead of mixing versions.
 * The SDK's {@code sourceBucket}/{@code sourceKey} build the {@code x-amz-copy-source} header, URL-encoded, so
 * keys with spaces and UTF-8 names copy as they are.
 */
final class S3Copy {

    /** S3's largest single CopyObject. */
    static final long SINGLE_COPY_LIMIT = 5L * 1024 * 1024 * 1024;
    /** S3's most parts per multipart upload. */
    static final int MAX_PARTS = 10_000;
    /** Above this a rename copies in parts: 64 MiB, where a single copy on AWS starts to take seconds. */
    static final long DEFAULT_THRESHOLD = 64L * 1024 * 1024;

    private final S3Client client;
    private final String bucket;
    private final long partSize;
    private final int partsInFlight;
    private final long threshold;

    S3Copy(S3Client client, String bucket, long partSize, int partsInFlight, long threshold) {
        this.client = client;
        this.bucket = bucket;
        this.partSize = partSize;
        this.partsInFlight = partsInFlight;
        this.threshold = Math.min(threshold, SINGLE_COPY_LIMIT);
    }

    /**
     * Copies the object {@code source} to {@code target}, replacing what is there.
     *
     * @param head the source as HeadObject described it (size, ETag, type and metadata go along)
     * @param path the virtual path errors name
     */
    void copy(String source, String target, HeadObjectResponse head, VirtualPath path) throws IOException {
        if (head.contentLength() <= threshold) {
            copyWhole(source, target, head.eTag(), path);
        } else {
            copyInParts(source, target, head, path);
        }
    }

    /** One CopyObject (the object's metadata goes along: the default COPY directive). */
    void copyWhole(String source, String target, String etag, VirtualPath path) throws IOException {
        try {
            client.copyObject(CopyObjectRequest.builder()
                    .sourceBucket(bucket).sourceKey(source).copySourceIfMatch(etag)
                    .destinationBucket(bucket).destinationKey(target)
                    .build());
        } catch (SdkException e) {
            throw failure(e, path);
        }
    }

    /** The size of each part for an object of {@code size} bytes: the store's part size, or more to stay within 10,000. */
    long partSizeFor(long size) {
        long atLeast = (size + MAX_PARTS - 1) / MAX_PARTS;
        long mib = 1024 * 1024;
        return Math.max(partSize, (atLeast + mib - 1) / mib * mib);
    }

    private void copyInParts(String source, String target, HeadObjectResponse head, VirtualPath path)
            throws IOException {
        long size = head.contentLength();
        long part = partSizeFor(size);
        int parts = (int) ((size + part - 1) / part);
        String uploadId;
        try {
            uploadId = client.createMultipartUpload(CreateMultipartUploadRequest.builder()
                    .bucket(bucket).key(target)
                    .contentType(head.contentType())
                    .metadata(head.metadata())
                    .build()).uploadId();
        } catch (SdkException e) {
            throw failure(e, path);
        }
        List<Task<CompletedPart>> tasks = new ArrayList<>(parts);
        for (int i = 0; i < parts; i++) {
            int number = i + 1;
            long first = i * part;
            long last = Math.min(size, first + part) - 1;
            tasks.add(() -> {
                try {
                    String etag = client.uploadPartCopy(UploadPartCopyRequest.builder()
                            .sourceBucket(bucket).sourceKey(source).copySourceIfMatch(head.eTag())
                            .destinationBucket(bucket).destinationKey(target)
                            .uploadId(uploadId).partNumber(number)
                            // RFC 7233 §2.1: both ends inclusive
                            .copySourceRange("bytes=" + first + "-" + last)
                            .build()).copyPartResult().eTag();
                    return CompletedPart.builder().partNumber(number).eTag(etag).build();
                } catch (SdkException e) {
                    throw failure(e, path);
                }
            });
        }
        Outcome<CompletedPart> outcome = inParallel(tasks, partsInFlight);
        if (outcome.failure() != null) {
            abort(target, uploadId);
            throw outcome.failure();
        }
        try {
            client.completeMultipartUpload(CompleteMultipartUploadRequest.builder()
                    .bucket(bucket).key(target).uploadId(uploadId)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(outcome.results()).build())
                    .build());
        } catch (SdkException e) {
            abort(target, uploadId);
            throw failure(e, path);
        }
    }

    private void abort(String key, String uploadId) {
        try {
            client.abortMultipartUpload(AbortMultipartUploadRequest.builder()
                    .bucket(bucket).key(key).uploadId(uploadId).build());
        } catch (SdkException e) {
            // The parts stay until the bucket's lifecycle rule for incomplete uploads removes them; the copy's
            // own failure is what the caller must hear about.
        }
    }

    /** 412 on a copy: the source's ETag changed (replaced meanwhile). */
    private static IOException failure(SdkException e, VirtualPath path) {
        if (S3Errors.status(e) == 412) {
            var changed = new FileSystemException(path.toString(), null,
                    "the file was replaced while it was being copied");
            changed.initCause(e);
            return changed;
        }
        return S3Errors.of(e, path);
    }

    /** A request to run in parallel with others. */
    @FunctionalInterface
    interface Task<T> {
        T run() throws IOException;
    }

    /**
     * What {@link #inParallel} did: each task's result in order (null for a task that failed or never ran) and
     * the first failure, or null.
     */
    record Outcome<T>(List<T> results, IOException failure) {
        int done() {
            return (int) results.stream().filter(r -> r != null).count();
        }
    }

    /**
     * Runs {@code tasks}, at most {@code limit} at a time, each on its own virtual thread; after the first failure
     * no further task starts. Returns when every started task has ended.
     */
    static <T> Outcome<T> inParallel(List<Task<T>> tasks, int limit) {
        AtomicReferenceArray<T> results = new AtomicReferenceArray<>(tasks.size());
        AtomicReference<IOException> failure = new AtomicReference<>();
        Semaphore slots = new Semaphore(limit);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < tasks.size() && failure.get() == null; i++) {
                try {
                    slots.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure.compareAndSet(null, new InterruptedIOException("interrupted"));
                    break;
                }
                if (failure.get() != null) {
                    slots.release();
                    break;
                }
                int index = i;
                Task<T> task = tasks.get(i);
                threads.execute(() -> {
                    try {
                        results.set(index, task.run());
                    } catch (IOException e) {
                        failure.compareAndSet(null, e);
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, new IOException("copy failed: " + e.getClass().getSimpleName(), e));
                    } finally {
                        slots.release();
                    }
                });
            }
        }
        T[] array = toArray(results);
        return new Outcome<>(Arrays.asList(array), failure.get());
    }

    @SuppressWarnings("unchecked")
    private static <T> T[] toArray(AtomicReferenceArray<T> results) {
        Object[] out = new Object[results.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = results.get(i);
        }
        return (T[]) out;
    }
}
