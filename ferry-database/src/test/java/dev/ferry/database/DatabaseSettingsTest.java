package dev.ferry.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The URL rules, without a database. */
class DatabaseSettingsTest {

    /** A refused URL is quoted in the error, which reaches the terminal and the journal: never its password. */
    @ParameterizedTest
    @ValueSource(strings = {"postgres://ferry:hunter2@db.example/ferry", "postgresql://ferry:hunter2@db.example",
            "jdbc:postgresql://ferry:hunter2@db.example/ferry", "mysql://ferry:hunter2@db.example:3306/ferry"})
    void aRefusedUrlIsQuotedWithoutItsPassword(String url) {
        assertThatThrownBy(() -> DatabaseSettings.jdbcUrl(url)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("hunter2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql://db.example:5432/ferry", "jdbc:postgresql://db.example/ferry?sslmode=require"})
    void aUrlWithHostAndDatabaseIsTakenInItsJdbcForm(String url) {
        assertThat(DatabaseSettings.jdbcUrl(url)).startsWith("jdbc:postgresql://db.example");
    }
}
