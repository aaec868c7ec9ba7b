package dev.ferry.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.data.TransferRefusedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QuotaReadsTest {

    private static final QuotaLedger.Owner OWNER = new QuotaLedger.Owner("n", "i", "s");

    /** A data connection that delivers {@code total} bytes in reads of {@code chunk}. */
    private static ReadableByteChannel source(long total, int chunk) {
        return new ReadableByteChannel() {
            long left = total;

            @Override
            public int read(ByteBuffer dst) {
                if (left == 0) {
                    return -1;
                }
                int n = (int) Math.min(Math.min(chunk, left), dst.remaining());
                dst.position(dst.position() + n);
                left -= n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
    }

    /** Counts the ledger's grow calls (its round trips) and what each asked. */
    private static final class Counting implements QuotaLedger.Reservation {
        final QuotaLedger.Reservation inner;
        final List<Long> asked = new ArrayList<>();

        Counting(QuotaLedger.Reservation inner) {
            this.inner = inner;
        }

        @Override public long bytes() { return inner.bytes(); }
        @Override public boolean grow(Quota quota, long more) throws IOException {
            asked.add(more);
            return inner.grow(quota, more);
        }
        @Override public void renew() throws IOException { inner.renew(); }
        @Override public void settle(long bytes, long files) throws IOException { inner.settle(bytes, files); }
        @Override public void release() throws IOException { inner.release(); }
    }

    private static long drain(ReadableByteChannel in) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        long total = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            total += n;
            buffer.clear();
        }
        return total;
    }

    private static Counting reservation(MemoryQuotaLedger ledger, Quota quota, long used) throws IOException {
        ledger.open("u", () -> new QuotaLedger.Counted(used, 0));
        return new Counting(ledger.reserve("u", quota, OWNER, 1, 1));
    }

    @ParameterizedTest(name = "growth of {1} bytes at {0} into a file of {2}: {3}")
    @CsvSource({
            "0, 1000, 0, 1000",        // a new file
            "0, 1000, 5000, 0",        // STOR over a larger file: no growth
            "0, 7000, 5000, 2000",     // STOR over a smaller one
            "5000, 1000, 5000, 1000",  // APPE
            "3000, 1000, 5000, 0",     // REST 3000 + STOR, within the old size
    })
    void growthIsTheFilesSizeLessTheReplacedFile(long start, long received, long replaced, long growth) {
        assertThat(QuotaReads.growth(start, received, replaced)).isEqualTo(growth);
    }

    /** Steps double from 1 MiB to 8 MiB: a 100 MiB upload under a large quota costs 15 round trips, not one per read. */
    @Test
    void aLargeUploadGrowsInDoublingSteps() throws IOException {
        Quota quota = new Quota(1L << 40, 0);
        Counting r = reservation(new MemoryQuotaLedger(), quota, 0);

        assertThat(drain(new QuotaReads(source(100L << 20, 8192), r, quota, 0, 0, "/f"))).isEqualTo(100L << 20);

        assertThat(r.asked).startsWith(1L << 20, 2L << 20, 4L << 20, 8L << 20, 8L << 20).hasSize(15);
    }

    /** Steps are at most 1/64 of a small quota, and the last one is exactly what is missing. */
    @Test
    void nearTheLimitTheStepShrinksToWhatIsMissing() throws IOException {
        Quota quota = new Quota(64 * 4096 + 100, 0);
        MemoryQuotaLedger ledger = new MemoryQuotaLedger();
        Counting r = reservation(ledger, quota, 0);

        assertThat(drain(new QuotaReads(source(64 * 4096 + 99, 1000), r, quota, 0, 0, "/f"))).isEqualTo(64 * 4096 + 99);

        assertThat(r.asked).allMatch(step -> step <= quota.bytes() / 64);
        assertThat(ledger.usage("u", quota).bytesReserved()).isEqualTo(64 * 4096 + 99);
    }

    @Test
    void oneByteOverTheQuotaIsRefusedWith552() throws IOException {
        Quota quota = new Quota(10_000, 0);
        MemoryQuotaLedger ledger = new MemoryQuotaLedger();
        Counting r = reservation(ledger, quota, 2_000);
        QuotaReads in = new QuotaReads(source(8_001, 100), r, quota, 0, 0, "/f");

        assertThatThrownBy(() -> drain(in)).isInstanceOfSatisfying(TransferRefusedException.class, e -> {
            assertThat(e.reason()).isEqualTo("quota");
            assertThat(e.reply().code()).isEqualTo(552);
            assertThat(e.reply().lines()).containsExactly("Quota exceeded (10000 bytes): /f was not stored.");
        });
        assertThat(ledger.usage("u", quota).bytesReserved()).as("held up to the limit, not past it").isEqualTo(8_000);
    }
}
