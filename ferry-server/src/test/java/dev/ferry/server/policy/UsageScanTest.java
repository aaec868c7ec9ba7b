package dev.ferry.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.fs.LocalStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageScanTest {

    @TempDir
    Path home;

    @Test
    void countsRegularFilesInTheWholeTree() throws IOException {
        Files.write(home.resolve("a"), new byte[100]);
        Files.createDirectories(home.resolve("d/e/f"));
        Files.write(home.resolve("d/b"), new byte[20]);
        Files.write(home.resolve("d/e/f/c"), new byte[3]);
        Files.createDirectory(home.resolve("empty"));

        assertThat(UsageScan.count(new LocalStorage(home))).isEqualTo(new QuotaLedger.Counted(123, 3));
    }

    @Test
    void anEmptyHomeHoldsNothing() throws IOException {
        assertThat(UsageScan.count(new LocalStorage(home))).isEqualTo(new QuotaLedger.Counted(0, 0));
    }

    /** Past the bound the count fails rather than report a part of the tree as the whole. */
    @Test
    void aTreeLargerThanTheBoundIsNotCounted() throws IOException {
        for (int i = 0; i < 11; i++) {
            Files.write(home.resolve("f" + i), new byte[1]);
        }

        assertThat(UsageScan.count(new LocalStorage(home), 11).files()).isEqualTo(11);
        assertThatThrownBy(() -> UsageScan.count(new LocalStorage(home), 10))
                .isInstanceOf(IOException.class).hasMessageContaining("more than 10 entries");
    }
}
