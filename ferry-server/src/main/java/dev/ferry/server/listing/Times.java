package dev.ferry.server.listing;

import java.time.Instant;

/** Keeps odd file times printable: formats here assume a four-digit year. */
final class Times {
    static final Instant EARLIEST = Instant.parse("0000-01-01T00:00:00Z");
    static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999Z");

    private Times() {
    }

    static Instant clamp(Instant time) {
        return time.isBefore(EARLIEST) ? EARLIEST : time.isAfter(LATEST) ? LATEST : time;
    }
}
