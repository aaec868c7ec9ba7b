package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The control connection as a byte stream (raw sockets): line limits, encoding, Telnet commands,
 * line ends, pipelining, and the urgent-data ABOR that real clients send (ftplib's, the whole line urgent:
 * {@link PythonFtplibTest}, in both shapes).
 */
class ControlChannelTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private static final int IAC = 255;
    private static final int IP = 244;
    private static final int DM = 242;
    private static final int WILL = 251;
    private static final int DO = 253;

    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof Integer b) {
                out.write(b);
            } else {
                out.writeBytes(((String) p).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    @Test
    void anOverlongLineIs500AndTheSessionContinues() throws Exception {
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            assertThat(ftp.command("MKD " + "x".repeat(100_000)).toString())
                    .isEqualTo("500 Command line too long (limit 4096 bytes).");
            ftp.command("NOOP", 200);
            assertThat(TestData.names(ferry.root())).isEmpty();
        }
    }

    @Test
    void theLineLimitCountsTheCommandNotItsLineEnd() throws Exception {
        // 4096 bytes of command: within the limit whether the line ends in CRLF or in a bare LF.
        String atLimit = "NOOP" + " ".repeat(4096 - 4);
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            ftp.sendRaw(bytes(atLimit, "\n"));
            assertThat(ftp.reply().code()).isEqualTo(200);
            ftp.sendRaw(bytes(atLimit, "\r\n"));
            assertThat(ftp.reply().code()).isEqualTo(200);
            ftp.sendRaw(bytes(atLimit, " \r\n"));
            assertThat(ftp.reply().code()).isEqualTo(500);
        }
    }

    @Test
    void invalidUtf8Is501AndTheSessionContinues() throws Exception {
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            ftp.sendRaw(bytes("MKD bad", 0xC3, 0x28, "\r\n"));
            assertThat(ftp.reply().toString()).isEqualTo("501 Command is not valid UTF-8 (RFC 2640).");
            ftp.sendRaw(bytes("MKD ", 0xED, 0xA0, 0x80, "\r\n"));   // an encoded UTF-16 surrogate
            assertThat(ftp.reply().code()).isEqualTo(501);
            assertThat(ftp.command("MKD grüße").toString()).isEqualTo("257 \"/grüße\" created.");
            assertThat(TestData.names(ferry.root())).containsExactly("grüße");
        }
    }

    @Test
    void telnetCommandsAreIgnored() throws Exception {
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            // RFC 959 §4.1.3: Telnet IP and Synch (IAC DM) precede ABOR.
            ftp.sendRaw(bytes(IAC, IP, IAC, DM, "ABOR\r\n"));
            assertThat(ftp.reply().toString()).isEqualTo("225 No transfer to abort.");
            // Option negotiation is refused by ignoring it (RFC 1123 §4.1.2.12).
            ftp.sendRaw(bytes(IAC, WILL, 1, "NOOP\r\n"));
            assertThat(ftp.reply().code()).isEqualTo(200);
            ftp.sendRaw(bytes("NO", IAC, DO, 3, "OP\r\n"));
            assertThat(ftp.reply().code()).isEqualTo(200);
            ftp.sendRaw(bytes("SY", IAC, 241, "ST\r\n"));   // IAC NOP in the middle of a word
            assertThat(ftp.reply().code()).isEqualTo(215);
        }
    }

    @Test
    void bareLfEndsALine() throws Exception {
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            ftp.sendRaw(bytes("USER " + USER + "\n"));
            assertThat(ftp.reply().code()).isEqualTo(331);
            ftp.sendRaw(bytes("PASS " + PASSWORD + "\n"));
            assertThat(ftp.reply().code()).isEqualTo(230);
            ftp.sendRaw(bytes("PWD\n"));
            assertThat(ftp.reply().toString()).isEqualTo("257 \"/\" is the current directory.");
        }
    }

    @Test
    void pipelinedCommandsAreAllAnsweredInOrder() throws Exception {
        Files.writeString(ferry.root().resolve("p.txt"), "pipelined\n");
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            ftp.sendRaw(bytes("USER " + USER + "\r\nPASS " + PASSWORD + "\r\nTYPE I\r\nPWD\r\nSIZE p.txt\r\n"
                    + "MKD d\r\nCWD d\r\nPWD\r\nCDUP\r\nSTAT\r\nXYZ\r\nRMD d\r\nNOOP\r\nSYST\r\n"));
            int[] expected = {331, 230, 200, 257, 213, 257, 250, 257, 250, 211, 500, 250, 200, 215};
            for (int code : expected) {
                assertThat(ftp.reply().code()).isEqualTo(code);
            }
            ftp.command("QUIT", 221);
            assertThat(ftp.closedByServer()).isTrue();
        }
    }

    @Test
    void pipelinedCommandsAfterATransferWaitForItsReply() throws Exception {
        byte[] content = TestData.randomFile(ferry.root().resolve("t.bin"), 2_000_000, 50);
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            ftp.command("TYPE I", 200);
            var address = ftp.pasv();
            try (Socket data = new Socket(address.getAddress(), address.getPort())) {
                ftp.sendRaw(bytes("RETR t.bin\r\nSIZE t.bin\r\nNOOP\r\n"));
                assertThat(ftp.reply().code()).isEqualTo(150);
                byte[] received = data.getInputStream().readAllBytes();
                assertThat(TestData.sha256(received)).isEqualTo(TestData.sha256(content));
            }
            assertThat(ftp.reply().code()).isEqualTo(226);
            assertThat(ftp.reply().toString()).isEqualTo("213 2000000");
            assertThat(ftp.reply().code()).isEqualTo(200);
        }
    }

    /**
     * The urgent ABOR of BSD ftp and inetutils: "IAC IP IAC" with the last byte sent as TCP urgent
     * data, then "DM ABOR". lftp sends the first IAC urgent, then "IP IAC DM ABOR". Without
     * SO_OOBINLINE the urgent byte disappears from the stream and the line the server reads is
     * garbled ("\xF2ABOR" or "\xF4ABOR"), so the transfer is never aborted.
     */
    @Test
    void urgentAborAsBsdFtpSendsItAbortsTheTransfer() throws Exception {
        abortWithUrgentData(ftp -> {
            ftp.sendRaw(bytes(IAC, IP));
            ftp.socket().sendUrgentData(IAC);
            ftp.sendRaw(bytes(DM, "ABOR\r\n"));
        });
    }

    @Test
    void urgentAborAsLftpSendsItAbortsTheTransfer() throws Exception {
        abortWithUrgentData(ftp -> {
            ftp.socket().sendUrgentData(IAC);
            ftp.sendRaw(bytes(IP, IAC, DM, "ABOR\r\n"));
        });
    }

    private interface Abort {
        void send(RawFtp ftp) throws Exception;
    }

    private void abortWithUrgentData(Abort abort) throws Exception {
        try (RandomAccessFile huge = new RandomAccessFile(ferry.root().resolve("huge.bin").toFile(), "rw")) {
            huge.setLength(256L << 20);
        }
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            ftp.command("TYPE I", 200);
            var address = ftp.pasv();
            try (Socket data = new Socket(address.getAddress(), address.getPort())) {
                ftp.command("RETR huge.bin", 150);
                data.getInputStream().readNBytes(50_000);
                abort.send(ftp);
                assertThat(ftp.reply().code()).isEqualTo(426);
                assertThat(ftp.reply().toString()).isEqualTo("226 ABOR successful.");
            }
            ftp.command("NOOP", 200);
        }
    }

    @Test
    void statAnswersDuringATransfer() throws Exception {
        try (RandomAccessFile huge = new RandomAccessFile(ferry.root().resolve("huge.bin").toFile(), "rw")) {
            huge.setLength(256L << 20);
        }
        try (RawFtp ftp = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            var address = ftp.pasv();
            try (Socket data = new Socket(address.getAddress(), address.getPort())) {
                ftp.command("RETR huge.bin", 150);
                InputStream in = data.getInputStream();
                in.readNBytes(10_000);
                RawFtp.Reply stat = ftp.command("STAT", 211);
                assertThat(stat.lines()).anyMatch(l -> l.startsWith(" Transfer in progress: RETR /huge.bin, "));
                ftp.send("ABOR");
                assertThat(ftp.reply().code()).isEqualTo(426);
                assertThat(ftp.reply().code()).isEqualTo(226);
            }
        }
    }
}
