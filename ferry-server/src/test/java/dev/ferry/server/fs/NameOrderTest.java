package dev.ferry.server.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NameOrderTest {
    @ParameterizedTest(name = "{0} before {1}")
    @CsvSource({
            "A, a",             // upper case first, like C's strcmp in the C locale
            "B, a",
            "a, aa",            // a prefix first
            "a.txt, a0",        // '.' (U+002E) before '0'
            "Z, é",
            "z, é",
            "\uFFFD, \uD83D\uDE00", // U+FFFD before U+1F600: code points, not UTF-16 units
            "\uE000, \uD83D\uDE00",
    })
    void ordersByCodePoint(String first, String second) {
        assertThat(NameOrder.compare(first, second)).isNegative();
        assertThat(NameOrder.compare(second, first)).isPositive();
        assertThat(NameOrder.compare(first, first)).isZero();
    }

    @ParameterizedTest
    @CsvSource({"\uE000, \uD83D\uDE00"})
    void differsFromStringCompareToAboveTheBasicPlane(String privateUse, String emoji) {
        assertThat(privateUse.compareTo(emoji)).isPositive();
        assertThat(NameOrder.compare(privateUse, emoji)).isNegative();
    }

    @ParameterizedTest
    @CsvSource({"b;A;a;é;B;_;1, 1;A;B;_;a;b;é"})
    void sortsAListLikeVsftpd(String given, String expected) {
        List<String> names = new ArrayList<>(List.of(given.split(";")));
        names.sort(NameOrder.CODE_POINTS);
        assertThat(names).containsExactly(expected.split(";"));
    }
}
