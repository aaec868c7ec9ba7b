package dev.ferry.it;

import static dev.ferry.it.CommonsNetClients.reply;
import static dev.ferry.it.CommonsNetClients.send;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Apache Commons Net's FTPClient in every shape ({@link Shape}): listings (LIST, MLSD, NLST) and transfers
 * over passive and active data connections, STOU, APPE, REST before STOR, ABOR during a download, EPSV ALL,
 * and PORT/EPRT to a third party refused. Every reply is recorded ({@link CommonsNetClients}).
 */
class CommonsNetTransfersTest {

    @Nested
    class Direct extends Tests {
        Direct() {
            super(Shape.DIRECT);
        }
    }

    @Nested
    class Balanced extends Tests {
        Balanced() {
            super(Shape.BALANCED);
        }
    }

    @Nested
    class ObjectStore extends Tests {
        ObjectStore() {
            super(Shape.OBJECT_STORE);
        }
    }

    abstract static class Tests {

        @RegisterExtension
        final ShapeExtension ftp;
        private final CommonsNetClients clients = new CommonsNetClients();
        private final List<String> replies = clients.replies;
        private final List<String> commands = clients.commands;

        Tests(Shape shape) {
            ftp = new ShapeExtension(shape);
        }

        @AfterEach
        void disconnect() throws IOException {
            clients.close();
        }

        private FTPClient loggedIn() throws IOException {
            return clients.loggedIn(ftp);
        }

        @Test
        void listingsOverPassiveData() throws Exception {
            Files.writeString(ftp.root().resolve("f.txt"), "12345");
            Files.createDirectory(ftp.root().resolve("d"));
            FTPClient c = loggedIn();

            FTPFile[] list = c.listFiles();
            assertThat(list).extracting(FTPFile::getName).containsExactlyInAnyOrder("f.txt", "d");
            assertThat(Arrays.stream(list).filter(FTPFile::isFile).findFirst().orElseThrow().getSize()).isEqualTo(5);
            FTPFile[] mlsd = c.mlistDir();
            assertThat(mlsd).extracting(FTPFile::getName).containsExactlyInAnyOrder("f.txt", "d");
            assertThat(c.listNames()).containsExactlyInAnyOrder("f.txt", "d");
            assertThat(send(c, "MLSD f.txt")).startsWith("501 ");
        }

        @Test
        void activeModeListing() throws Exception {
            Files.writeString(ftp.root().resolve("act.txt"), "act");
            FTPClient c = loggedIn();
            c.enterLocalActiveMode();
            c.setDataTimeout(Duration.ofSeconds(5));
            assertThat(c.listNames()).as(replies::toString).containsExactly("act.txt");
            assertThat(commands).anyMatch(cmd -> cmd.startsWith("PORT 127,0,0,1,"));
        }

        @Test
        void activeModeReplacesAnExistingFileAndRetrievesIt() throws Exception {
            byte[] old = TestData.randomFile(ftp.root().resolve("a.bin"), 300_000, 31);
            byte[] content = TestData.random(500_000, 32);
            FTPClient c = loggedIn();
            c.enterLocalActiveMode();
            c.setDataTimeout(Duration.ofSeconds(5));

            IOException failed = null;
            try {
                c.storeFile("a.bin", new ByteArrayInputStream(content));
            } catch (IOException e) {
                failed = e;   // no data connection within the data timeout
            }
            List<String> storeReplies = List.copyOf(replies);
            TestData.assertStoredOrKept(ftp.root().resolve("a.bin"), storeReplies.getLast().startsWith("226 "), old, content);
            assertThat(failed).as("the upload's data connection").isNull();
            ByteArrayOutputStream back = new ByteArrayOutputStream();
            boolean retrieved = c.retrieveFile("a.bin", back);

            assertThat(storeReplies).as("replies to PORT, STOR and the transfer's end")
                    .endsWith("200 PORT command successful.", "150 Opening BINARY mode data connection for /a.bin.",
                            "226 Transfer complete (500000 bytes).");
            assertThat(retrieved).as(replies::toString).isTrue();
            assertThat(TestData.sha256(back.toByteArray())).isEqualTo(TestData.sha256(content));
        }

        @Test
        void epsvAllRefusesEveryOtherDataConnectionCommand() throws Exception {
            Files.writeString(ftp.root().resolve("x.txt"), "x");
            FTPClient c = loggedIn();
            assertThat(send(c, "EPSV ALL")).isEqualTo("200 EPSV ALL accepted.");
            // RFC 2428 §4: after EPSV ALL, PORT, EPRT and PASV are refused (the server's exact texts are
            // pinned in SessionDataEndpointTest; a balancer may have sent the backend another verb).
            for (String command : List.of("PASV", "PORT 127,0,0,1,200,1", "EPRT |1|127.0.0.1|51201|")) {
                assertThat(send(c, command)).as(command).startsWith("501 ").contains("EPSV ALL is in effect");
            }
            c.setUseEPSVwithIPv4(true);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("x.txt", out)).isTrue();
            assertThat(commands).contains("EPSV");
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("x");
        }

        @Test
        void portAndEprtToAThirdPartyAreRefused() throws Exception {
            FTPClient c = loggedIn();
            // RFC 2577 §3 (FTP bounce): the data connection may only go to the client's own address.
            assertThat(send(c, "PORT 127,0,0,2,200,1")).isEqualTo("501 PORT refused: data connections go only to your own address.");
            assertThat(send(c, "EPRT |1|127.0.0.2|51201|")).isEqualTo("501 EPRT refused: data connections go only to your own address.");
            assertThat(send(c, "PORT 127,0,0,1,0,25")).isEqualTo("501 PORT refused: port 25 is below 1024.");
            assertThat(send(c, "PORT 127,0,0,1,200,1")).isEqualTo("200 PORT command successful.");
            assertThat(send(c, "PORT 1,2,3")).startsWith("501 ");
        }

        @Test
        void stouNamesTheCreatedFileIn150() throws Exception {
            FTPClient c = loggedIn();

            assertThat(c.storeUniqueFile(new ByteArrayInputStream("first".getBytes(StandardCharsets.UTF_8)))).isTrue();
            assertThat(c.storeUniqueFile(new ByteArrayInputStream("second".getBytes(StandardCharsets.UTF_8)))).isTrue();
            assertThat(c.storeUniqueFile("report.txt", new ByteArrayInputStream("third".getBytes(StandardCharsets.UTF_8)))).isTrue();

            // RFC 1123 §4.1.2.9: "150 FILE: name".
            assertThat(replies).filteredOn(r -> r.startsWith("150 "))
                    .containsExactly("150 FILE: ftp", "150 FILE: ftp.1", "150 FILE: report.txt");
            assertThat(ftp.root().resolve("ftp")).hasContent("first");
            assertThat(ftp.root().resolve("ftp.1")).hasContent("second");
            assertThat(ftp.root().resolve("report.txt")).hasContent("third");
        }

        @Test
        void appeAppends() throws Exception {
            Files.writeString(ftp.root().resolve("log.txt"), "one\n");
            FTPClient c = loggedIn();
            assertThat(c.appendFile("log.txt", new ByteArrayInputStream("two\n".getBytes(StandardCharsets.UTF_8)))).isTrue();
            assertThat(c.appendFile("fresh.txt", new ByteArrayInputStream("new\n".getBytes(StandardCharsets.UTF_8)))).isTrue();
            assertThat(ftp.root().resolve("log.txt")).hasContent("one\ntwo");
            assertThat(ftp.root().resolve("fresh.txt")).hasContent("new");
        }

        @Test
        void restThenStorResumesTheUploadInPlace() throws Exception {
            byte[] whole = TestData.random(500_000, 30);
            Files.write(ftp.root().resolve("part.bin"), Arrays.copyOf(whole, 123_456));
            FTPClient c = loggedIn();

            c.setRestartOffset(123_456);
            assertThat(c.storeFile("part.bin", new ByteArrayInputStream(whole, 123_456, whole.length - 123_456))).isTrue();

            assertThat(replies).contains("350 Restarting at 123456. Send STOR or RETR to start the transfer.");
            assertThat(TestData.sha256(ftp.root().resolve("part.bin"))).isEqualTo(TestData.sha256(whole));
            c.setRestartOffset(600_000);
            assertThat(c.storeFile("part.bin", new ByteArrayInputStream(new byte[1]))).isFalse();
            assertThat(c.getReplyCode()).isEqualTo(554);
        }

        @Test
        void aborDuringALargeRetrieveAnswers426Then226AndTheSessionGoesOn() throws Exception {
            try (RandomAccessFile huge = new RandomAccessFile(ftp.root().resolve("huge.bin").toFile(), "rw")) {
                huge.setLength(256L << 20);   // sparse: cheap to create, far more than socket buffers hold
            }
            Files.writeString(ftp.root().resolve("small.txt"), "still working");
            FTPClient c = loggedIn();

            InputStream data = c.retrieveFileStream("huge.bin");
            assertThat(reply(c)).startsWith("150 Opening BINARY mode data connection for /huge.bin (268435456 bytes)");
            assertThat(data.readNBytes(100_000)).hasSize(100_000);

            // RFC 959 §4.1.3: the aborted transfer answers 426, then ABOR itself answers 226.
            assertThat(c.abort()).isFalse();
            assertThat(reply(c)).isEqualTo("426 Transfer aborted.");
            assertThat(c.getReply()).isEqualTo(226);
            assertThat(reply(c)).isEqualTo("226 ABOR successful.");
            data.close();

            assertThat(c.sendNoOp()).isTrue();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("small.txt", out)).isTrue();
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("still working");
        }
    }
}
