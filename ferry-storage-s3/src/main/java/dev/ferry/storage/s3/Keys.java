package dev.ferry.storage.s3;

import dev.ferry.server.fs.NameOrder;
import dev.ferry.server.fs.VirtualPath;
import java.util.Comparator;
import java.util.Optional;

/**
 * Virtual paths of one home and the object keys that hold them.
 *
 * <p>A file {@code /a/b} is the object {@code PREFIX + "a/b"}. A directory {@code /a} is the key prefix
 * {@code PREFIX + "a/"}: it exists when some key starts with it, and {@code mkdir} puts the zero-byte marker
 * object of that very name ({@code "a/"}), the convention s3fs, rclone and the S3 console share, so that an empty
 * directory exists too. The home's root ({@code PREFIX}, ending in "/", or "" for the whole bucket) always exists.
 *
 * <p>SECURITY: the jail is lexical. Every key is the home prefix followed by the segments of a
 * {@link VirtualPath}, which holds no "", "." or ".." segment and no "/" inside a segment, so no key made here
 * lies outside the prefix, and a key read back from a listing becomes a name only when it is one valid segment.
 */
final class Keys {

    /** The order of S3 listings: UTF-8 byte order of the keys, which is Unicode code-point order. */
    static final Comparator<String> ORDER = NameOrder.CODE_POINTS;

    private final String prefix;

    /** @param prefix the home's prefix: "" or ending in "/" */
    Keys(String prefix) {
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            throw new IllegalArgumentException("a home prefix ends with '/'");
        }
        this.prefix = prefix;
    }

    String prefix() {
        return prefix;
    }

    /** The object of a file (for the root: the home prefix itself, which is never a file). */
    String file(VirtualPath path) {
        return path.isRoot() ? prefix : prefix + String.join("/", path.segments());
    }

    /** The prefix below which a directory's entries lie, which is also the name of its marker object. */
    String directory(VirtualPath path) {
        return path.isRoot() ? prefix : file(path) + "/";
    }

    /**
     * The entry name a listing of the directory {@code directoryPrefix} shows for {@code key} (an object, or a
     * common prefix ending in "/"); empty when the key is the directory's own marker or its rest is no valid name
     * (as "" from a key "a//b", "..", a control character: such a key cannot be named over FTP).
     */
    static Optional<String> entryName(String directoryPrefix, String key) {
        if (!key.startsWith(directoryPrefix)) {
            return Optional.empty();
        }
        String rest = key.substring(directoryPrefix.length());
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        return VirtualPath.isValidName(rest) ? Optional.of(rest) : Optional.empty();
    }

    /**
     * The path below {@code to} of a key below {@code from}'s prefix (a directory being renamed):
     * {@code PREFIX/from/x/y} gives {@code PREFIX/to/x/y}. A marker keeps its trailing "/".
     */
    String moved(String key, VirtualPath from, VirtualPath to) {
        String source = directory(from);
        if (!key.startsWith(source)) {
            throw new IllegalArgumentException("key not below the directory being renamed");
        }
        return directory(to) + key.substring(source.length());
    }
}
