package dev.ferry.server.fs;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Absolute, normalized virtual path: "/" or "/a/b". An immutable value compared by segments.
 *
 * <p>Design: this is the first gate of the jail. Resolution is purely lexical and can only ever
 * produce segments below "/" ("..": pop, never above the root), so nothing a client types maps
 * outside the user's home before storage even looks at it. Storage then checks the real file system
 * (symbolic links) itself. Names are kept as Unicode text; "\" and "%2e%2e" are ordinary
 * characters, because FTP has no escaping and a name may legally contain them.
 */
public final class VirtualPath implements Comparable<VirtualPath> {
    /** Longest name, in UTF-8 bytes (NAME_MAX of common Unix file systems). */
    public static final int MAX_SEGMENT_BYTES = 255;
    /** Longest path, in UTF-8 bytes (PATH_MAX). */
    public static final int MAX_PATH_BYTES = 4096;
    /** Deepest path, in segments. */
    public static final int MAX_SEGMENTS = 256;

    public static final VirtualPath ROOT = new VirtualPath(List.of());

    private final List<String> segments;

    private VirtualPath(List<String> segments) {
        this.segments = segments;
    }

    /**
     * Resolves an FTP path argument against {@code cwd}: absolute ("/x") or relative ("x", "./x",
     * "../x"); repeated slashes collapse; ".." at the root stays at the root; a trailing slash is
     * ignored; an empty argument is {@code cwd}.
     */
    public static VirtualPath resolve(VirtualPath cwd, String argument) throws InvalidVirtualPathException {
        Objects.requireNonNull(cwd, "cwd");
        String arg = argument == null ? "" : argument;
        checkCharacters(arg);
        List<String> result = new ArrayList<>(arg.startsWith("/") ? List.of() : cwd.segments);
        int start = 0;
        while (start <= arg.length()) {
            int slash = arg.indexOf('/', start);
            int end = slash < 0 ? arg.length() : slash;
            String segment = arg.substring(start, end);
            switch (segment) {
                case "", "." -> { }
                case ".." -> {
                    // SECURITY: ".." at the root stays at the root; no argument can climb above "/".
                    if (!result.isEmpty()) {
                        result.removeLast();
                    }
                }
                default -> {
                    checkSegmentLength(segment);
                    result.add(segment);
                }
            }
            start = end + 1;
        }
        return checked(result);
    }

    /** An absolute path, e.g. "/a/b"; the same as {@code resolve(ROOT, absolute)}. */
    public static VirtualPath of(String absolute) throws InvalidVirtualPathException {
        return resolve(ROOT, absolute);
    }

    public boolean isRoot() {
        return segments.isEmpty();
    }

    /** The last segment; "/" for the root. */
    public String name() {
        return isRoot() ? "/" : segments.getLast();
    }

    /** The parent directory; the root's parent is the root. */
    public VirtualPath parent() {
        return isRoot() ? this : new VirtualPath(segments.subList(0, segments.size() - 1));
    }

    /** This path plus one name, which must be a single valid segment (not ".", "..", or containing "/"). */
    public VirtualPath child(String name) throws InvalidVirtualPathException {
        Objects.requireNonNull(name, "name");
        checkCharacters(name);
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0) {
            throw new InvalidVirtualPathException("Not a valid file name");
        }
        checkSegmentLength(name);
        List<String> result = new ArrayList<>(segments);
        result.add(name);
        return checked(result);
    }

    /** True if {@code other} is this path or one of its ancestors. */
    public boolean startsWith(VirtualPath other) {
        return other.segments.size() <= segments.size()
                && segments.subList(0, other.segments.size()).equals(other.segments);
    }

    public List<String> segments() {
        return segments;
    }

    /** Whether {@code name} is usable as one segment: what listings may show and clients may send back. */
    public static boolean isValidName(String name) {
        try {
            ROOT.child(name);
            return true;
        } catch (InvalidVirtualPathException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return isRoot() ? "/" : "/" + String.join("/", segments);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VirtualPath other && segments.equals(other.segments);
    }

    @Override
    public int hashCode() {
        return segments.hashCode();
    }

    /** Segment by segment, a path sorting before its descendants. */
    @Override
    public int compareTo(VirtualPath other) {
        int common = Math.min(segments.size(), other.segments.size());
        for (int i = 0; i < common; i++) {
            int c = segments.get(i).compareTo(other.segments.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(segments.size(), other.segments.size());
    }

    private static VirtualPath checked(List<String> segments) throws InvalidVirtualPathException {
        if (segments.size() > MAX_SEGMENTS) {
            throw new InvalidVirtualPathException("Path too deep (more than " + MAX_SEGMENTS + " levels)");
        }
        long bytes = 0;
        for (String s : segments) {
            bytes += 1 + utf8Length(s);
        }
        if (bytes > MAX_PATH_BYTES) {
            throw new InvalidVirtualPathException("Path too long (more than " + MAX_PATH_BYTES + " bytes)");
        }
        return segments.isEmpty() ? ROOT : new VirtualPath(Collections.unmodifiableList(segments));
    }

    // SECURITY: control characters (NUL, CR, LF, ...) are refused so a name can neither truncate a
    // native path at NUL nor inject lines into replies and listings; unpaired surrogates are refused
    // because they cannot be encoded and would alias another name ("?") on disk.
    private static void checkCharacters(String s) throws InvalidVirtualPathException {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20) {
                throw new InvalidVirtualPathException("Path contains a control character");
            }
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidVirtualPathException("Path is not valid Unicode");
            }
        }
    }

    private static void checkSegmentLength(String segment) throws InvalidVirtualPathException {
        if (utf8Length(segment) > MAX_SEGMENT_BYTES) {
            throw new InvalidVirtualPathException("File name too long (more than " + MAX_SEGMENT_BYTES + " bytes)");
        }
    }

    /** UTF-8 length of text already checked to hold no unpaired surrogates. */
    static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isSurrogate(c)) {
                bytes += 2; // each half of a pair: 4 bytes per code point
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
