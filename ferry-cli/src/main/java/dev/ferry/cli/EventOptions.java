package dev.ferry.cli;

import dev.ferry.config.EventsSection;
import dev.ferry.server.events.EventSettings;
import picocli.CommandLine.Option;

/**
 * Upload, delete and rename events of {@code ferry server} and {@code ferry cluster}: each flag overrides its key
 * under {@code server.events} through the same rule (docs/policy.md, "Upload events").
 */
final class EventOptions {

    @Option(names = "--event-webhook", paramLabel = "URL",
            description = "POST each upload, delete and rename as JSON to URL (http or https), with retries; never delays "
                    + "a transfer's reply. Default: none.")
    String webhook;

    @Option(names = "--event-command", paramLabel = "CMD",
            description = "Run CMD (split at spaces, no shell) per upload, delete and rename, with the event's JSON on stdin "
                    + "and FERRY_EVENT, FERRY_PATH, FERRY_USER, ... in its environment. Default: none.")
    String command;

    /** The events after the flags; {@code current} is the file's (or the defaults). */
    EventSettings apply(EventSettings current) {
        EventSettings e = current;
        if (webhook != null) {
            e = e.withWebhook(Flags.parse("--event-webhook", webhook, EventsSection::webhook));
        }
        if (command != null) {
            e = e.withCommand(Flags.parse("--event-command", command, EventsSection::command));
        }
        return e;
    }
}
