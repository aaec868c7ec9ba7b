package dev.ferry.runtime.net;

/**
 * Closing what is being given up anyway: a socket after a failure, a file after an aborted transfer. Its
 * failure has nobody left to tell, so it is ignored; one helper instead of a private copy in every class.
 */
public final class Closing {

    private Closing() {}

    /** Closes {@code resource} (null: nothing), ignoring a failure; keeps the thread's interrupt status. */
    public static void quietly(AutoCloseable resource) {
        if (resource == null) {
            return;
        }
        try {
            resource.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception ignored) {
            // best effort: the resource is being abandoned
        }
    }
}
