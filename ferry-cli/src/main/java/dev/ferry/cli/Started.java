package dev.ferry.cli;

/**
 * What a command that starts a service returns to {@link Main}: its exit code and whether a service now runs.
 * With one running, main() returns and the JVM lives on the service's own threads until the shutdown hook
 * (Ctrl-C, SIGTERM) stops it; otherwise main() exits with the code at once.
 */
record Started(int exitCode, boolean running) {

    /** Nothing runs: the command failed with {@code exitCode}. */
    static Started failed(int exitCode) {
        return new Started(exitCode, false);
    }

    /** A service runs; {@code stop} runs at shutdown. */
    static Started running(Runnable stop) {
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "ferry-shutdown"));
        return new Started(0, true);
    }
}
