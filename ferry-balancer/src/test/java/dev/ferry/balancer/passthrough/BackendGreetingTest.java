package dev.ferry.balancer.passthrough;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackendGreetingTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            // whole replies (RFC 959 §4.2)
            "220 Ferry ready.\\r\\n                              | 220",
            "220\\r\\n                                           | 220",
            "421 Too many connections.\\r\\n                     | 421",
            "220-Welcome\\r\\n220 ready\\r\\n                     | 220",
            "220-Welcome\\r\\n 220 is not the end\\r\\n220 ready\\n| 220",
            "220 bare line feed\\n                              | 220",
            // not yet
            "''                                                | -1",
            "22                                                | -1",
            "220 Ferry rea                                     | -1",
            "220-Welcome\\r\\n                                 | -1",
            "220-Welcome\\r\\n220-still going\\r\\n              | -1",
            "220-Welcome\\r\\n220 no end of line               | -1",
            // never a greeting
            "HTTP/1.1 400 Bad Request\\r\\n                     | -2",
            "SSH-2.0-OpenSSH\\r\\n                              | -2",
            "2x0 ready\\r\\n                                    | -2",
            "620 ready\\r\\n                                    | -2",
            "220_ready\\r\\n                                    | -2",
            "22\\r\\n                                           | -2",
    })
    void aGreetingIsCompleteOnceItsLastLineArrived(String text, int code) {
        byte[] bytes = text.strip().replace("\\r", "\r").replace("\\n", "\n").getBytes(StandardCharsets.ISO_8859_1);

        assertThat(BackendGreeting.code(bytes)).isEqualTo(code);
    }
}
