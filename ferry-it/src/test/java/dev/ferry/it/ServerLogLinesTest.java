package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.server.ServerSettings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * What an operator's tools read of a real client's session (issue "an operator's first week", item 5): a
 * Commons Net client from its own loopback address fails a login, is refused an anonymous upload and
 * transfers a file as alice; every line names the node, the client's address and the user, and each transfer
 * writes one classic xferlog line.
 */
@Timeout(60)
class ServerLogLinesTest {

    private static final String CLIENT = "127.0.0.7";

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension()
            .configure(s -> s.withNode("s7").withAnonymous(new ServerSettings.Anonymous(true, null)));

    private final ListAppender<ILoggingEvent> xferlog = new ListAppender<>();
    private final Logger xferlogLogger = (Logger) LoggerFactory.getLogger("ferry.xferlog");

    @BeforeEach
    void captureXferlog() {
        xferlog.start();
        xferlogLogger.addAppender(xferlog);
        xferlogLogger.setLevel(Level.INFO);
    }

    @AfterEach
    void release() {
        xferlogLogger.detachAppender(xferlog);
        xferlogLogger.setLevel(null);
    }

    private FTPClient connect() throws Exception {
        FTPClient c = new FTPClient();
        c.setConnectTimeout(5_000);
        c.setDefaultTimeout(10_000);
        c.setDataTimeout(Duration.ofSeconds(10));
        InetAddress client = InetAddress.getByName(CLIENT);
        c.connect(InetAddress.getByName(ferry.host()), ferry.port(), client, 0);
        // The data connection must come from the control connection's address (the server refuses others).
        c.setPassiveLocalIPAddress(client);
        c.setSoTimeout(10_000);
        return c;
    }

    @Test
    void aRealClientsFailedLoginRefusalAndTransfersNameNodeClientAndUser() throws Exception {
        FTPClient guest = connect();
        try {
            assertThat(guest.login(USER, "wrong")).isFalse();
            assertThat(guest.login("anonymous", "guest@example.com")).as(guest.getReplyString()).isTrue();
            guest.enterLocalPassiveMode();
            assertThat(guest.storeFile("upload.txt", new ByteArrayInputStream(new byte[10]))).isFalse();
            assertThat(guest.getReplyCode()).isEqualTo(550);
            guest.logout();
        } finally {
            guest.disconnect();
        }

        FTPClient alice = connect();
        byte[] content = "hello, log\n".getBytes(StandardCharsets.US_ASCII);
        try {
            assertThat(alice.login(USER, PASSWORD)).isTrue();
            alice.enterLocalPassiveMode();
            alice.setFileType(FTP.BINARY_FILE_TYPE);
            assertThat(alice.storeFile("my notes.txt", new ByteArrayInputStream(content))).as(alice.getReplyString())
                    .isTrue();
            ByteArrayOutputStream back = new ByteArrayOutputStream();
            assertThat(alice.retrieveFile("my notes.txt", back)).isTrue();
            assertThat(back.toByteArray()).isEqualTo(content);
            alice.logout();
        } finally {
            alice.disconnect();
        }
        TestData.await("both disconnect lines",
                () -> ferry.logLines().stream().filter(l -> l.contains(" event=disconnect ")).count() == 2);

        List<String> lines = ferry.logLines();
        String client = " client=" + CLIENT + ":";
        assertThat(lines).allSatisfy(l -> assertThat(l).startsWith("node=s7 session=").contains(client));
        assertThat(lines).anyMatch(l -> l.contains(" event=login-failed ") && l.contains(" user=alice ")
                && l.contains(" reason=bad_password "));
        assertThat(lines).anyMatch(l -> l.contains(" event=refused ") && l.contains(" user=anonymous ")
                && l.contains(" cmd=STOR path=/upload.txt reason=read-only reply=550"));
        assertThat(lines).anyMatch(l -> l.contains(" event=transfer ") && l.contains(" user=alice ")
                && l.contains(" cmd=STOR path=\"/my notes.txt\" bytes=" + content.length));
        assertThat(lines).anyMatch(l -> l.contains(" event=disconnect ") && l.contains(" user=anonymous ")
                && l.contains(" refused=1"));
        assertThat(lines).noneMatch(l -> l.contains("wrong") || l.contains(PASSWORD));

        List<String> transfers;
        synchronized (xferlog) {
            transfers = xferlog.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
        // man 5 xferlog; the space in the name becomes '_' so that the fields stay split.
        String fields = " " + CLIENT + " " + content.length + " /my_notes.txt b _ %s r alice ftp 0 \\* c";
        assertThat(transfers).hasSize(2);
        assertThat(transfers.get(0)).matches("\\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4} \\d+"
                + fields.formatted("i"));
        assertThat(transfers.get(1)).matches("\\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4} \\d+"
                + fields.formatted("o"));
    }
}
