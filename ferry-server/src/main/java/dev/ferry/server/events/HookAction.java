package dev.ferry.server.events;

/** Where an event is delivered: a webhook or a command. One call is one attempt; {@link EventHooks} retries. */
public interface HookAction {

    /** The action's name in log lines and metrics: webhook or command. */
    String name();

    /** What the action reaches, as it may be logged (never a secret). */
    String describe();

    /** One attempt to deliver {@code event}. Interrupted: the server is stopping. */
    Attempt deliver(FileEvent event) throws InterruptedException;

    /**
     * How one attempt went. {@code key=value} is what the log line says of it: {@code status=200} (HTTP),
     * {@code exit=0} (a command), {@code error=timeout}.
     *
     * @param retry whether another attempt may succeed (false: a 4xx, the request itself is refused)
     */
    record Attempt(boolean delivered, boolean retry, String key, String value) {
        static Attempt delivered(String key, String value) {
            return new Attempt(true, false, key, value);
        }

        static Attempt failed(String key, String value) {
            return new Attempt(false, true, key, value);
        }

        static Attempt refused(String key, String value) {
            return new Attempt(false, false, key, value);
        }
    }
}
