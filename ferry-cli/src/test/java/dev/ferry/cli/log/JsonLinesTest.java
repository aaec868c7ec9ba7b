package dev.ferry.cli.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.event.KeyValuePair;

class JsonLinesTest {

    private final LoggerContext context = new LoggerContext();
    private final Logger logger = context.getLogger("ferry.server");
    private final JsonLines encoder = new JsonLines(ZoneOffset.ofHours(1));

    private LoggingEvent event(String message, Throwable error, String... keyValues) {
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.WARN, message, error, null);
        event.setTimeStamp(1_796_652_456_123L); // 2026-12-07T14:07:36.123Z
        for (int i = 0; i < keyValues.length; i += 2) {
            event.addKeyValuePair(new KeyValuePair(keyValues[i], keyValues[i + 1]));
        }
        return event;
    }

    private String encode(LoggingEvent event) {
        return new String(encoder.encode(event), StandardCharsets.UTF_8);
    }

    @Test
    void keyValuePairsBecomeMembersInTheirOrderAfterTimeLevelLogger() {
        String line = encode(event("node=s1 session=c7 event=login-failed", null,
                "node", "s1", "session", "c7", "event", "login-failed", "client", "[2001:db8::1]:40112", "user", "-"));
        assertThat(line).isEqualTo("{\"time\":\"2026-12-07T15:07:36.123+01:00\",\"level\":\"WARN\",\"logger\":\"ferry.server\","
                + "\"node\":\"s1\",\"session\":\"c7\",\"event\":\"login-failed\",\"client\":\"[2001:db8::1]:40112\",\"user\":\"-\"}\n");
    }

    @Test
    void utcTimeHasZeroOffsetWrittenAsZ() {
        String line = new String(new JsonLines(ZoneId.of("UTC")).encode(event("x", null)), StandardCharsets.UTF_8);
        assertThat(line).startsWith("{\"time\":\"2026-12-07T14:07:36.123Z\",");
    }

    @Test
    void lineWithoutPairsCarriesItsMessage() {
        assertThat(encode(event("Started in 1 ms", null)))
                .isEqualTo("{\"time\":\"2026-12-07T15:07:36.123+01:00\",\"level\":\"WARN\",\"logger\":\"ferry.server\","
                        + "\"message\":\"Started in 1 ms\"}\n");
    }

    @Test
    void throwableIsTheStackTraceAsOneEscapedMember() {
        String line = encode(event("node=s1 event=internal-error", new IllegalStateException("broken \"state\""),
                "node", "s1", "event", "internal-error"));
        assertThat(line).contains("\"event\":\"internal-error\",\"error\":\"java.lang.IllegalStateException: broken \\\"state\\\"\\n\\tat ");
        assertThat(line).endsWith("}\n");
        assertThat(line.indexOf('\n')).as("one line").isEqualTo(line.length() - 1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
            "quote and backslash | a\"b\\c      | '\"a\\\"b\\\\c\"'",
            "solidus stays       | a/b          | '\"a/b\"'",
            "non-ASCII as UTF-8  | Zoë 東京       | '\"Zoë 東京\"'",
            "astral pair         | x\uD83D\uDE00y | '\"x\uD83D\uDE00y\"'",
    })
    void escapesAsRfc8259Section7(String name, String value, String json) {
        StringBuilder out = new StringBuilder();
        JsonLines.string(out, value);
        assertThat(out.toString()).isEqualTo(json);
    }

    @Test
    void escapesEveryControlCharacter() {
        StringBuilder out = new StringBuilder();
        JsonLines.string(out, "\u0000\u0001\b\t\n\u000b\f\r\u001b\u001f \u007f");
        assertThat(out.toString()).isEqualTo("\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001b\\u001f \u007f\"");
    }

    @Test
    void loneSurrogatesAreEscapedNotReplaced() {
        StringBuilder out = new StringBuilder();
        JsonLines.string(out, "a\uD800b\uDC00");
        assertThat(out.toString()).isEqualTo("\"a\\ud800b\\udc00\"");
    }

    @Test
    void anInjectedNewlineInAValueCannotStartASecondLine() {
        String line = encode(event("x", null, "event", "login-failed", "user", "x\n{\"event\":\"login\"}"));
        assertThat(line.lines()).hasSize(1);
        assertThat(line).contains("\"user\":\"x\\n{\\\"event\\\":\\\"login\\\"}\"");
    }
}
