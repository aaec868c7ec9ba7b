package dev.ferry.server.policy;

/**
 * How much an account may keep stored: bytes and files, each 0 for no limit. Counted across every server
 * (docs/policy.md); over it an upload gets 552 (RFC 959 §4.2: "exceeded storage allocation").
 */
public record Quota(long bytes, long files) {

    public static final Quota NONE = new Quota(0, 0);

    public Quota {
        if (bytes < 0 || files < 0) {
            throw new IllegalArgumentException("a quota cannot be negative: bytes " + bytes + ", files " + files);
        }
    }

    /** Whether either limit is set. */
    public boolean limited() {
        return bytes > 0 || files > 0;
    }
}
