package dev.ferry.server.policy;

/** Bytes per second, up (uploads) and down (downloads); 0 is no limit. */
public record Bandwidth(long uploadPerSecond, long downloadPerSecond) {

    public static final Bandwidth UNLIMITED = new Bandwidth(0, 0);

    public Bandwidth {
        if (uploadPerSecond < 0 || downloadPerSecond < 0) {
            throw new IllegalArgumentException("a bandwidth cannot be negative: upload " + uploadPerSecond
                    + ", download " + downloadPerSecond);
        }
    }

    /** Whether either direction is limited. */
    public boolean limited() {
        return uploadPerSecond > 0 || downloadPerSecond > 0;
    }
}
