package dev.ferry.storage.s3;

import dev.ferry.runtime.log.EventLog;
import dev.ferry.server.fs.DirectoryListing;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * One home on the object store: the keys below its prefix, seen as a file tree (see {@link Keys} for the
 * mapping and the directory markers).
 *
 * <p>Design: S3 has objects and listings, not files and directories, so each operation is a few requests whose
 * order settles what a file system would know at once. A name is a file when HeadObject finds its object, else a
 * directory when a listing finds a key below {@code name/} (its marker, or anything: s3fs and rclone leave
 * directories without markers), else missing; an object and a prefix of one name may both exist in a bucket
 * written by other tools, and then the object wins, as with rclone. Nothing is cached: other writers share the
 * bucket. Deleting or moving away a directory's last entry would make a directory without a marker vanish
 * under the client's feet, so the marker is put back then ({@link #keepParent}).
 *
 * <p>What S3 cannot do atomically is said where it happens: a rename is a copy then a delete (a directory's, key
 * by key); STOU's new name is taken with a conditional PutObject ({@code If-None-Match: *}).
 */
final class S3Storage implements Storage {

    static final String FILE_PERMISSIONS = "rw-r--r--";
    static final String DIRECTORY_PERMISSIONS = "rwxr-xr-x";
    /** The type s3fs gives its markers; S3 ignores it, tools that browse the bucket show a folder. */
    static final String MARKER_TYPE = "application/x-directory";
    /** S3's largest page of a listing. */
    static final int MAX_PAGE = 1000;
    /** Longest base STOU keeps from a hint, leaving room for a ".n" or random suffix within 255 bytes. */
    private static final int MAX_UNIQUE_BASE_BYTES = 200;
    /**
     * STOU: the hint and hint.1 ... hint.9, then random suffixes. Fewer sequential tries than local storage (each
     * is three requests here); 64 random bits make a collision among the random ones a non-concern.
     */
    private static final int UNIQUE_SEQUENTIAL_TRIES = 10;
    private static final int UNIQUE_RANDOM_TRIES = 10;

    private final S3Client client;
    private final ObjectStore store;
    private final UploadBudget budget;
    private final EventLog log;
    private final Keys keys;
    private final String bucket;
    /** Entries per ListObjectsV2 page (1,000, S3's most); a knob for tests that need several pages. */
    private volatile int pageSize = MAX_PAGE;
    /** Renames of objects above this copy in parts; a knob for tests that copy a few MiB in parts. */
    private volatile long copyThreshold = S3Copy.DEFAULT_THRESHOLD;
    /** False once the store has refused a conditional PutObject as not implemented (501). */
    private volatile boolean conditionalPuts = true;

    S3Storage(S3Client client, ObjectStore store, String prefix, UploadBudget budget, EventLog log) {
        this.client = client;
        this.log = log;
        this.store = store;
        this.budget = budget;
        this.keys = new Keys(prefix);
        this.bucket = store.bucket();
    }

    void pageSize(int entries) {
        if (entries < 1 || entries > MAX_PAGE) {
            throw new IllegalArgumentException("page size 1 to " + MAX_PAGE + ": " + entries);
        }
        this.pageSize = entries;
    }

    void copyThreshold(long bytes) {
        this.copyThreshold = bytes;
    }

    // --- reading ---

    @Override
    public FileInfo stat(VirtualPath path) throws IOException {
        if (path.isRoot()) {
            return directoryInfo("/", keys.directory(path));
        }
        HeadObjectResponse head = head(path);
        if (head != null) {
            return fileInfo(path.name(), keys.file(path), head.contentLength(), head.lastModified(), head.eTag());
        }
        if (hasKeysBelow(path)) {
            return directoryInfo(path.name(), keys.directory(path));
        }
        throw new NoSuchFileException(path.toString());
    }

    @Override
    public DirectoryListing list(VirtualPath directory) throws IOException {
        String below = keys.directory(directory);
        ListObjectsV2Request request = S3DirectoryListing.request(bucket, below, pageSize);
        ListObjectsV2Response first;
        try {
            first = client.listObjectsV2(request);
        } catch (SdkException e) {
            throw S3Errors.of(e, directory);
        }
        if (!directory.isRoot() && !S3DirectoryListing.showsAnything(first)) {
            // nothing below: a file, or nothing at all
            if (head(directory) != null) {
                throw new NotDirectoryException(directory.toString());
            }
            throw new NoSuchFileException(directory.toString());
        }
        return new S3DirectoryListing(client, request, first, directory,
                (name, o) -> fileInfo(name, o.key(), o.size(), o.lastModified(), o.eTag()),
                name -> directoryInfo(name, below + name + "/"));
    }

    @Override
    public SeekableByteChannel openRead(VirtualPath file, long offset) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        if (file.isRoot()) {
            throw new FileSystemException("/", null, "Is a directory");
        }
        String key = keys.file(file);
        ResponseInputStream<GetObjectResponse> body;
        try {
            body = client.getObject(S3ReadChannel.request(bucket, key, offset, null));
        } catch (SdkException e) {
            int status = S3Errors.status(e);
            if (status == 416) {
                // RFC 7233 §4.4: the offset is at or past the end; the channel is empty there
                HeadObjectResponse head = head(file);
                if (head != null) {
                    return S3ReadChannel.atEnd(client, bucket, key, file, head.contentLength(), head.eTag(), offset);
                }
                status = 404;
            }
            if (status == 404) {
                if (hasKeysBelow(file)) {
                    throw new FileSystemException(file.toString(), null, "Is a directory");
                }
                throw new NoSuchFileException(file.toString());
            }
            throw S3Errors.of(e, file);
        }
        GetObjectResponse response = body.response();
        long size = totalSize(response, offset);
        if (offset > 0 && response.contentRange() == null) {
            // The store ignored Range and sends the whole object: skip to the offset (S3 and its clones honour
            // Range; this keeps a store that does not correct, if slower).
            try {
                body.skipNBytes(Math.min(offset, size));
            } catch (IOException e) {
                body.abort();
                throw S3Errors.ofStream(e, file);
            }
        }
        return S3ReadChannel.streaming(client, bucket, key, file, size, body, offset);
    }

    /** The object's whole size: from {@code Content-Range: bytes first-last/total} (RFC 7233 §4.2) on a range. */
    private static long totalSize(GetObjectResponse response, long offset) {
        String range = response.contentRange();
        if (range == null) {
            return response.contentLength();
        }
        int slash = range.lastIndexOf('/');
        try {
            return Long.parseLong(range.substring(slash + 1).trim());
        } catch (NumberFormatException e) {
            // "*": an unknown length, which S3 never sends for an object
            return offset + response.contentLength();
        }
    }

    // --- uploads ---

    @Override
    public Upload openUpload(VirtualPath file, UploadMode mode, long offset) throws IOException {
        return S3Uploads.open(client, store, budget, log, keys.prefix(), file, mode, offset);
    }

    @Override
    public VirtualPath createUnique(VirtualPath directory, String hint) throws IOException {
        requireDirectory(directory, directory);
        String base = uniqueBase(hint);
        for (int i = 0; i < UNIQUE_SEQUENTIAL_TRIES + UNIQUE_RANDOM_TRIES; i++) {
            String name = i == 0 ? base
                    : i < UNIQUE_SEQUENTIAL_TRIES ? base + "." + i
                    : base + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
            VirtualPath candidate;
            try {
                candidate = directory.child(name);
            } catch (InvalidVirtualPathException e) {
                throw new NoSuchFileException(directory.toString(), null, e.getMessage());
            }
            // A directory of that name is a prefix, which no conditional put can see: looked at first.
            if (head(candidate) != null || hasKeysBelow(candidate)) {
                continue;
            }
            if (putIfAbsent(keys.file(candidate), candidate)) {
                return candidate;
            }
        }
        throw new FileAlreadyExistsException(directory.toString(), null, "no unique name found");
    }

    /**
     * Puts an empty object unless one exists: PutObject with {@code If-None-Match: *}, which AWS S3, MinIO, Ceph
     * RGW and S3Proxy 3 honour (412 when the key exists; atomic on AWS and MinIO, a check then a put in S3Proxy).
     * A store that answers 501 gets a plain PutObject from then on, after the HeadObject the caller made: a race
     * with another client taking the same name in between is then possible, which the random names make moot.
     */
    private boolean putIfAbsent(String key, VirtualPath path) throws IOException {
        boolean conditional = conditionalPuts;
        try {
            client.putObject(PutObjectRequest.builder().bucket(bucket).key(key)
                    .ifNoneMatch(conditional ? "*" : null).build(), RequestBody.empty());
            return true;
        } catch (SdkException e) {
            int status = S3Errors.status(e);
            if (status == 412 || status == 409) {
                // taken meanwhile (409: a concurrent conditional write on AWS)
                return false;
            }
            if (status == 501 && conditional) {
                conditionalPuts = false;
                return putIfAbsent(key, path);
            }
            throw S3Errors.of(e, path);
        }
    }

    /** A hint reduced to one valid name of bounded length; "file" when nothing usable is left. */
    private static String uniqueBase(String hint) {
        String base = hint == null ? "" : hint.substring(hint.lastIndexOf('/') + 1);
        if (!VirtualPath.isValidName(base)) {
            return "file";
        }
        while (base.getBytes(StandardCharsets.UTF_8).length > MAX_UNIQUE_BASE_BYTES) {
            base = base.substring(0, base.offsetByCodePoints(base.length(), -1));
        }
        return base;
    }

    // --- directories ---

    @Override
    public void createDirectory(VirtualPath dir) throws IOException {
        if (dir.isRoot() || head(dir) != null || hasKeysBelow(dir)) {
            throw new FileAlreadyExistsException(dir.toString());
        }
        // Keys need no parent, but a file system does: "MKD a/b" with no "a" fails as mkdir(2) would.
        requireDirectory(dir.parent(), dir);
        putMarker(dir);
    }

    @Override
    public void removeDirectory(VirtualPath dir) throws IOException {
        // SECURITY: the user's home itself is never removed.
        if (dir.isRoot()) {
            throw new AccessDeniedException("/", null, "Cannot remove the root directory");
        }
        if (head(dir) != null) {
            throw new NotDirectoryException(dir.toString());
        }
        String marker = keys.directory(dir);
        ListObjectsV2Response two;
        try {
            // two keys tell all: none (missing), the marker alone (empty), anything else (not empty)
            two = client.listObjectsV2(listing(marker).maxKeys(2).build());
        } catch (SdkException e) {
            throw S3Errors.of(e, dir);
        }
        if (two.contents().isEmpty()) {
            throw new NoSuchFileException(dir.toString());
        }
        if (two.contents().size() > 1 || !two.contents().getFirst().key().equals(marker)) {
            throw new DirectoryNotEmptyException(dir.toString());
        }
        deleteKey(marker, dir);
        keepParent(dir);
    }

    /** The directory {@code dir} exists (else NoSuchFileException naming {@code named}, or NotDirectory for a file). */
    private void requireDirectory(VirtualPath dir, VirtualPath named) throws IOException {
        if (dir.isRoot() || hasKeysBelow(dir)) {
            return;
        }
        if (dir.equals(named) && head(dir) != null) {
            throw new NotDirectoryException(dir.toString());
        }
        throw new NoSuchFileException(named.toString());
    }

    private void putMarker(VirtualPath dir) throws IOException {
        try {
            client.putObject(PutObjectRequest.builder().bucket(bucket).key(keys.directory(dir))
                    .contentType(MARKER_TYPE).build(), RequestBody.empty());
        } catch (SdkException e) {
            throw S3Errors.of(e, dir);
        }
    }

    /**
     * After {@code gone} was deleted or moved away: if its directory is now without any key (it had no marker),
     * puts the marker, so the directory stays as a file system's would. Best effort: the operation itself
     * succeeded, so a failure here is not reported; the directory is then gone as with other S3 tools.
     */
    private void keepParent(VirtualPath gone) {
        VirtualPath parent = gone.parent();
        if (parent.isRoot()) {
            return;
        }
        try {
            if (!hasKeysBelow(parent)) {
                putMarker(parent);
            }
        } catch (IOException e) {
            // see above
        }
    }

    // --- deleting and renaming ---

    @Override
    public void delete(VirtualPath file) throws IOException {
        if (file.isRoot()) {
            throw new FileSystemException("/", null, "Is a directory");
        }
        if (head(file) == null) {
            if (hasKeysBelow(file)) {
                throw new FileSystemException(file.toString(), null, "Is a directory");
            }
            throw new NoSuchFileException(file.toString());
        }
        deleteKey(keys.file(file), file);
        keepParent(file);
    }

    private void deleteKey(String key, VirtualPath path) throws IOException {
        try {
            client.deleteObject(DeleteObjectRequest.builder().bucket(bucket).key(key).build());
        } catch (SdkException e) {
            throw S3Errors.of(e, path);
        }
    }

    @Override
    public void rename(VirtualPath from, VirtualPath to) throws IOException {
        // SECURITY: the user's home can be neither moved away nor replaced.
        if (from.isRoot() || to.isRoot()) {
            throw new AccessDeniedException("/", null, "Cannot rename the root directory");
        }
        HeadObjectResponse source = head(from);
        if (source == null && !hasKeysBelow(from)) {
            throw new NoSuchFileException(from.toString());
        }
        if (from.equals(to)) {
            return;
        }
        HeadObjectResponse target = head(to);
        if (target == null && hasKeysBelow(to)) {
            throw new FileSystemException(to.toString(), null, "Is a directory");
        }
        if (source == null && to.startsWith(from)) {
            throw new FileSystemException(from.toString(), to.toString(), "Cannot move a directory into itself");
        }
        if (source == null && target != null) {
            // rename(2) of a directory onto a file: ENOTDIR
            throw new NotDirectoryException(to.toString());
        }
        requireDirectory(to.parent(), to);
        S3Copy copy = copier();
        if (source != null) {
            copy.copy(keys.file(from), keys.file(to), source, from);
            try {
                deleteKey(keys.file(from), from);
            } catch (IOException e) {
                throw new FileSystemException(from.toString(), to.toString(),
                        "copied, but the old name could not be removed: " + reason(e));
            }
        } else {
            renameDirectory(from, to, copy);
        }
        if (!to.startsWith(from.parent())) {
            keepParent(from);
        }
    }

    /**
     * Moves every key below {@code from/} to {@code to/}, a page at a time: the page's keys are copied (in
     * parallel, {@code partsInFlight} at a time), then its sources deleted (likewise). The next page
     * starts after the last key moved, so it is found whether or not the store's continuation survives the
     * deletes. A failure stops the rename: the copies of the failed page are removed again, and the message says
     * how many objects moved and that the rest is still at the old name, which is exactly the state of the bucket.
     */
    private void renameDirectory(VirtualPath from, VirtualPath to, S3Copy copy) throws IOException {
        String below = keys.directory(from);
        long moved = 0;
        String after = null;
        while (true) {
            ListObjectsV2Response page;
            try {
                page = client.listObjectsV2(listing(below).startAfter(after).maxKeys(pageSize).build());
            } catch (SdkException e) {
                throw stopped(from, to, moved, S3Errors.of(e, from));
            }
            List<S3Object> objects = page.contents();
            if (objects.isEmpty()) {
                break;
            }
            List<S3Copy.Task<String>> tasks = new ArrayList<>(objects.size());
            for (S3Object o : objects) {
                String target = keys.moved(o.key(), from, to);
                tasks.add(() -> {
                    if (o.size() <= copyThreshold) {
                        copy.copyWhole(o.key(), target, o.eTag(), from);
                    } else {
                        HeadObjectResponse head = headKey(o.key(), from);
                        if (head == null) {
                            throw new NoSuchFileException(from.toString(), null, "an object vanished meanwhile");
                        }
                        copy.copy(o.key(), target, head, from);
                    }
                    return target;
                });
            }
            S3Copy.Outcome<String> copied = S3Copy.inParallel(tasks, store.partsInFlight());
            if (copied.failure() != null) {
                // the copies stay as well as their sources if this fails; the message below holds for the sources
                deleteKeys(copied.results().stream().filter(k -> k != null).toList(), to);
                throw stopped(from, to, moved, copied.failure());
            }
            S3Copy.Outcome<String> deleted = deleteKeys(objects.stream().map(S3Object::key).toList(), from);
            moved += deleted.done();
            if (deleted.failure() != null) {
                throw stopped(from, to, moved, deleted.failure());
            }
            after = objects.getLast().key();
            if (!Boolean.TRUE.equals(page.isTruncated())) {
                break;
            }
        }
    }

    /** A directory rename that failed after {@code moved} objects: nothing moved is the original failure. */
    private static IOException stopped(VirtualPath from, VirtualPath to, long moved, IOException failure) {
        if (moved == 0) {
            return failure;
        }
        var e = new FileSystemException(from.toString(), to.toString(), "rename stopped after " + moved
                + (moved == 1 ? " object" : " objects") + " moved (" + reason(failure) + "); the rest is still in "
                + from);
        e.initCause(failure);
        return e;
    }

    /**
     * Deletes keys, {@code partsInFlight} at a time. One DeleteObject per key rather than one DeleteObjects per
     * page: DeleteObjects needs a checksum header, which the SDK now sends as x-amz-checksum-crc32, and S3Proxy 3.0
     * and older Ceph RGW refuse that (501) where they want Content-MD5.
     */
    private S3Copy.Outcome<String> deleteKeys(List<String> keyList, VirtualPath path) {
        List<S3Copy.Task<String>> tasks = new ArrayList<>(keyList.size());
        for (String key : keyList) {
            tasks.add(() -> {
                try {
                    client.deleteObject(DeleteObjectRequest.builder().bucket(bucket).key(key).build());
                    return key;
                } catch (SdkException e) {
                    throw S3Errors.of(e, path);
                }
            });
        }
        return S3Copy.inParallel(tasks, store.partsInFlight());
    }

    /** What went wrong, without the path (the rename's message names both). */
    private static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> x.getReason() == null ? "a file vanished meanwhile" : x.getReason();
            case AccessDeniedException x -> "permission denied";
            case FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
    }

    private S3Copy copier() {
        return new S3Copy(client, bucket, store.partSize(), store.partsInFlight(), copyThreshold);
    }

    @Override
    public void setLastModified(VirtualPath path, Instant time) throws IOException {
        // S3 has no call that sets an object's time: it is the time of the last upload (FEAT leaves MFMT out).
        throw new FileSystemException(path.toString(), null,
                "the object store keeps the time of the last upload; it cannot be set");
    }

    // --- HASH ---

    /**
     * The object's own checksum when it is a digest of the whole content (see {@link StoredChecksum}): S3 keeps
     * one for what a client uploaded with one in a single request. Ferry's own uploads send none ({@link S3Upload}
     * says why), so for them this is null and HASH reads the file. Null for no such object too: the caller's stat
     * or read then says what is wrong.
     */
    @Override
    public StoredHash storedHash(VirtualPath file, String algorithm) throws IOException {
        if (file.isRoot()) {
            return null;
        }
        try {
            // Checksum mode: S3 shows the x-amz-checksum-* headers only when asked.
            HeadObjectResponse head = client.headObject(HeadObjectRequest.builder().bucket(bucket).key(keys.file(file))
                    .checksumMode(ChecksumMode.ENABLED).build());
            return StoredChecksum.of(head, algorithm);
        } catch (SdkException e) {
            if (S3Errors.status(e) == 404) {
                return null;
            }
            throw S3Errors.of(e, file);
        }
    }

    // --- requests shared above ---

    /** HeadObject of a file's object; null when there is none. */
    private HeadObjectResponse head(VirtualPath path) throws IOException {
        return path.isRoot() ? null : headKey(keys.file(path), path);
    }

    private HeadObjectResponse headKey(String key, VirtualPath path) throws IOException {
        try {
            return client.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build());
        } catch (SdkException e) {
            if (S3Errors.status(e) == 404) {
                return null;
            }
            throw S3Errors.of(e, path);
        }
    }

    /**
     * A listing of the keys below {@code keyPrefix}, URL-encoded: a key may hold characters XML 1.0 cannot carry
     * (S3's advice; the SDK decodes them again).
     */
    private ListObjectsV2Request.Builder listing(String keyPrefix) {
        return ListObjectsV2Request.builder().bucket(bucket).prefix(keyPrefix).encodingType(EncodingType.URL);
    }

    /** Whether any key lies below {@code path/}: its marker or any entry, explicit directory or implicit. */
    private boolean hasKeysBelow(VirtualPath path) throws IOException {
        try {
            return !client.listObjectsV2(listing(keys.directory(path)).maxKeys(1).build()).contents().isEmpty();
        } catch (SdkException e) {
            throw S3Errors.of(e, path);
        }
    }

    // --- descriptions ---

    private static FileInfo fileInfo(String name, String key, Long size, Instant lastModified, String etag) {
        return new FileInfo(name, FileType.FILE, size == null ? 0 : size, seconds(lastModified), FILE_PERMISSIONS, 1,
                uniqueId(key + "\n" + (etag == null ? "" : etag)));
    }

    /**
     * A directory. A prefix has no time of its own (a listing's common prefix carries none, and the marker, when
     * there is one, would give stat and LIST different answers): the epoch, as s3fs shows.
     */
    private static FileInfo directoryInfo(String name, String directoryPrefix) {
        return new FileInfo(name, FileType.DIRECTORY, 0, Instant.EPOCH, DIRECTORY_PERMISSIONS, 1,
                uniqueId(directoryPrefix));
    }

    /** Listings give milliseconds, HeadObject's Last-Modified seconds: seconds for both, so they agree. */
    private static Instant seconds(Instant t) {
        return t == null ? Instant.EPOCH : t.truncatedTo(ChronoUnit.SECONDS);
    }

    /**
     * The MLSx unique fact: a digest of the key (and the ETag, so a replaced object is a new one, as a replaced
     * local file is a new inode); it names neither the key nor the bucket.
     */
    private static String uniqueId(String of) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(of.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
