package dev.ferry.runtime.net;

/**
 * Closing what may already be closed, or null, where a failure to close changes nothing (a session or a
 * connection that is ending anyway). One helper instead of a private copy in every class that needs it.
 */
public final class Closing {

    private Closing() {}

    /** Closes {@code c} if not null; whatever closing throws is dropped (best effort, nothing to report). */
    public static void quietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // best effort: the resource is being abandoned either way
        }
    }
}
