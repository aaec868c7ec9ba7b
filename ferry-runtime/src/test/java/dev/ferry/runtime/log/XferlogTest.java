package dev.ferry.runtime.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class XferlogTest {

    private static final ZoneId ZONE = ZoneId.of("Europe/Paris");

    /** man 5 xferlog: 18 white-space separated fields, the first five of them the ctime date. */
    private static final Pattern XFERLOG = Pattern.compile(
            "\\w{3} \\w{3} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4} \\d+ \\S+ \\d+ \\S+ [ab] _ [oi] [ar] \\S+ ftp 0 \\* [ci]");

    @Test
    void downloadByARealUserInTheDocumentedFormat() {
        String line = Xferlog.line(ZonedDateTime.of(2026, 12, 7, 14, 5, 28, 0, ZONE), Duration.ofMillis(3_400),
                "192.0.2.7", 1_048_576, "/pub/a.iso", false, Xferlog.Direction.OUTGOING, false, "alice",
                Xferlog.Completion.COMPLETE);

        assertThat(line).isEqualTo("Mon Dec  7 14:05:28 2026 3 192.0.2.7 1048576 /pub/a.iso b _ o r alice ftp 0 * c");
        assertThat(line).matches(XFERLOG);
    }

    @Test
    void incompleteAsciiUploadByAnAnonymousUser() {
        String line = Xferlog.line(ZonedDateTime.of(2026, 11, 17, 9, 0, 1, 0, ZONE), Duration.ofSeconds(12),
                "2001:db8::7", 42, "/incoming/notes.txt", true, Xferlog.Direction.INCOMING, true, "anonymous",
                Xferlog.Completion.INCOMPLETE);

        assertThat(line).isEqualTo("Tue Nov 17 09:00:01 2026 12 2001:db8::7 42 /incoming/notes.txt a _ i a anonymous ftp 0 * i");
        assertThat(line).matches(XFERLOG);
    }

    @Test
    void spacesAndControlCharactersInANameCannotShiftTheFields() {
        String line = Xferlog.line(ZonedDateTime.of(2026, 1, 2, 3, 4, 5, 0, ZONE), Duration.ZERO, "127.0.0.2", 0,
                "/my file\tname\r\n.txt", false, Xferlog.Direction.INCOMING, false, "bob smith",
                Xferlog.Completion.COMPLETE);

        assertThat(line).isEqualTo("Fri Jan  2 03:04:05 2026 0 127.0.0.2 0 /my_file_name__.txt b _ i r bob_smith ftp 0 * c");
        assertThat(line.split(" +")).hasSize(18);
    }

    @Test
    void transferTimeIsWholeSecondsWithTheFractionDropped() {
        assertThat(Xferlog.seconds(Duration.ofMillis(999))).isZero();
        assertThat(Xferlog.seconds(Duration.ofMillis(1_999))).isEqualTo(1);
        assertThat(Xferlog.seconds(Duration.ofSeconds(3_600))).isEqualTo(3_600);
    }
}
