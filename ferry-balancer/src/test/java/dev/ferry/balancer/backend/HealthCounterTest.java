package dev.ferry.balancer.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealthCounterTest {

    /** results: '+' ok, '-' failed; states: the state after each result, U or D. */
    @ParameterizedTest(name = "rise={0} fall={1} from {2}: {3} -> {4}")
    @CsvSource({
            "2, 2, UP,   +++,       UUU",
            "2, 2, UP,   -,         U",
            "2, 2, UP,   --,        UD",
            "2, 2, UP,   -+-,       UUU",      // a success between failures resets the streak
            "2, 2, UP,   -+--,      UUUD",
            "2, 2, UP,   ---,       UDD",
            "2, 2, UP,   --+,       UDD",      // one success is not enough to rise
            "2, 2, UP,   --++,      UDDU",
            "2, 2, UP,   --+-++,    UDDDDU",   // a failure while down resets the rise streak
            "1, 1, UP,   -+-+,      DUDU",
            "3, 1, DOWN, ++-+++,    DDDDDU",
            "1, 3, UP,   --+---,    UUUUUD",
            "2, 3, DOWN, ++---,     DUUUD",
    })
    void risesAndFallsOnStreaks(int rise, int fall, CheckState initial, String results, String states) {
        HealthCounter counter = new HealthCounter(rise, fall, initial);
        StringBuilder seen = new StringBuilder();
        for (char c : results.toCharArray()) {
            CheckState s = counter.record(c == '+');
            assertThat(counter.state()).isEqualTo(s);
            seen.append(s == CheckState.UP ? 'U' : 'D');
        }
        assertThat(seen.toString()).isEqualTo(states);
    }

    @Test
    void startsInTheGivenState() {
        assertThat(new HealthCounter(2, 2, CheckState.DOWN).state()).isEqualTo(CheckState.DOWN);
        assertThat(new HealthCounter(2, 2, CheckState.UP).state()).isEqualTo(CheckState.UP);
    }

    @Test
    void rejectsRiseOrFallBelowOne() {
        assertThatThrownBy(() -> new HealthCounter(0, 2, CheckState.UP)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HealthCounter(2, 0, CheckState.UP)).isInstanceOf(IllegalArgumentException.class);
    }
}
