package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.fs.LocalStorage;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.StorageEngine;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.MemoryQuotaLedger;
import dev.ferry.server.policy.Quota;
import dev.ferry.server.policy.QuotaLedger;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quota commands and refusals that need no data connection, over an in-memory control connection: alice may
 * keep 1000 bytes in 3 files; her home holds 2 files of 300 and 100 bytes when she logs in.
 */
class SessionQuotaTest {

    @TempDir
    Path root;
    private InMemoryServer server;
    private ControlClient c;

    @BeforeEach
    void start() throws Exception {
        Files.write(root.resolve("a.bin"), new byte[300]);
        Files.createDirectories(root.resolve("sub"));
        Files.write(root.resolve("sub/b.bin"), new byte[100]);
        ServerSettings base = InMemoryServer.settings(root);
        server = new InMemoryServer(base.withUsers(List.of(
                new UserAccount("alice", InMemoryServer.HASH, null, true, true)
                        .withPolicy(AccountPolicy.NONE.withQuota(new Quota(1000, 3))),
                new UserAccount("reader", InMemoryServer.HASH, null, false, true)), null));
        c = server.loggedIn("alice");
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.close();
    }

    /**
     * A client that keeps sending after its upload passed the quota can send to the end and then reads the 552: the
     * server reads and drops the rest (to a bound) rather than resetting the connection under it, which made curl stop
     * at a send failure without reading the reply. 16 MiB is far more than the sockets' buffers hold, so without the
     * drain the writes below fail.
     */
    @Test
    void aClientStillSendingPastTheQuotaGetsToTheEndAndReads552() throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("229 .*\\(\\|\\|\\|(\\d+)\\|\\)").matcher(c.command("EPSV"));
        assertThat(m.matches()).isTrue();
        try (java.nio.channels.SocketChannel data = java.nio.channels.SocketChannel.open(new java.net.InetSocketAddress(
                java.net.InetAddress.getLoopbackAddress(), Integer.parseInt(m.group(1))))) {
            c.send("STOR big.bin");
            assertThat(c.replyLine()).startsWith("150 ");
            java.nio.ByteBuffer block = java.nio.ByteBuffer.allocate(64 * 1024);
            for (int i = 0; i < 256; i++) {
                block.clear();
                while (block.hasRemaining()) {
                    data.write(block);
                }
            }
        }
        assertThat(c.replyLine()).isEqualTo("552 Quota exceeded (1000 bytes, 3 files): /big.bin was not stored.");
        assertThat(root.resolve("big.bin")).doesNotExist();
    }

    @Test
    void siteQuotaShowsWhatTheHomeHolds() throws Exception {
        assertThat(c.commandLines("SITE QUOTA")).containsExactly(
                "200-Quota information:",
                " 400 bytes used (40%) - authorized: 1000 bytes",
                " 2 files used (66%) - authorized: 3 files",
                " Reserved by uploads in progress: 0 bytes, 0 files",
                "200 End of quota information.");
    }

    /** ALLO past the room left: the STOR is refused before anything else, even before the missing PASV's 425. */
    @Test
    void anAllocationThatDoesNotFitIsRefusedBeforeThe150() throws Exception {
        assertThat(c.command("ALLO 601")).isEqualTo("200 ALLO: 601 bytes will be reserved by the next upload.");
        assertThat(c.command("STOR new.bin")).isEqualTo("552 Quota exceeded (1000 bytes, 3 files): /new.bin was not stored.");
        assertThat(root.resolve("new.bin")).doesNotExist();

        assertThat(c.command("ALLO 600")).startsWith("200 ");
        assertThat(c.command("STOR new.bin")).as("it fits: on to the data connection").startsWith("425 ");
        assertThat(c.commandLines("SITE QUOTA")).contains(" Reserved by uploads in progress: 0 bytes, 0 files");
        assertThat(c.command("ALLO x")).startsWith("501 ");
    }

    /** An overwrite that does not grow the file passes even when the allocation alone would not fit. */
    @Test
    void anAllocationIsChargedOnlyForWhatTheFileGrows() throws Exception {
        c.command("ALLO 900");

        assertThat(c.command("STOR a.bin")).startsWith("425 ");
    }

    @Test
    void theFilesQuotaRefusesStouBeforeItMakesAName() throws Exception {
        Files.write(root.resolve("c.bin"), new byte[1]);
        server.close();
        server = new InMemoryServer(server.settings);
        c = server.loggedIn("alice");

        assertThat(c.command("STOU")).startsWith("552 Quota exceeded (1000 bytes, 3 files)");
        assertThat(c.command("STOR d.bin")).startsWith("552 ");
        assertThat(c.command("APPE d.bin")).startsWith("552 ");
        assertThat(root.toFile().list()).containsExactlyInAnyOrder("a.bin", "sub", "c.bin");
    }

    @Test
    void deleteAndRenameOverAFileFreeTheirRoom() throws Exception {
        Files.write(root.resolve("c.bin"), new byte[500]);
        assertThat(c.commandLines("SITE QUOTA")).as("counted now, at its first use")
                .contains(" 900 bytes used (90%) - authorized: 1000 bytes", " 3 files used (100%) - authorized: 3 files");

        assertThat(c.command("DELE a.bin")).startsWith("250 ");
        assertThat(c.commandLines("SITE QUOTA")).contains(" 600 bytes used (60%) - authorized: 1000 bytes",
                " 2 files used (66%) - authorized: 3 files");
        assertThat(c.command("RNFR sub/b.bin")).startsWith("350 ");
        assertThat(c.command("RNTO c.bin")).startsWith("250 ");

        assertThat(c.commandLines("SITE QUOTA")).as("c.bin's 500 bytes are gone, b.bin's 100 moved")
                .contains(" 100 bytes used (10%) - authorized: 1000 bytes", " 1 files used (33%) - authorized: 3 files");
    }

    /**
     * A usage that cannot be counted (a ledger out of reach, a home too big to walk) refuses uploads (451), never
     * deletes or renames: a full account must be able to make room. The first count made later sees the change.
     */
    @Test
    void deletesAndRenamesGoAheadWhenTheUsageCannotBeCounted() throws Exception {
        AtomicBoolean down = new AtomicBoolean(true);
        MemoryQuotaLedger memory = new MemoryQuotaLedger();
        server.context.quotaLedger(new QuotaLedger() {
            @Override
            public void open(String user, Counter counter) throws IOException {
                if (down.get()) {
                    throw new IOException("ledger unreachable");
                }
                memory.open(user, counter);
            }

            @Override
            public Reservation reserve(String user, Quota quota, Owner owner, long bytes, long files) {
                return memory.reserve(user, quota, owner, bytes, files);
            }

            @Override
            public void adjust(String user, long bytes, long files) {
                memory.adjust(user, bytes, files);
            }

            @Override
            public Usage usage(String user, Quota quota) {
                return memory.usage(user, quota);
            }

            @Override
            public int releaseAllBut(String node, String incarnation) {
                return 0;
            }
        });
        ControlClient d = server.loggedIn("alice");

        assertThat(d.command("STOR new.bin")).startsWith("451 Quota usage cannot be checked now");
        assertThat(d.command("DELE a.bin")).isEqualTo("250 File deleted.");
        assertThat(root.resolve("a.bin")).doesNotExist();
        assertThat(d.command("RNFR sub/b.bin")).startsWith("350 ");
        assertThat(d.command("RNTO b.bin")).isEqualTo("250 Renamed.");

        down.set(false);
        assertThat(d.commandLines("SITE QUOTA")).as("counted once reachable: a.bin is gone")
                .contains(" 100 bytes used (10%) - authorized: 1000 bytes", " 1 files used (33%) - authorized: 3 files");
    }

    /**
     * STOU reserves before it makes its file; a storage that then fails (here: its stat of the new file) must not
     * leave that reservation holding a file of the quota for the lease's 15 minutes.
     */
    @Test
    void aStouThatFailsAfterItsReservationReleasesIt() throws Exception {
        AtomicBoolean statFails = new AtomicBoolean();
        server.close();
        server = new InMemoryServer(server.settings, new StorageEngine() {
            @Override
            public Storage forHome(Path home) throws IOException {
                LocalStorage local = new LocalStorage(home);
                return (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[] {Storage.class},
                        (proxy, method, args) -> {
                            if (method.getName().equals("stat") && statFails.get()) {
                                throw new IOException("stat refused by this test storage");
                            }
                            try {
                                return method.invoke(local, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
            }

            @Override
            public Storage forPrivateUploads(Path home) throws IOException {
                return forHome(home);
            }

            @Override
            public String describe() {
                return "test";
            }
        });
        ControlClient d = server.loggedIn("alice");
        assertThat(d.commandLines("SITE QUOTA")).contains(" Reserved by uploads in progress: 0 bytes, 0 files");

        statFails.set(true);
        d.send("STOU");
        // the storage error ends the session, as any I/O failure of a handler does
        assertThat(d.closedByServer()).isTrue();
        statFails.set(false);

        assertThat(server.loggedIn("alice").commandLines("SITE QUOTA"))
                .contains(" Reserved by uploads in progress: 0 bytes, 0 files");
    }

    @Test
    void renamingAFileOntoItselfFreesNothing() throws Exception {
        assertThat(c.command("RNFR a.bin")).startsWith("350 ");
        c.command("RNTO a.bin");

        assertThat(c.commandLines("SITE QUOTA")).contains(" 400 bytes used (40%) - authorized: 1000 bytes");
    }

    @Test
    void anAccountWithoutAQuotaIsNeverCounted() throws Exception {
        ControlClient reader = server.loggedIn("reader");

        assertThat(reader.command("SITE QUOTA")).isEqualTo("200 No quota applies to this account.");
        assertThat(reader.command("ALLO 5")).isEqualTo("202 ALLO not needed at this site.");
    }
}
