package dev.ferry.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChrootHomeTest {

    private static final Path ROOT = Path.of("/srv/ftp");

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "NULL", value = {
            "NULL, /srv/ftp",
            "'', /srv/ftp",
            "/, /srv/ftp",
            "alice, /srv/ftp/alice",
            "/home/alice, /srv/ftp/home/alice",
            "//home//alice/, /srv/ftp/home/alice",
            "a/../b, /srv/ftp/b",
            "../etc, NULL",
            "/../../etc, NULL",
            "../ftp2, NULL",
            "'a\u0000b', NULL"})
    void aHomeIsReadBelowTheRootOrRefused(String home, String expected) {
        assertThat(ChrootHome.resolve(ROOT, home)).isEqualTo(expected == null ? null : Path.of(expected));
    }
}
