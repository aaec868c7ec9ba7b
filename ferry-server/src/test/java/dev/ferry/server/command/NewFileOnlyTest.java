package dev.ferry.server.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.UploadMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The mode an upload opens with when the account may upload but not overwrite: a file found missing is opened as
 * new only, so one that appears between the stat and the open is neither replaced (STOR) nor appended to (APPE).
 */
class NewFileOnlyTest {

    @ParameterizedTest(name = "{0} exists={1} mayOverwrite={2} -> {3}")
    @CsvSource(delimiter = '|', textBlock = """
            REPLACE | false | false | CREATE
            APPEND  | false | false | CREATE
            REPLACE | false | true  | REPLACE
            APPEND  | false | true  | APPEND
            REPLACE | true  | true  | REPLACE
            APPEND  | true  | true  | APPEND
            RESUME  | true  | true  | RESUME
            UNIQUE  | false | false | UNIQUE
            CREATE  | false | false | CREATE
            """)
    void aMissingFileIsOpenedAsNewOnlyWithoutTheOverwriteRight(UploadMode asked, boolean exists, boolean mayOverwrite,
                                                                 UploadMode opened) {
        assertThat(TransferCommands.newFileOnly(asked, exists, mayOverwrite)).isEqualTo(opened);
    }
}
