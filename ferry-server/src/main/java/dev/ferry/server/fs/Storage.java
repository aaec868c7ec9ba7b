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
}
