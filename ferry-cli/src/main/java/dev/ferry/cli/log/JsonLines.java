package dev.ferry.cli.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import dev.ferry.runtime.json.JsonString;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.slf4j.event.KeyValuePair;

/**
 * The console line as one JSON object per line (JSON Lines), for jq and log shippers:
 * {@code {"time":"2026-12-07T14:07:36.123+00:00","level":"INFO","logger":"ferry.server","node":"s1",...}}.
 *
 * <p>After time, level and logger come the event's SLF4J key-value pairs in the order they were added
 * (Ferry's {@code Event} adds node, session, event, client, user, ... so), each a JSON string member. A line
 * without pairs (a library's own line) carries its text as {@code message}; a throwable adds {@code error},
 * the stack trace as text. Pairs are not checked for duplicate or reserved names: Ferry's events do not
 * use time, level or logger as field names.
 */
public final class JsonLines extends EncoderBase<ILoggingEvent> {

    // ISO-8601 with the offset and milliseconds, as the logfmt line's %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX}.
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");

    private final ZoneId zone;

    /** In the system's time zone, as the logfmt line. */
    public JsonLines() {
        this(ZoneId.systemDefault());
    }

    JsonLines(ZoneId zone) {
        this.zone = zone;
    }

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        StringBuilder json = new StringBuilder(256);
        json.append('{');
        member(json, "time", TIME.format(Instant.ofEpochMilli(event.getTimeStamp()).atZone(zone)));
        json.append(',');
        member(json, "level", event.getLevel().toString());
        json.append(',');
        member(json, "logger", event.getLoggerName());
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs == null || pairs.isEmpty()) {
            json.append(',');
            member(json, "message", event.getFormattedMessage());
        } else {
            for (KeyValuePair pair : pairs) {
                json.append(',');
                member(json, pair.key, String.valueOf(pair.value));
            }
        }
        IThrowableProxy error = event.getThrowableProxy();
        if (error != null) {
            json.append(',');
            member(json, "error", ThrowableProxyUtil.asString(error));
        }
        json.append("}\n");
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void member(StringBuilder json, String name, String value) {
        string(json, name);
        json.append(':');
        string(json, value);
    }

    /** A JSON string as RFC 8259 §7 requires, no more ({@link JsonString.Escaping#MINIMAL}: a log stays readable). */
    static void string(StringBuilder json, String s) {
        JsonString.quote(json, s, JsonString.Escaping.MINIMAL);
    }
}
