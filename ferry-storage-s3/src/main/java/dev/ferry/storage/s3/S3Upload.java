package dev.ferry.storage.s3;

import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Upload;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartCopyRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * An upload to an object store. S3 has no partial writes and no rename, so every mode builds a whole new
 * object that replaces the old one only at {@link #commit} (one PutObject, or CompleteMultipartUpload): readers
 * see the old object until then, and a failed or aborted upload leaves it untouched.
 *
 * <p>Bytes stream through part buffers of {@code part-size} ({@link PartBuffer}), each reserved from the
 * server's {@link UploadBudget} before it is filled and given back when its part has been sent. A full buffer is
 * sent by a virtual thread of its own, at most {@code parts-in-flight} at once; {@link #write} waits for the
 * budget or a free slot, which stops the data connection being read (back-pressure on the client through TCP).
 * Memory per upload: one filling buffer plus the buffers in flight, {@code (1 + parts-in-flight) * part-size}
 * at most; per server: the budget, since no buffer exists before its reservation is taken. A part is sent
 * from its buffer without a second copy: the SDK's url-connection client puts HttpURLConnection in fixed-length
 * streaming mode for a body of known length (S3ClientsTest; docs/performance.md has the measurement). An upload
 * that fits in one buffer is one PutObject at commit and never starts a multipart upload (a file of exactly one
 * part too: a full buffer is sent only when more bytes come). APPE and REST n + STOR keep the old object's first
 * bytes as described in {@link ObjectRebuild}.
 *
 * <p>Threads: the data thread writes and commits; any thread may abort (ABOR), which fails the upload under
 * the lock, interrupts the senders (an interrupted part fails; it is never completed) and wakes a writer
 * waiting for the budget or a slot. The state changes hold one lock, so commit and abort never both happen;
 * no request to the store is made under it. Whoever first ends a failed upload (a failed commit, abort, close)
 * discards it: waits for the senders, then AbortMultipartUpload (retried in the background if the store cannot
 * be reached, see {@link #cancelLater}) and, for STOU, removes the empty object made for it.
 */
final class S3Upload implements Upload {

    /** S3's most parts per upload. */
    static final int MAX_PARTS = 10_000;
    /** Background attempts to cancel a multipart upload the store did not take the cancel of. */
    static final int CANCEL_ATTEMPTS = 5;
    /** The longest the session's own cancel of a failed upload may take before its reply (see {@link #cancel}). */
    static final Duration FIRST_CANCEL_LIMIT = Duration.ofSeconds(2);

    private enum State { OPEN, COMMITTING, COMMITTED, FAILED }

    private enum Discard { NOT_YET, RUNNING, DONE }

    /** Part {@code number}: new bytes ({@code data}) or a range of the old object ({@code copy}). */
    private record Part(int number, PartBuffer data, ObjectRebuild.Range copy) {}

    private final S3Target target;
    private final UploadBudget budget;
    private final int partSize;
    private final int partsInFlight;
    private final ObjectRebuild rebuild;  // null: the new object is the new bytes only
    private final boolean newOnly;        // CREATE: the key must still be free at commit
    private final String createdEtag;     // STOU: the empty object made for this upload, removed if it fails
    private final WritableByteChannel channel = new Channel();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Volatile as well: the budget's cancel test reads it without the lock (see UploadBudget).
    private volatile State state = State.OPEN;
    private IOException failure;
    private PartBuffer filling;
    private String uploadId;
    private int nextPart = 1;
    private int inFlight;
    private final Set<Thread> senders = new HashSet<>();
    private final ArrayDeque<Part> pendingCopies = new ArrayDeque<>();
    private final TreeMap<Integer, CompletedPart> sent = new TreeMap<>();
    private Discard discard = Discard.NOT_YET;
    private IOException discardFailure;

    // The writer's own (the data thread's): never read by another thread.
    private long size;
    private boolean headPending;

    private S3Upload(S3Target target, ObjectStore store, UploadBudget budget, ObjectRebuild rebuild, boolean newOnly,
                     String createdEtag) {
        this.target = target;
        this.budget = budget;
        this.partSize = store.partSize();
        this.partsInFlight = store.partsInFlight();
        this.rebuild = rebuild;
        this.newOnly = newOnly;
        this.createdEtag = createdEtag;
        if (rebuild != null) {
            size = rebuild.kept();
            headPending = rebuild.head() > 0;
        }
    }

    /** STOR: the new bytes replace whatever is there (or nothing). */
    static S3Upload replacing(S3Target target, ObjectStore store, UploadBudget budget) {
        return new S3Upload(target, store, budget, null, false, null);
    }

    /** STOR into an upload directory: published only if the key is still free at commit. */
    static S3Upload newOnly(S3Target target, ObjectStore store, UploadBudget budget) {
        return new S3Upload(target, store, budget, null, true, null);
    }

    /** STOU: over the empty object {@code etag} made for it, which a failed upload removes. */
    static S3Upload intoCreated(S3Target target, ObjectStore store, UploadBudget budget, String etag) {
        return new S3Upload(target, store, budget, null, false, Objects.requireNonNull(etag, "etag"));
    }

    /** APPE, REST n + STOR: the old object's first bytes, then the new ones; the copies start now. */
    static S3Upload rebuilding(S3Target target, ObjectStore store, UploadBudget budget, ObjectRebuild rebuild)
            throws IOException {
        S3Upload upload = new S3Upload(target, store, budget, rebuild, false, null);
        if (!rebuild.copies().isEmpty()) {
            upload.startMultipart();
            upload.lock.lock();
            try {
                for (ObjectRebuild.Range range : rebuild.copies()) {
                    upload.pendingCopies.add(new Part(upload.nextPart++, null, range));
                }
                upload.launchCopies();
            } finally {
                upload.lock.unlock();
            }
        }
        return upload;
    }

    @Override
    public WritableByteChannel channel() {
        return channel;
    }

    private int write(ByteBuffer src) throws IOException {
        int written = 0;
        while (src.hasRemaining()) {
            PartBuffer buffer = roomyBuffer();
            lock.lock();
            try {
                // An abort since roomyBuffer() released the buffer: nothing may go into it now.
                ensureOpen();
                int n = buffer.put(src);
                written += n;
                size += n;
            } finally {
                lock.unlock();
            }
        }
        return written;
    }

    /** The filling buffer if it has room; else the full one is sent and a new one taken (both may wait). */
    private PartBuffer roomyBuffer() throws IOException {
        PartBuffer full;
        lock.lock();
        try {
            ensureOpen();
            if (filling != null && !filling.isFull()) {
                return filling;
            }
            full = filling;
        } finally {
            lock.unlock();
        }
        if (full != null) {
            // Sent before the next buffer is asked for: an upload never waits for the budget while holding a
            // buffer that is not on its way (see UploadBudget: no deadlock).
            sendFilling();
        }
        return install(freshBuffer());
    }

    /** A new buffer from the budget (waiting, but not past an abort), with the kept head read into it if due. */
    private PartBuffer freshBuffer() throws IOException {
        PartBuffer buffer;
        try {
            buffer = PartBuffer.take(budget, partSize, () -> state != State.OPEN);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failed(new InterruptedIOException(target.path() + ": interrupted while waiting for upload memory"));
        }
        if (buffer == null) {
            lock.lock();
            try {
                ensureOpen();
            } finally {
                lock.unlock();
            }
            throw new IllegalStateException("budget wait cancelled while the upload is open");
        }
        if (headPending) {
            try {
                readHead(buffer);
            } catch (IOException e) {
                buffer.release();
                throw failed(e);
            }
            headPending = false;
        }
        return buffer;
    }

    /** Makes {@code buffer} the filling one, unless the upload ended meanwhile (then it goes back). */
    private PartBuffer install(PartBuffer buffer) throws IOException {
        lock.lock();
        try {
            if (state != State.OPEN) {
                buffer.release();
            }
            ensureOpen();
            filling = buffer;
            return buffer;
        } finally {
            lock.unlock();
        }
    }

    /** The old object's first {@code rebuild.head()} bytes, a ranged GET of the version that was looked at. */
    private void readHead(PartBuffer buffer) throws IOException {
        int n = (int) rebuild.head();
        GetObjectRequest request = GetObjectRequest.builder().bucket(target.bucket()).key(target.key())
                .range("bytes=0-" + (n - 1)).ifMatch(rebuild.etag()).overrideConfiguration(target.limits()).build();
        int done = 0;
        try (ResponseInputStream<GetObjectResponse> in = target.client().getObject(request)) {
            byte[] array = buffer.arrayFor(n);
            int at = buffer.size();
            while (done < n) {
                int r = in.read(array, at + done, n - done);
                if (r < 0) {
                    break;
                }
                done += r;
            }
        } catch (SdkException e) {
            throw target.failure("reading the start of the old file", e);
        } catch (IOException e) {
            // The body's read (the client's socket timeout bounds it).
            throw new IOException(target.path() + ": reading the start of the old file failed: " + e.getMessage(), e);
        }
        if (done < n) {
            throw new IOException(target.path() + ": the old file ended after " + done + " of the " + n
                    + " bytes kept");
        }
        buffer.advance(n);
    }

    /** Sends the filling buffer as the next part (starting the multipart upload first if need be). */
    private void sendFilling() throws IOException {
        boolean started;
        lock.lock();
        try {
            started = uploadId != null;
        } finally {
            lock.unlock();
        }
        if (!started) {
            startMultipart();
        }
        lock.lock();
        try {
            while (state == State.OPEN && inFlight >= partsInFlight) {
                await();
            }
            ensureOpen();
            if (nextPart > MAX_PARTS) {
                throw failedLocked(new IOException(target.path() + ": the file is larger than S3's " + MAX_PARTS
                        + " parts of " + partSize + " bytes (raise the part size)"));
            }
            PartBuffer buffer = filling;
            filling = null;
            launch(new Part(nextPart++, buffer, null));
        } finally {
            lock.unlock();
        }
    }

    private void startMultipart() throws IOException {
        String id;
        try {
            id = target.client().createMultipartUpload(CreateMultipartUploadRequest.builder()
                    .bucket(target.bucket()).key(target.key()).overrideConfiguration(target.limits()).build())
                    .uploadId();
        } catch (SdkException e) {
            throw failed(target.failure("starting the upload", e));
        }
        lock.lock();
        try {
            if (state == State.OPEN) {
                uploadId = id;
                return;
            }
        } finally {
            lock.unlock();
        }
        // Aborted while the store answered: the discard did not know this upload, so it is cancelled here.
        IOException notCancelled = cancel(id);
        lock.lock();
        try {
            IOException e = rethrown();
            if (notCancelled != null) {
                e.addSuppressed(notCancelled);
            }
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** Starts a sender for {@code part}; the lock is held and a slot is free. */
    private void launch(Part part) {
        inFlight++;
        String id = uploadId;
        Thread sender = Thread.ofVirtual().name("s3-part-" + part.number()).unstarted(() -> send(part, id));
        senders.add(sender);
        sender.start();
    }

    /** Starts pending copies while slots are free; the lock is held. */
    private void launchCopies() {
        while (state == State.OPEN && inFlight < partsInFlight && !pendingCopies.isEmpty()) {
            launch(pendingCopies.poll());
        }
    }

    /** A sender's body: the part's request, then its bookkeeping (which always runs). */
    private void send(Part part, String id) {
        CompletedPart done = null;
        IOException error = null;
        try {
            String etag = part.copy() != null ? copyPart(part, id) : uploadPart(part, id);
            if (Thread.currentThread().isInterrupted()) {
                // Interrupted as the answer came: the part may be stored, but an interrupted part is a failed
                // one all the same, so that its upload is never completed.
                error = new InterruptedIOException(target.path() + ": sending part " + part.number() + " was interrupted");
            } else {
                done = CompletedPart.builder().partNumber(part.number()).eTag(etag).build();
            }
        } catch (SdkException e) {
            error = target.failure("sending part " + part.number(), e);
        } catch (RuntimeException e) {
            error = new IOException(target.path() + ": sending part " + part.number() + " failed: " + e, e);
        } finally {
            if (part.data() != null) {
                part.data().release();
            }
            lock.lock();
            try {
                senders.remove(Thread.currentThread());
                inFlight--;
                if (done != null && state == State.OPEN) {
                    sent.put(part.number(), done);
                } else if (done == null) {
                    failedLocked(error != null ? error
                            : new IOException(target.path() + ": part " + part.number() + " was not sent"));
                }
                launchCopies();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private String uploadPart(Part part, String id) {
        PartBuffer data = part.data();
        return target.client().uploadPart(UploadPartRequest.builder().bucket(target.bucket()).key(target.key())
                .uploadId(id).partNumber(part.number()).contentLength((long) data.size())
                .overrideConfiguration(target.limits()).build(), data.body()).eTag();
    }

    private String copyPart(Part part, String id) {
        return target.client().uploadPartCopy(UploadPartCopyRequest.builder()
                .sourceBucket(target.bucket()).sourceKey(target.key())
                .destinationBucket(target.bucket()).destinationKey(target.key())
                .uploadId(id).partNumber(part.number()).copySourceRange(part.copy().header())
                // The kept bytes all come from the object that was looked at: a replaced one fails the copy (412).
                .copySourceIfMatch(rebuild.etag())
                .overrideConfiguration(target.limits()).build()).copyPartResult().eTag();
    }

    @Override
    public long commit(Precondition precondition) throws IOException {
        lock.lock();
        try {
            if (state == State.COMMITTED || state == State.COMMITTING) {
                throw new IllegalStateException("upload already committed");
            }
        } finally {
            lock.unlock();
        }
        try {
            return publish(precondition);
        } catch (IOException | RuntimeException e) {
            failed(e instanceof IOException io ? io : new IOException(target.path() + ": upload failed: " + e, e));
            try {
                discard();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private long publish(Precondition precondition) throws IOException {
        if (headPending) {
            // No new byte came, but the kept head belongs in the new object all the same.
            install(freshBuffer());
        }
        boolean multipart;
        PartBuffer last;
        lock.lock();
        try {
            ensureOpen();
            multipart = uploadId != null;
            last = filling;
        } finally {
            lock.unlock();
        }
        return multipart ? completeMultipart(precondition, last) : putWhole(precondition, last);
    }

    /** One buffer or less: a single PutObject, asked with the precondition right before it. */
    private long putWhole(Precondition precondition, PartBuffer data) throws IOException {
        toPublish(precondition);
        PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(target.bucket()).key(target.key())
                .contentLength(data == null ? 0L : data.size()).overrideConfiguration(target.limits());
        // No x-amz-checksum-sha256, though the bytes are known here and S3 would keep it for HASH
        // (StoredChecksum): S3Proxy 3.0.0 refuses the header (501 NotImplemented, "Unknown header").
        if (newOnly) {
            // Conditional write: S3 refuses it (412) if the key appeared since open. S3Proxy 3.0.0 emulates it
            // with a HEAD before the PUT; AWS S3 and MinIO do it atomically.
            request.ifNoneMatch("*");
        }
        try {
            target.client().putObject(request.build(), data == null ? RequestBody.empty() : data.body());
        } catch (RuntimeException e) {
            // Any exception, not only the SDK's: the state must leave COMMITTING, or an abort would wait forever.
            throw settleFailed(newOnly && S3Target.isConditionLost(e) ? target.exists()
                    : target.failure("storing", e));
        } finally {
            lock.lock();
            try {
                if (filling != null) {
                    filling.release();
                    filling = null;
                }
            } finally {
                lock.unlock();
            }
        }
        settleCommitted();
        return size;
    }

    /** The last buffer as the last part, every part sent, then CompleteMultipartUpload. */
    private long completeMultipart(Precondition precondition, PartBuffer last) throws IOException {
        if (last != null && last.size() > 0) {
            sendFilling();
        } else if (last != null) {
            lock.lock();
            try {
                filling = null;
                last.release();
            } finally {
                lock.unlock();
            }
        }
        String id;
        lock.lock();
        try {
            while (state == State.OPEN && (inFlight > 0 || !pendingCopies.isEmpty())) {
                await();
            }
            ensureOpen();
            id = uploadId;
        } finally {
            lock.unlock();
        }
        if (newOnly && exists()) {
            // CompleteMultipartUpload's If-None-Match below makes this atomic on AWS S3 and MinIO; S3Proxy
            // 3.0.0 ignores that header on complete, so there this HEAD is the check, and an object stored
            // under the same key between it and the complete is replaced: the race that remains.
            throw failed(target.exists());
        }
        List<CompletedPart> parts = toPublish(precondition);
        CompleteMultipartUploadRequest.Builder request = CompleteMultipartUploadRequest.builder()
                .bucket(target.bucket()).key(target.key()).uploadId(id)
                .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build())
                .overrideConfiguration(target.limits());
        if (newOnly) {
            request.ifNoneMatch("*");
        }
        try {
            target.client().completeMultipartUpload(request.build());
        } catch (RuntimeException e) {
            // Any exception (see putWhole).
            // A complete that timed out may still have happened on the store: then the cancel in the discard
            // finds no upload (404, taken as done) and the new object is there although the client got 451.
            throw settleFailed(newOnly && S3Target.isConditionLost(e) ? target.exists()
                    : target.failure("completing the upload", e));
        }
        settleCommitted();
        return size;
    }

    /** Whether the key names an object now (CREATE's check before the complete). */
    private boolean exists() throws IOException {
        try {
            return target.head() != null;
        } catch (IOException e) {
            throw failed(e);
        }
    }

    /**
     * The last moment before the bytes become the object's: the precondition is asked, and if it is met the
     * upload is committing (an abort now waits for the outcome). Returns the parts to complete.
     */
    private List<CompletedPart> toPublish(Precondition precondition) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            String unmet = precondition.unmetBecause();
            if (unmet != null) {
                throw failedLocked(new PreconditionFailedException(unmet));
            }
            if (sent.size() != nextPart - 1) {
                throw new IllegalStateException(sent.size() + " parts sent of " + (nextPart - 1));
            }
            state = State.COMMITTING;
            return new ArrayList<>(sent.values());
        } finally {
            lock.unlock();
        }
    }

    private void settleCommitted() {
        lock.lock();
        try {
            state = State.COMMITTED;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The publishing request failed: the upload is failed (from COMMITTING), and an abort may go on. */
    private IOException settleFailed(IOException e) {
        lock.lock();
        try {
            state = State.FAILED;
            failure = e;
            changed.signalAll();
            return e;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void abort() throws IOException {
        lock.lock();
        try {
            while (state == State.COMMITTING) {
                // The publishing request is under way; request-timeout bounds it.
                changed.awaitUninterruptibly();
            }
            if (state == State.COMMITTED) {
                return;
            }
            failedLocked(new IOException(target.path() + ": upload aborted"));
        } finally {
            lock.unlock();
        }
        discard();
    }

    @Override
    public void close() {
        try {
            abort();
        } catch (IOException ignored) {
            // the upload failed already (or was abandoned); that is what is reported
        }
    }

    /**
     * Undoes a failed upload, once: its buffer goes back to the budget, the senders (interrupted when it failed)
     * are waited for, so that no part arrives after the cancel, then the multipart upload is cancelled and a STOU's
     * empty object removed. A second caller waits for the first one's outcome.
     */
    private void discard() throws IOException {
        String id;
        lock.lock();
        try {
            if (discard != Discard.NOT_YET) {
                while (discard == Discard.RUNNING) {
                    changed.awaitUninterruptibly();
                }
                if (discardFailure != null) {
                    throw new IOException(discardFailure.getMessage(), discardFailure);
                }
                return;
            }
            discard = Discard.RUNNING;
            if (filling != null) {
                filling.release();
                filling = null;
            }
            pendingCopies.clear();
            // Interrupted senders end at once; request-timeout bounds one that does not notice.
            long left = target.timeout().toNanos() + TimeUnit.SECONDS.toNanos(1);
            while (inFlight > 0 && left > 0) {
                try {
                    left = changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            id = uploadId;
        } finally {
            lock.unlock();
        }
        IOException problem = null;
        try {
            problem = id == null ? null : cancel(id);
            if (createdEtag != null) {
                IOException notRemoved = removeCreated();
                if (problem == null) {
                    problem = notRemoved;
                } else if (notRemoved != null) {
                    problem.addSuppressed(notRemoved);
                }
            }
        } finally {
            // Whatever happened, the discard is over: a second caller waits for this, not forever.
            lock.lock();
            try {
                discard = Discard.DONE;
                discardFailure = problem;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
        if (problem != null) {
            throw problem;
        }
    }

    /**
     * AbortMultipartUpload; null when done (or the upload is gone), else why not (and it is retried later). This
     * first try is given {@link #FIRST_CANCEL_LIMIT} at most, not {@code request-timeout}: the session's 451 waits
     * for it, and a store that just failed the upload seldom takes the cancel at once (measured on the test bed
     * with the store's link down: the reply came after twice the request timeout). The parts are invisible; the
     * retries in the background ({@link #cancelLater}) have the whole timeout.
     */
    private IOException cancel(String id) {
        try {
            abortMultipart(id, target.timeout().compareTo(FIRST_CANCEL_LIMIT) < 0 ? target.timeout() : FIRST_CANCEL_LIMIT);
            return null;
        } catch (RuntimeException e) {
            // Not only the SDK's exceptions (a closed client throws IllegalStateException): the discard must end.
            IOException notCancelled = target.failure("cancelling the upload", e);
            cancelLater(id);
            return notCancelled;
        }
    }

    private void abortMultipart(String id, Duration limit) {
        try {
            target.client().abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(target.bucket())
                    .key(target.key()).uploadId(id).overrideConfiguration(o -> o.apiCallTimeout(limit)).build());
        } catch (SdkException e) {
            if (!S3Target.isNotFound(e)) {
                throw e;
            }
            // NoSuchUpload: cancelled (or completed) already.
        }
    }

    /**
     * The store did not take the cancel (unreachable, slow): a virtual thread tries again {@link #CANCEL_ATTEMPTS}
     * times, {@code request-timeout} apart, so a short outage leaves no upload behind. Past that the parts stay
     * stored (and billed) until the bucket's lifecycle rule (AbortIncompleteMultipartUpload) removes them; the
     * warning names the upload for an operator.
     */
    private void cancelLater(String id) {
        Thread.ofVirtual().name("s3-cancel").start(() -> {
            String last = null;
            for (int attempt = 1; attempt <= CANCEL_ATTEMPTS; attempt++) {
                try {
                    Thread.sleep(target.timeout());
                    abortMultipart(id, target.timeout());
                    target.log().info("storage-upload-cancelled").with("bucket", target.bucket()).with("key", target.key())
                            .with("upload", id).with("attempt", attempt + 1).log();
                    return;
                } catch (InterruptedException e) {
                    return;
                } catch (SdkException e) {
                    last = target.failure("cancelling the upload", e).getMessage();
                } catch (RuntimeException e) {
                    // the client was closed (server stopping): nothing more to try with
                    last = e.toString();
                    break;
                }
            }
            target.log().warn("storage-upload-left").with("bucket", target.bucket()).with("key", target.key())
                    .with("upload", id).with("error", last).log();
        });
    }

    /**
     * STOU's empty object, removed unless it changed meanwhile. An empty object's ETag is that of every empty
     * object, so an empty STOR of the same name between the HEAD and the DELETE could be removed: harmless, it
     * had no content. AWS S3 also checks If-Match on the DELETE itself.
     */
    private IOException removeCreated() {
        try {
            HeadObjectResponse now = target.client().headObject(HeadObjectRequest.builder().bucket(target.bucket())
                    .key(target.key()).overrideConfiguration(target.limits()).build());
            if (now.contentLength() == 0 && createdEtag.equals(now.eTag())) {
                target.client().deleteObject(DeleteObjectRequest.builder().bucket(target.bucket()).key(target.key())
                        .ifMatch(createdEtag).overrideConfiguration(target.limits()).build());
            }
            return null;
        } catch (RuntimeException e) {
            if (S3Target.isNotFound(e) || S3Target.isConditionLost(e)) {
                return null;
            }
            return target.failure("removing the empty file made for the upload", e);
        }
    }

    /** Fails the upload with {@code e} unless it has failed or ended already; returns the failure to throw. */
    private IOException failed(IOException e) {
        lock.lock();
        try {
            return failedLocked(e);
        } finally {
            lock.unlock();
        }
    }

    private IOException failedLocked(IOException e) {
        if (state == State.OPEN) {
            state = State.FAILED;
            failure = e;
            for (Thread sender : senders) {
                sender.interrupt();
            }
            changed.signalAll();
            // A writer waiting for the budget asks its cancel test again.
            budget.wake();
            return e;
        }
        return failure != null ? failure : e;
    }

    /** Throws unless the upload is open; the lock is held. */
    private void ensureOpen() throws IOException {
        if (state != State.OPEN) {
            throw rethrown();
        }
    }

    /** The failure to throw to one more caller; the lock is held. */
    private IOException rethrown() {
        if (state == State.COMMITTED || state == State.COMMITTING) {
            return new IOException(target.path() + ": upload already committed");
        }
        if (failure instanceof InterruptedIOException) {
            InterruptedIOException again = new InterruptedIOException(failure.getMessage());
            again.initCause(failure);
            return again;
        }
        return new IOException(failure.getMessage(), failure);
    }

    /** Waits for a change; an interrupted wait fails the upload. The lock is held. */
    private void await() throws IOException {
        try {
            changed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failedLocked(new InterruptedIOException(target.path() + ": interrupted while sending"));
        }
    }

    /** What the transfer writes to: the upload itself. Closing it ends nothing: commit or abort does. */
    private final class Channel implements WritableByteChannel {
        @Override
        public int write(ByteBuffer src) throws IOException {
            return S3Upload.this.write(src);
        }

        @Override
        public boolean isOpen() {
            return state == State.OPEN;
        }

        @Override
        public void close() {
        }
    }
}
