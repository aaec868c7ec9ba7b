package dev.ferry.balancer.admin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The values of {@code /api/users} bodies, value by value: sizes with binary units, homes kept under the root. */
class UsersApiValuesTest {

    @ParameterizedTest
    @CsvSource({"0, 0", "512, 512", "1KiB, 1024", "10MiB, 10485760", "10GiB, 10737418240", "2TiB, 2199023255552",
            "' 7B ', 7"})
    void sizesAreBytesOrABinaryUnit(String text, long bytes) {
        assertThat(UsersApi.size(text)).isEqualTo(bytes);
        assertThat(UsersApi.size(bytes)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10MB", "10 GiB", "1.5GiB", "-1", "ten", "", "9999999999TiB", "1234567890123456789"})
    void otherSizesAreRefused(String text) {
        assertThat(UsersApi.size(text)).isNull();
    }

    @org.junit.jupiter.api.Test
    void aNegativeNumberOrAnotherTypeIsNoSize() {
        assertThat(UsersApi.size(-1L)).isNull();
        assertThat(UsersApi.size(1.5)).isNull();
        assertThat(UsersApi.size(true)).isNull();
        assertThat(UsersApi.size(null)).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "customers/alice", "a..b", ".hidden"})
    void homesUnderTheRootAreTaken(String home) {
        assertThat(UsersApi.homeProblem(home)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/etc", "..", "../etc", "a/../../etc", "a/..", " ", "a\nb"})
    void homesThatCouldLeaveTheRootAreRefused(String home) {
        assertThat(UsersApi.homeProblem(home)).isNotNull();
    }
}
