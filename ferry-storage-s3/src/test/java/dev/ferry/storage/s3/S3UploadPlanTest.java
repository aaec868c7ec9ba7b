package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** How APPE and REST n + STOR keep the old object's head: copy parts of at least 5 MiB, or one ranged read. */
class S3UploadPlanTest {

    private static final long MIB = 1024 * 1024;

    @ParameterizedTest(name = "keep {0} bytes, part size {1}: copies {2}, head {3}")
    @CsvSource(delimiter = '|', textBlock = """
            1         | 5242880 | ''                          | 1
            5242879   | 5242880 | ''                          | 5242879
            5242880   | 5242880 | 0+5242880                   | 0
            12582912  | 5242880 | 0+5242880 5242880+7340032   | 0
            7340032   | 8388608 | 0+7340032                   | 0
            20971520  | 8388608 | 0+8388608 8388608+12582912  | 0
            """)
    void keptHeads(long kept, int partSize, String copies, long head) {
        ObjectRebuild plan = ObjectRebuild.keep("\"e\"", kept, partSize);
        List<String> ranges = plan.copies().stream().map(r -> r.first() + "+" + r.length()).toList();
        assertThat(String.join(" ", ranges)).isEqualTo(copies);
        assertThat(plan.head()).isEqualTo(head);
        assertThat(plan.kept()).isEqualTo(kept);
    }

    @ParameterizedTest(name = "keep {0} MiB: every copy part but none is under 5 MiB, at most 1000 parts")
    @CsvSource({"5", "6", "4999", "5000", "5001", "123457", "5000000"})
    void everyCopyPartIsLargeEnoughAndTheyAreFew(long keptMib) {
        long kept = keptMib * MIB;
        ObjectRebuild plan = ObjectRebuild.keep("\"e\"", kept, 5 * 1024 * 1024);
        assertThat(plan.copies()).hasSizeLessThanOrEqualTo(ObjectRebuild.MAX_COPY_PARTS)
                .allSatisfy(r -> assertThat(r.length()).isBetween(5 * MIB, ObjectRebuild.MAX_COPY_PART));
        assertThat(plan.kept()).isEqualTo(kept);
        long next = 0;
        for (ObjectRebuild.Range r : plan.copies()) {
            assertThat(r.first()).isEqualTo(next);
            next += r.length();
        }
    }

    @ParameterizedTest
    @CsvSource({"0, 100, bytes=0-99", "5242880, 10, bytes=5242880-5242889"})
    void rangeHeaders(long first, long length, String header) {
        assertThat(new ObjectRebuild.Range(first, length).header()).isEqualTo(header);
    }
}
