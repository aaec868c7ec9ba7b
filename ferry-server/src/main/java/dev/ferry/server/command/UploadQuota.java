package dev.ferry.server.command;

import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.log.SessionEvents;
import dev.ferry.server.policy.Quota;
import dev.ferry.server.policy.QuotaLedger;
import dev.ferry.server.policy.QuotaReads;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.NoSuchFileException;

/**
 * One upload's part in its account's quota: the reservation made before its 150, the data connection wrapped
 * in {@link QuotaReads} while it runs, and at the end either the settlement (what the file system really
 * changed) or the release. Made on the control thread, then used by the transfer's thread only.
 *
 * @param start    the file's size before the first byte (0; REST's offset; APPE: the old size)
 * @param replaced the size of the file there when the upload started (0 when there was none)
 * @param created  no file was there when the upload started (STOU's empty file counts as none)
 */
record UploadQuota(QuotaLedger.Reservation reservation, Quota quota, Storage storage, VirtualPath path,
                   UploadMode mode, long start, long replaced, boolean created) {

    ReadableByteChannel reads(ReadableByteChannel in) {
        if (quota.bytes() == 0) {
            // Only files are limited: the bytes need no counting.
            return in;
        }
        return new QuotaReads(in, reservation, quota, start, replaced, path.toString());
    }

    /** What the commit replaces: the size of the file it takes the place of, and 1 if it makes a new file. */
    record Replaced(long size, long newFiles) {}

    /**
     * Right before the commit. A replacing upload asks the file system again, since another session may have
     * replaced or removed the file meanwhile; an in-place one wrote into the file it started with.
     */
    Replaced beforeCommit() throws IOException {
        if (mode != UploadMode.REPLACE && mode != UploadMode.CREATE) {
            return new Replaced(replaced, created ? 1 : 0);
        }
        try {
            FileInfo info = storage.stat(path);
            return info.type() == FileType.FILE ? new Replaced(info.size(), 0) : new Replaced(0, 1);
        } catch (NoSuchFileException e) {
            return new Replaced(0, 1);
        }
    }

    /** The upload was committed with {@code size} bytes in place of {@code replaced}. */
    void settle(long size, Replaced replaced, SessionEvents log) {
        try {
            reservation.settle(size - replaced.size(), replaced.newFiles());
        } catch (IOException e) {
            // The file is stored and the client gets its 226; the usage is off until the ledger is recounted.
            log.warn("quota-error").with("path", path).with("during", "settle").with("error", e.getMessage()).log();
        }
    }

    void release(SessionEvents log) {
        try {
            reservation.release();
        } catch (IOException e) {
            // The reservation's lease ends it (QuotaLedger.LEASE).
            log.warn("quota-error").with("path", path).with("during", "release").with("error", e.getMessage()).log();
        }
    }
}
