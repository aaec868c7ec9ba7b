package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The banner's copy-paste lines: a certificate path must come back from the shell as it was printed. */
class BannerTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "/home/me/ferry-selfsigned-cert.pem | /home/me/ferry-selfsigned-cert.pem",
            "/home/me/my ftp/cert.pem           | '/home/me/my ftp/cert.pem'",
            "/home/it's/cert.pem                | '/home/it'\\''s/cert.pem'",
            "/tmp/$HOME/cert.pem                | '/tmp/$HOME/cert.pem'",
    })
    void shellWordsReadBackAsPrinted(String path, String printed) {
        assertThat(Banner.shellWord(path)).isEqualTo(printed);
    }
}
