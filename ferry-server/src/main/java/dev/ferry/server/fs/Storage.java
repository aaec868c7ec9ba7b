package dev.ferry.server.fs;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.time.Instant;

/**
 * One user's view of storage, jailed at its root. Protocol code talks to this interface only, so
 * another backend (object storage) can be added without touching it.
 *
 * <p>Every method takes virtual paths only, and exceptions carry virtual paths only: the client must
 * not learn where the jail is. Missing paths and paths that would leave the jail both throw
 * {@link java.nio.file.NoSuchFileException} with the virtual path, so a client cannot probe what
 * lies outside.
 */
public interface Storage {
    FileInfo stat(VirtualPath path) throws IOException;

    /** Streams the entries of a directory; {@link java.nio.file.NotDirectoryException} for a file. */
    DirectoryListing list(VirtualPath directory) throws IOException;

    /**
     * Reads a regular file from {@code offset}. LocalStorage returns a
     * {@link java.nio.channels.FileChannel} so the caller can use transferTo (sendfile).
     */
    SeekableByteChannel openRead(VirtualPath file, long offset) throws IOException;

    /** {@code offset} matters for {@link UploadMode#RESUME} only. */
    Upload openUpload(VirtualPath file, UploadMode mode, long offset) throws IOException;

    /** STOU: atomically creates a new empty file with a unique name in directory (based on hint) and returns it. */
    VirtualPath createUnique(VirtualPath directory, String hint) throws IOException;

    /** {@link java.nio.file.FileAlreadyExistsException} if the name exists. */
    void createDirectory(VirtualPath dir) throws IOException;

    /** {@link java.nio.file.DirectoryNotEmptyException}, {@link java.nio.file.NotDirectoryException}; never the root. */
    void removeDirectory(VirtualPath dir) throws IOException;

    /** Deletes a file (or a link); a directory gives an IOException "Is a directory". */
    void delete(VirtualPath file) throws IOException;

    /** Replaces an existing file; never over a directory; never the root. */
    void rename(VirtualPath from, VirtualPath to) throws IOException;

    void setLastModified(VirtualPath path, Instant time) throws IOException;

    /**
     * The digest of {@code file}'s whole content that the storage already keeps ({@code algorithm} as HASH names
     * it: "SHA-256", "SHA-1", "MD5"), so HASH need not read the file; null when it keeps none for it, and the
     * caller reads and digests the file. Only a digest of exactly the bytes a read would return may be given: an
     * object store's checksum of checksums (a multipart upload's composite) is not one. Local files keep none.
     * Null also when {@code file} is no file (missing, a directory): HASH asks this before its stat.
     */
    default StoredHash storedHash(VirtualPath file, String algorithm) throws IOException {
        return null;
    }

    /** A stored digest, lowercase hex, and the size of the content it is of (read in the same request). */
    record StoredHash(String hex, long size) {
        public StoredHash {
            if (!hex.matches("[0-9a-f]+")) {
                throw new IllegalArgumentException("not lowercase hex: " + hex);
            }
            if (size < 0) {
                throw new IllegalArgumentException("negative size " + size);
            }
        }
    }
}
