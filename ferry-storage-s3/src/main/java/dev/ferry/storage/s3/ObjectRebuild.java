package dev.ferry.storage.s3;

import dev.ferry.server.fs.ObjectStore;
import java.util.ArrayList;
import java.util.List;

/**
 * How an APPE or REST n + STOR keeps the first {@code kept} bytes of the old object in the new one, which S3
 * cannot write in place: the new object is a multipart upload whose first parts are copies of the old object made
 * by the store itself (UploadPartCopy, no byte passes through the server), followed by the new bytes.
 *
 * <p>Every part but the last must be at least 5 MiB ({@link ObjectStore#MIN_PART_SIZE}), so:
 * <ul>
 *   <li>a kept head of 5 MiB or more is cut into copy parts of at least {@code copyPartSize}, the last copy part
 *       taking the remainder (so it is never below the minimum either), at most {@link #MAX_COPY_PART} each and
 *       no more than {@link #MAX_COPY_PARTS} of them, which leaves the other parts of S3's 10,000 for new bytes;</li>
 *   <li>a smaller head cannot be a part of its own: it is read (a ranged GET) into the first part buffer, and
 *       the new bytes follow it there ({@link #head}).</li>
 * </ul>
 *
 * @param etag   the old object's ETag: every copy and read names it (x-amz-copy-source-if-match, If-Match), so
 *               the kept bytes all come from the object that was looked at, even if it is replaced meanwhile
 * @param copies the ranges copied by the store, in part order (parts 1..n)
 * @param head   bytes read and sent as the start of the first new part (0 when there are copies)
 */
record ObjectRebuild(String etag, List<Range> copies, long head) {

    /** S3's largest part. */
    static final long MAX_COPY_PART = 5L * 1024 * 1024 * 1024;
    /** At most this many copy parts. */
    static final int MAX_COPY_PARTS = 1000;

    /** Bytes [first, first + length) of the old object. */
    record Range(long first, long length) {
        /** The x-amz-copy-source-range header value (inclusive bounds, RFC 9110 §14.1.2). */
        String header() {
            return "bytes=" + first + "-" + (first + length - 1);
        }
    }

    ObjectRebuild {
        copies = List.copyOf(copies);
    }

    /** The plan for keeping {@code kept} bytes (more than 0) of the object with {@code etag}. */
    static ObjectRebuild keep(String etag, long kept, int partSize) {
        if (kept <= 0) {
            throw new IllegalArgumentException("nothing to keep: " + kept);
        }
        if (kept < ObjectStore.MIN_PART_SIZE) {
            return new ObjectRebuild(etag, List.of(), kept);
        }
        long size = Math.max(partSize, Math.ceilDiv(kept, MAX_COPY_PARTS));
        long count = Math.max(1, kept / size);
        if (Math.ceilDiv(kept, count) > MAX_COPY_PART) {
            // Only for heads beyond 5 TB (S3's object limit): more parts then, of the largest size.
            count = Math.ceilDiv(kept, MAX_COPY_PART);
            size = kept / count;
        }
        List<Range> ranges = new ArrayList<>((int) count);
        long first = 0;
        for (long i = 0; i < count; i++) {
            long length = i == count - 1 ? kept - first : size;
            ranges.add(new Range(first, length));
            first += length;
        }
        return new ObjectRebuild(etag, ranges, 0);
    }

    long kept() {
        return copies.isEmpty() ? head : copies.getLast().first() + copies.getLast().length();
    }
}
