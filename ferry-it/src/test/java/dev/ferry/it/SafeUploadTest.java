package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Uploads replace a file all at once or not at all: an upload that breaks off leaves the old file
 * byte for byte (and no partial new file), and a 226 means the new content is on disk when the
 * client reads the reply.
 *
 * <p>In stream mode a clean close of the data connection is the end of the file (RFC 959 §3.4.1), so
 * "interrupted" here means what a crash or a cable pull looks like: a TCP reset (SO_LINGER 0), an
 * ABOR, or the control connection going away mid-transfer.
 */
class SafeUploadTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private static final int OLD_SIZE = 1_000_000;

    private Socket openData(RawFtp ftp) throws IOException {
        InetSocketAddress address = ftp.pasv();
        Socket data = new Socket();
        data.connect(address, 5_000);
        return data;
    }

    private static void reset(Socket data) throws IOException {
        data.setSoLinger(true, 0);
        data.close();
    }

    @Test
    void aResetMidTransferLeavesTheExistingFileByteExact() throws Exception {
        byte[] old = TestData.randomFile(ferry.root().resolve("doc.bin"), OLD_SIZE, 40);
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            ftp.command("TYPE I", 200);
            Socket data = openData(ftp);
            ftp.command("STOR doc.bin", 150);
            OutputStream out = data.getOutputStream();
            out.write(TestData.random(300_000, 41));
            out.flush();
            reset(data);

            assertThat(ftp.reply().code()).isEqualTo(426);
            assertThat(TestData.sha256(ferry.root().resolve("doc.bin"))).isEqualTo(TestData.sha256(old));
            // The hidden temporary file is removed just after the reply.
            TestData.await("no partial or temporary file is left", () -> TestData.names(ferry.root()).equals(List.of("doc.bin")));
            ftp.command("NOOP", 200);
            ftp.command("SIZE doc.bin", 213);
        }
    }

    @Test
    void aResetNewUploadLeavesNoFile() throws Exception {
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            ftp.command("TYPE I", 200);
            Socket data = openData(ftp);
            ftp.command("STOR new.bin", 150);
            data.getOutputStream().write(TestData.random(200_000, 42));
            reset(data);

            assertThat(ftp.reply().code()).isEqualTo(426);
            TestData.await("no partial or temporary file is left", () -> TestData.names(ferry.root()).isEmpty());
            assertThat(ftp.command("SIZE new.bin").code()).isEqualTo(550);
        }
    }

    @Test
    void aborMidUploadLeavesTheExistingFileByteExact() throws Exception {
        byte[] old = TestData.randomFile(ferry.root().resolve("doc.bin"), OLD_SIZE, 43);
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD);
             Socket data = openData(ftp)) {
            ftp.command("STOR doc.bin", 150);
            data.getOutputStream().write(TestData.random(250_000, 44));
            data.getOutputStream().flush();

            ftp.send("ABOR");
            // RFC 959 §4.1.3: 426 for the aborted transfer, then 226 for ABOR.
            assertThat(ftp.reply().code()).isEqualTo(426);
            assertThat(ftp.reply().code()).isEqualTo(226);
            assertThat(TestData.sha256(ferry.root().resolve("doc.bin"))).isEqualTo(TestData.sha256(old));
            TestData.await("no partial or temporary file is left", () -> TestData.names(ferry.root()).equals(List.of("doc.bin")));
        }
    }

    @Test
    void aLostControlConnectionMidUploadLeavesTheExistingFileByteExact() throws Exception {
        byte[] old = TestData.randomFile(ferry.root().resolve("doc.bin"), OLD_SIZE, 45);
        RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD);
        try (Socket data = openData(ftp)) {
            ftp.command("STOR doc.bin", 150);
            data.getOutputStream().write(TestData.random(250_000, 46));
            data.getOutputStream().flush();
            ftp.close();

            // The server ends the transfer with the session: the data connection closes under us.
            data.setSoTimeout(10_000);
            assertThat(readsToEnd(data)).isTrue();
        }
        // The session's cleanup removes the hidden temporary file right after closing the data connection.
        TestData.await("the temporary upload file is removed", () -> TestData.names(ferry.root()).equals(List.of("doc.bin")));
        assertThat(TestData.sha256(ferry.root().resolve("doc.bin"))).isEqualTo(TestData.sha256(old));
        try (RawFtp second = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            second.command("TYPE I", 200);
            assertThat(second.command("SIZE doc.bin").text()).isEqualTo(Integer.toString(OLD_SIZE));
        }
    }

    /**
     * A client that ends its control connection and then its data connection cleanly, as a killed client's
     * kernel does: the data's end is not the end of the file (RFC 959 §3.4 cannot tell them apart; the
     * control connection can). Also under TLS: the server asks the socket beneath it.
     */
    @ParameterizedTest(name = "tls: {0}")
    @ValueSource(booleans = {false, true})
    void theControlConnectionEndedBeforeTheDataMeansNoCommit(boolean tls) throws Exception {
        byte[] old = TestData.randomFile(ferry.root().resolve("doc.bin"), OLD_SIZE, 47);
        RawFtp ftp = tls ? RawFtp.greeted(ferry.port()).authTls() : RawFtp.greeted(ferry.port());
        ftp.login(USER, PASSWORD);
        try (Socket data = openData(ftp)) {
            ftp.command("STOR doc.bin", 150);
            data.getOutputStream().write(TestData.random(250_000, 48));
            data.getOutputStream().flush();
            // Control first, then data, at once: whichever end the server reads first, nothing is committed.
            ftp.close();
        }
        TestData.await("the transfer line", () -> ferry.logLines().stream().anyMatch(l -> l.contains("event=transfer")));

        assertThat(ferry.logLines()).anyMatch(l -> (l.contains("event=transfer ") && l.contains(" cmd=STOR ")) && l.endsWith("result=control-closed"));
        assertThat(TestData.sha256(ferry.root().resolve("doc.bin"))).isEqualTo(TestData.sha256(old));
        assertThat(TestData.names(ferry.root())).containsExactly("doc.bin");
    }

    /** True when the peer closed or reset the connection within the read timeout. */
    private static boolean readsToEnd(Socket data) {
        try {
            while (data.getInputStream().read() >= 0) {
                // nothing is expected on an upload's data connection
            }
            return true;
        } catch (IOException resetOrTimeout) {
            return !(resetOrTimeout instanceof SocketTimeoutException);
        }
    }

    @Test
    void aCompletionReplyMeansTheWholeFileIsOnDisk() throws Exception {
        Path target = ferry.root().resolve("target.bin");
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            ftp.command("TYPE I", 200);
            for (int round = 0; round < 20; round++) {
                byte[] content = TestData.random(100_000 + round * 97_531, 100 + round);
                try (Socket data = openData(ftp)) {
                    ftp.command("STOR target.bin", 150);
                    data.getOutputStream().write(content);
                }
                ftp.expect(226);
                // Checked the moment the reply is read: no waiting, no retry.
                assertThat(TestData.sha256(target)).as("round %d", round).isEqualTo(TestData.sha256(content));
            }
        }
    }

    @Test
    void commonsNetStoreFileIsCompleteWhenItReturns() throws Exception {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.connect("127.0.0.1", ferry.port());
        try {
            assertThat(c.login(USER, PASSWORD)).isTrue();
            c.enterLocalPassiveMode();
            c.setFileType(FTP.BINARY_FILE_TYPE);
            for (int round = 0; round < 5; round++) {
                byte[] content = TestData.random(2_000_000 + round, 200 + round);
                assertThat(c.storeFile("cn.bin", new ByteArrayInputStream(content))).isTrue();
                assertThat(Files.readAllBytes(ferry.root().resolve("cn.bin"))).isEqualTo(content);
            }
            assertThat(TestData.names(ferry.root())).isEqualTo(List.of("cn.bin"));
        } finally {
            c.disconnect();
        }
    }
}
