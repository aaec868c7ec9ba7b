package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Quota;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Quotas with the files on S3 ({@link Shape#OBJECT_STORE}): the usage is counted from the store's listing, an
 * upload past the quota is refused (552) and its multipart upload cancelled, so the object store holds what it
 * held; an upload within it is settled at the size the store reports.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class QuotaObjectStoreTest {

    private static final Quota QUOTA = new Quota(1024 * 1024, 4);

    /** {@link FerryServerExtension} on the run's S3Proxy, alice with {@link #QUOTA}. */
    static final class OnObjectStore implements BeforeEachCallback, AfterEachCallback {
        final FerryServerExtension ferry = new FerryServerExtension().configure(s -> s.withUsers(List.of(
                new ServerSettings.UserAccount(FerryServerExtension.USER,
                        FerryServerExtension.hash(FerryServerExtension.PASSWORD), null, true, true)
                        .withPolicy(AccountPolicy.NONE.withQuota(QUOTA))), null));

        @Override
        public void beforeEach(ExtensionContext context) throws Exception {
            ferry.onObjectStore(ObjectStoreFixture.shared(context)).open();
        }

        @Override
        public void afterEach(ExtensionContext context) throws Exception {
            ferry.close();
        }
    }

    @RegisterExtension
    final OnObjectStore store = new OnObjectStore();
    private final CommonsNetClients clients = new CommonsNetClients();

    private List<String> siteQuota(FTPClient c) throws Exception {
        assertThat(c.sendCommand("SITE QUOTA")).isEqualTo(200);
        return Arrays.stream(c.getReplyStrings()).map(String::stripTrailing).toList();
    }

    @Test
    void usageIsCountedFromTheListingAndUploadsSettleOrAreRefused() throws Exception {
        FerryServerExtension ferry = store.ferry;
        Files.createDirectories(ferry.root().resolve("d"));
        TestData.randomFile(ferry.root().resolve("d/old.bin"), 300_000, 1);
        FTPClient c = clients.loggedIn(ferry);

        assertThat(siteQuota(c)).contains(" 300000 bytes used (28%) - authorized: 1048576 bytes",
                " 1 files used (25%) - authorized: 4 files");

        assertThat(c.storeFile("new.bin", new ByteArrayInputStream(TestData.random(200_000, 2)))).isTrue();
        assertThat(c.storeFile("d/old.bin", new ByteArrayInputStream(TestData.random(100_000, 3)))).isTrue();
        assertThat(siteQuota(c)).as("the overwrite counts its new size less the old")
                .contains(" 300000 bytes used (28%) - authorized: 1048576 bytes",
                        " 2 files used (50%) - authorized: 4 files");

        // 2 MiB in one go: Commons Net may see its writes fail when the server stops reading; the reply says 552.
        try {
            c.storeFile("big.bin", new ByteArrayInputStream(TestData.random(2 * 1024 * 1024, 4)));
        } catch (java.io.IOException e) {
            c.getReply();
        }
        assertThat(CommonsNetClients.reply(c)).startsWith("552 Quota exceeded (1048576 bytes, 4 files): /big.bin");
        assertThat(TestData.names(ferry.root())).containsExactlyInAnyOrder("d", "new.bin");
        assertThat(Files.size(ferry.root().resolve("d/old.bin"))).isEqualTo(100_000);
        assertThat(siteQuota(c)).contains(" 300000 bytes used (28%) - authorized: 1048576 bytes",
                " Reserved by uploads in progress: 0 bytes, 0 files");
    }
}
