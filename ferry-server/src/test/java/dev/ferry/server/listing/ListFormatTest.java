package dev.ferry.server.listing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.fs.FileInfo;
import dev.ferry.server.fs.FileType;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ListFormatTest {
    private static final Instant NOW = Instant.parse("2026-11-24T22:00:00Z");

    @ParameterizedTest(name = "[{index}] {0} {1} {2} {3} {4}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            FILE      | rw-r--r-- | 1  | 1234        | 2026-11-24T21:56:00Z     | name             | "-rw-r--r--   1 ftp      ftp          1234 Nov 24 21:56 name"
            DIRECTORY | rwxr-xr-x | 3  | 4096        | 2026-06-01T08:05:59Z     | docs             | "drwxr-xr-x   3 ftp      ftp          4096 Jun  1 08:05 docs"
            OTHER     | rw-rw-rw- | 1  | 0           | 2026-11-01T00:00:00Z     | fifo             | "?rw-rw-rw-   1 ftp      ftp             0 Nov  1 00:00 fifo"
            FILE      | rw------- | 12 | 0           | 2019-03-05T10:00:00Z     | old.txt          | "-rw-------  12 ftp      ftp             0 Mar  5  2019 old.txt"
            FILE      | rw-r--r-- | 1  | 123456789012| 2026-11-24T21:56:00Z     | big.iso          | "-rw-r--r--   1 ftp      ftp      123456789012 Nov 24 21:56 big.iso"
            FILE      | rw-r--r-- | 1  | 5           | 2026-11-24T21:56:00Z     | two  spaces .txt | "-rw-r--r--   1 ftp      ftp             5 Nov 24 21:56 two  spaces .txt"
            FILE      | rw-r--r-- | 1  | 5           | 2026-11-24T21:56:00Z     | 日本語.txt        | "-rw-r--r--   1 ftp      ftp             5 Nov 24 21:56 日本語.txt"
            FILE      | rw-r--r-- | 1  | 5           | 2026-05-29T00:00:00Z     | recent-edge      | "-rw-r--r--   1 ftp      ftp             5 May 29 00:00 recent-edge"
            FILE      | rw-r--r-- | 1  | 5           | 2026-05-28T22:00:00Z     | 180-days-ago     | "-rw-r--r--   1 ftp      ftp             5 May 28  2026 180-days-ago"
            FILE      | rw-r--r-- | 1  | 5           | 2026-11-24T22:00:00Z     | now              | "-rw-r--r--   1 ftp      ftp             5 Nov 24 22:00 now"
            FILE      | rw-r--r-- | 1  | 5           | 2026-11-24T22:00:01Z     | future           | "-rw-r--r--   1 ftp      ftp             5 Nov 24  2026 future"
            FILE      | rw-r--r-- | 1  | 5           | 1970-01-01T00:00:00Z     | epoch            | "-rw-r--r--   1 ftp      ftp             5 Jan  1  1970 epoch"
            FILE      | rw-r--r-- | 1  | 5           | +12000-01-01T00:00:00Z   | far-future       | "-rw-r--r--   1 ftp      ftp             5 Dec 31  9999 far-future"
            """)
    void formatsLikeLsMinusL(FileType type, String permissions, int links, long size, String modified, String name,
                             String expected) {
        FileInfo info = new FileInfo(name, type, size, Instant.parse(modified), permissions, links, "id");

        assertThat(ListFormat.listLine(info, NOW)).isEqualTo(expected);
    }
}
