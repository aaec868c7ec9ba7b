package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Uploads over TLS 1.3 by a client that never reads from the data connection (curl 7.88). A session ticket
 * sent there would stay unread; closing a socket with unread bytes makes the kernel reset it and drop the end
 * of the upload still queued on the client, which the server must then refuse (426). So data connections get
 * no ticket: before that, 5 of 6 such uploads of 1 MiB failed here.
 */
class FtpsUploadEndTest {

    private static final int SIZE = 1024 * 1024 + 3;

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    @Test
    void smallTls13UploadsByCurlAreStoredWhole() throws Exception {
        byte[] up = TestData.randomFile(ferry.clientDir().resolve("up.bin"), SIZE, 11);
        for (int i = 0; i < 6; i++) {
            ExternalCommand.run(ferry.clientDir(), Duration.ofSeconds(40), Map.of(), List.of("curl", "-sS", "--max-time", "30",
                    "--ssl-reqd", "-k", "--tlsv1.3", "-u", FerryServerExtension.USER + ":" + FerryServerExtension.PASSWORD,
                    "-T", "up.bin", ferry.url() + "/up" + i + ".bin")).assertSuccess();
            assertThat(TestData.sha256(ferry.root().resolve("up" + i + ".bin"))).as("upload %d", i).isEqualTo(TestData.sha256(up));
        }
    }
}
