package dev.ferry.cli;

/**
 * What a command that starts a service returns to {@link Main}: its exit code and whether a service now runs.
 * With one running, main() returns and the JVM lives on the service's own threads until the shutdown hook
 * (Ctrl-C, SIGTERM) stops it; otherwise main() exits with the code at once.
 *
 * @param shutdownHook the hook that stops the running service, or null; {@link #stop} runs it at once (tests
 *                     that start a service in their own JVM stop it so)
 */
record Started(int exitCode, boolean running, Thread shutdownHook) {

    Started(int exitCode, boolean running) {
        this(exitCode, running, null);
    }

    /** Nothing runs: the command failed with {@code exitCode}. */
    static Started failed(int exitCode) {
        return new Started(exitCode, false);
    }

    /** A service runs; {@code stop} runs at shutdown. */
    static Started running(Runnable stop) {
        Thread hook = new Thread(stop, "ferry-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        return new Started(0, true, hook);
    }

    /** Stops the running service now instead of at shutdown. */
    void stop() {
        if (shutdownHook != null && Runtime.getRuntime().removeShutdownHook(shutdownHook)) {
            shutdownHook.run();
        }
    }
}
