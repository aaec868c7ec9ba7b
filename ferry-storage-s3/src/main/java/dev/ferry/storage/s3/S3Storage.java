package dev.ferry.storage.s3;

import dev.ferry.server.fs.DirectoryListing;
import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.Upload;
import dev.ferry.server.fs.UploadMode;
import dev.ferry.server.fs.VirtualPath;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.time.Instant;
import software.amazon.awssdk.services.s3.S3Client;

/** SKELETON (helper s3-read replaces this): one home on the object store, a key prefix. */
final class S3Storage implements Storage {

    private final S3Client client;
    private final ObjectStore store;
    private final String prefix;
    private final UploadBudget budget;

    S3Storage(S3Client client, ObjectStore store, String prefix, UploadBudget budget) {
        this.client = client;
        this.store = store;
        this.prefix = prefix;
        this.budget = budget;
    }

    @Override public FileInfo stat(VirtualPath path) throws IOException { throw new UnsupportedOperationException(); }
    @Override public DirectoryListing list(VirtualPath directory) throws IOException { throw new UnsupportedOperationException(); }
    @Override public SeekableByteChannel openRead(VirtualPath file, long offset) throws IOException { throw new UnsupportedOperationException(); }
    @Override public Upload openUpload(VirtualPath file, UploadMode mode, long offset) throws IOException {
        return S3Uploads.open(client, store, budget, prefix, file, mode, offset);
    }
    @Override public VirtualPath createUnique(VirtualPath directory, String hint) throws IOException { throw new UnsupportedOperationException(); }
    @Override public void createDirectory(VirtualPath dir) throws IOException { throw new UnsupportedOperationException(); }
    @Override public void removeDirectory(VirtualPath dir) throws IOException { throw new UnsupportedOperationException(); }
    @Override public void delete(VirtualPath file) throws IOException { throw new UnsupportedOperationException(); }
    @Override public void rename(VirtualPath from, VirtualPath to) throws IOException { throw new UnsupportedOperationException(); }
    @Override public void setLastModified(VirtualPath path, Instant time) throws IOException { throw new UnsupportedOperationException(); }
}
