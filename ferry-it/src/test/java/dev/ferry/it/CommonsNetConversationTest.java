package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.READER;
import static dev.ferry.it.FerryServerExtension.READER_PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.ServerSettings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.commons.net.PrintCommandListener;
import org.apache.commons.net.ProtocolCommandEvent;
import org.apache.commons.net.ProtocolCommandListener;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPConnectionClosedException;
import org.apache.commons.net.ftp.FTPFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A full protocol conversation with ferry server through Apache Commons Net's FTPClient, asserting exact
 * reply codes (and texts where a client or an operator depends on them). Transfers and data connections
 * are in {@link CommonsNetTransfersTest}, in both shapes.
 */
class CommonsNetConversationTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private final CommonsNetClients clients = new CommonsNetClients();
    private final List<String> replies = clients.replies;
    private final List<String> commands = clients.commands;

    @AfterEach
    void disconnect() throws IOException {
        clients.close();
    }

    private FTPClient connect() throws IOException {
        return connect(InetAddress.getByName("127.0.0.1"));
    }

    private FTPClient connect(InetAddress server) throws IOException {
        return clients.connect(server, ferry.port());
    }

    private FTPClient loggedIn() throws IOException {
        return clients.loggedIn(ferry);
    }

    private static String reply(FTPClient c) {
        return CommonsNetClients.reply(c);
    }

    private static String send(FTPClient c, String command) throws IOException {
        return CommonsNetClients.send(c, command);
    }

    // ---- login -----------------------------------------------------------------------------

    @Test
    void logsInWithUserAndPass() throws Exception {
        FTPClient c = connect();
        assertThat(reply(c)).isEqualTo("220 Ferry FTP server ready.");

        assertThat(send(c, "USER " + USER)).isEqualTo("331 Password required for alice.");
        assertThat(send(c, "PASS " + PASSWORD)).isEqualTo("230 User alice logged in.");
        assertThat(send(c, "PASS " + PASSWORD)).isEqualTo("503 Already logged in.");
        assertThat(send(c, "USER bob")).startsWith("530 ");
    }

    @Test
    void badPasswordIs530AndTheLastAllowedFailureCloses421() throws Exception {
        FTPClient c = connect();
        assertThat(c.login(USER, "wrong")).isFalse();
        assertThat(reply(c)).isEqualTo("530 Login incorrect.");
        assertThat(c.login("nobody", "wrong")).isFalse();
        assertThat(c.getReplyCode()).isEqualTo(530);

        // maxAttemptsPerSession is 3 (RFC 2577 §5): the third failure ends the session.
        assertThatThrownBy(() -> c.login(USER, "still wrong")).isInstanceOf(FTPConnectionClosedException.class);
        assertThat(replies).last().isEqualTo("421 Too many failed logins; closing the connection.");
        assertThat(c.getReplyCode()).isEqualTo(421);
    }

    @Test
    void passBeforeUserIs503() throws Exception {
        FTPClient c = connect();
        assertThat(send(c, "PASS " + PASSWORD)).isEqualTo("503 Login with USER first.");
        assertThat(c.login(USER, PASSWORD)).isTrue();
    }

    @Test
    void commandsBeforeLoginAre530() throws Exception {
        FTPClient c = connect();
        for (String command : List.of("PWD", "CWD /", "LIST", "RETR x", "STOR x", "MKD x", "PASV", "SIZE x", "MLST", "STAT")) {
            assertThat(send(c, command)).as(command).isEqualTo("530 Please log in with USER and PASS first.");
        }
        // ...while the few that make sense before login work.
        assertThat(send(c, "SYST")).isEqualTo("215 UNIX Type: L8");
        assertThat(send(c, "NOOP")).isEqualTo("200 NOOP ok.");
        assertThat(send(c, "FEAT")).startsWith("211-Features:");
        assertThat(send(c, "HELP")).startsWith("214-");
    }

    @Test
    void reinLogsOutAndKeepsTheConnection() throws Exception {
        FTPClient c = loggedIn();
        assertThat(send(c, "CWD /")).startsWith("250 ");

        assertThat(send(c, "REIN")).isEqualTo("220 Service ready for new user.");
        assertThat(send(c, "PWD")).startsWith("530 ");

        assertThat(c.login(READER, READER_PASSWORD)).isTrue();
        assertThat(send(c, "PWD")).isEqualTo("257 \"/\" is the current directory.");
    }

    @Test
    void hostBeforeUserIsAcceptedAndAfterLoginRefused() throws Exception {
        FTPClient c = connect();
        assertThat(send(c, "HOST ftp.example.org")).isEqualTo("220 Host accepted.");
        assertThat(c.login(USER, PASSWORD)).isTrue();
        assertThat(send(c, "HOST ftp.example.org")).isEqualTo("503 HOST must come before USER.");
    }

    // ---- read-only access ------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @CsvSource({"anonymous, guest@example.org", READER + ", " + READER_PASSWORD})
    void readOnlyUsersGet550ForEveryWrite(String user, String password) throws Exception {
        ferry.restart(s -> s.withAnonymous(new ServerSettings.Anonymous(true, null)));
        Files.writeString(ferry.root().resolve("keep.txt"), "keep");
        Files.createDirectory(ferry.root().resolve("dir"));
        FTPClient c = connect();
        assertThat(c.login(user, password)).as(reply(c)).isTrue();
        c.enterLocalPassiveMode();

        assertThat(c.storeFile("new.txt", new ByteArrayInputStream("x".getBytes(StandardCharsets.UTF_8)))).isFalse();
        assertThat(reply(c)).isEqualTo("550 Permission denied: this account is read-only.");
        assertThat(c.deleteFile("keep.txt")).isFalse();
        assertThat(c.getReplyCode()).isEqualTo(550);
        assertThat(c.makeDirectory("made")).isFalse();
        assertThat(c.getReplyCode()).isEqualTo(550);
        for (String command : List.of("RMD dir", "RNFR keep.txt", "APPE keep.txt", "STOU", "MFMT 20200101000000 keep.txt")) {
            assertThat(send(c, command)).as(command).startsWith("550 ");
        }
        // Reading still works.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(c.retrieveFile("keep.txt", out)).isTrue();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("keep");
        assertThat(TestData.names(ferry.root())).containsExactly("dir", "keep.txt");
    }

    // ---- parameters and information --------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "ACCT billing  | 202 ACCT not needed at this site.",
            "ALLO 1000     | 202 ALLO not needed at this site.",
            "STRU F        | 200 Structure set to F.",
            "STRU R        | 504 Only file structure (STRU F) is supported.",
            "STRU X        | 501 Unknown structure 'X'.",
            "MODE S        | 200 Mode set to S.",
            "MODE B        | 504 Only stream mode (MODE S) is supported.",
            "TYPE A        | 200 Type set to A.",
            "TYPE A N      | 200 Type set to A.",
            "TYPE I        | 200 Type set to I.",
            "TYPE L 8      | 200 Type set to I.",
            "TYPE E        | 504 Only TYPE A (non-print) and TYPE I are supported.",
            "TYPE Q        | 501 Unknown type 'Q'.",
            "SYST          | 215 UNIX Type: L8",
            "NOOP          | 200 NOOP ok.",
            "OPTS UTF8 ON  | 200 UTF8 mode is always on.",
            "OPTS UTF8 OFF | 504 UTF8 mode cannot be turned off.",
            "ABOR          | 225 No transfer to abort.",
            "RNTO x        | 503 Send RNFR first.",
            "XYZZY         | 500 'XYZZY': command not understood.",
            "NOOP extra    | 501 NOOP takes no argument",
            "AUTH GSSAPI   | 504 AUTH GSSAPI is not supported; use AUTH TLS.",
            "PBSZ 0        | 503 Security data exchange not completed (send AUTH first).",
            "CCC           | 533 The control connection is not protected.",
            "REST -5       | 501 REST needs a non-negative byte offset.",
            "SITE CHMOD 777 x | 504 SITE CHMOD is not supported.",
    })
    void singleLineReplies(String command, String expected) throws Exception {
        FTPClient c = loggedIn();
        assertThat(send(c, command)).isEqualTo(expected);
    }

    @Test
    void rntoIsRefusedUnlessItFollowsRnfrDirectly() throws Exception {
        Files.writeString(ferry.root().resolve("a.txt"), "a");
        FTPClient c = loggedIn();
        assertThat(send(c, "RNFR a.txt")).isEqualTo("350 File exists; send RNTO with the new name.");
        assertThat(send(c, "NOOP")).startsWith("200 ");
        // RFC 959 §4.1.3: RNTO must immediately follow RNFR.
        assertThat(send(c, "RNTO b.txt")).isEqualTo("503 Send RNFR first.");
        assertThat(ferry.root().resolve("a.txt")).exists();
        assertThat(c.rename("a.txt", "b.txt")).isTrue();
        assertThat(ferry.root().resolve("b.txt")).hasContent("a");
    }

    @Test
    void statWithoutArgumentIs211MultiLine() throws Exception {
        FTPClient c = loggedIn();
        assertThat(c.sendCommand("STAT")).isEqualTo(211);
        assertThat(c.getReplyStrings()).containsExactly(
                "211-Ferry FTP server status:",
                " Connected from 127.0.0.1",
                " Logged in as alice",
                " TYPE: BINARY, STRU: File, MODE: Stream",
                " No data connection set up.",
                "211 End of status.");
    }

    @Test
    void statWithAPathIs213MultiLineListing() throws Exception {
        Files.write(ferry.root().resolve("one.bin"), new byte[4321]);
        Files.createDirectory(ferry.root().resolve("sub"));
        FTPClient c = loggedIn();

        assertThat(c.sendCommand("STAT /")).isEqualTo(213);
        String[] lines = c.getReplyStrings();
        assertThat(lines[0]).isEqualTo("213-Status of /:");
        assertThat(lines[lines.length - 1]).isEqualTo("213 End of status.");
        assertThat(Arrays.asList(lines).subList(1, lines.length - 1))
                .hasSize(2)
                .anyMatch(l -> l.startsWith(" -") && l.contains(" 4321 ") && l.endsWith(" one.bin"))
                .anyMatch(l -> l.startsWith(" d") && l.endsWith(" sub"));

        assertThat(c.sendCommand("STAT one.bin")).isEqualTo(213);
        assertThat(c.getReplyStrings()).hasSize(3);
        assertThat(c.sendCommand("STAT missing")).isEqualTo(550);
    }

    @Test
    void helpListsCommandsAndExplainsOne() throws Exception {
        FTPClient c = connect();
        assertThat(c.sendCommand("HELP")).isEqualTo(214);
        String all = String.join("\n", c.getReplyStrings());
        assertThat(c.getReplyStrings()[0]).isEqualTo("214-The following commands are recognized:");
        assertThat(all).contains("USER", "RETR", "MLSD", "EPSV").endsWith("214 HELP <command> tells more.");
        assertThat(send(c, "HELP RETR")).isEqualTo("214 RETR <file>: download");
        assertThat(send(c, "HELP NOPE")).isEqualTo("501 Unknown command 'NOPE'.");
    }

    @Test
    void siteHelp() throws Exception {
        FTPClient c = loggedIn();
        assertThat(c.sendCommand("SITE HELP")).isEqualTo(214);
        assertThat(c.getReplyStrings()).containsExactly("214-SITE commands:", " HELP", " QUOTA", "214 End.");
    }

    @Test
    void mlstGivesFactsOverTheControlConnectionAndOptsMlstSelectsThem() throws Exception {
        Files.write(ferry.root().resolve("f.dat"), new byte[99]);
        FTPClient c = loggedIn();

        assertThat(c.sendCommand("MLST f.dat")).isEqualTo(250);
        String[] lines = c.getReplyStrings();
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).isEqualTo("250-Listing /f.dat");
        // RFC 3659 §7.2.1: the entry line starts with one space, facts, one space, the path.
        assertThat(lines[1]).matches(" type=file;size=99;modify=\\d{14}(\\.\\d{3})?;perm=adfrw;unique=[^; ]+; /f\\.dat");
        assertThat(lines[2]).isEqualTo("250 End");

        FTPFile parsed = c.mlistFile("f.dat");
        assertThat(parsed.getSize()).isEqualTo(99);
        assertThat(parsed.isFile()).isTrue();

        assertThat(send(c, "OPTS MLST type;size;UNIX.mode;")).isEqualTo("200 MLST OPTS type;size;");
        c.sendCommand("MLST f.dat");
        assertThat(c.getReplyStrings()[1]).isEqualTo(" type=file;size=99; /f.dat");
        c.sendCommand("FEAT");
        assertThat(c.getReplyStrings()).contains(" MLST type*;size*;modify;perm;unique;");
    }

    @Test
    void pwdDoublesAQuoteInsideTheName() throws Exception {
        FTPClient c = loggedIn();
        assertThat(send(c, "MKD a\"b")).isEqualTo("257 \"/a\"\"b\" created.");   // RFC 959 Appendix II
        assertThat(c.changeWorkingDirectory("a\"b")).isTrue();
        assertThat(send(c, "PWD")).isEqualTo("257 \"/a\"\"b\" is the current directory.");
        assertThat(c.printWorkingDirectory()).isEqualTo("/a\"b");
        assertThat(ferry.root().resolve("a\"b")).isDirectory();
    }

    @Test
    void sizeCountsTheBytesOfTheCurrentType() throws Exception {
        Files.writeString(ferry.root().resolve("t.txt"), "a\nb\r\nc\n");
        FTPClient c = loggedIn();
        assertThat(send(c, "SIZE t.txt")).isEqualTo("213 7");
        assertThat(c.setFileType(FTP.ASCII_FILE_TYPE)).isTrue();
        // RFC 3659 §4: the size is what RETR would send, here with CRLF for the two lone LFs.
        assertThat(send(c, "SIZE t.txt")).isEqualTo("213 9");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        c.setFileType(FTP.BINARY_FILE_TYPE);   // to see the wire bytes, read them without client conversion
        c.sendCommand("TYPE A");
        try (InputStream in = c.retrieveFileStream("t.txt")) {
            in.transferTo(out);
        }
        assertThat(c.completePendingCommand()).isTrue();
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("a\r\nb\r\nc\r\n");
        assertThat(send(c, "SIZE /")).startsWith("550 ");
    }

    // ---- data connections (most are in CommonsNetTransfersTest, in both shapes) ---------------

    @Test
    void eprtWithAnUnknownNetworkProtocolIs522() throws Exception {
        FTPClient c = loggedIn();
        assertThat(send(c, "EPRT |3|x|1|")).isEqualTo("522 Network protocol not supported, use (1,2)");   // RFC 2428 §2
    }

    @Test
    void eprtWithIpv6WhenTheServerListensOnIpv6Loopback() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        try (ServerSocket probe = new ServerSocket(0, 1, v6)) {
            Assumptions.assumeTrue(probe.isBound());
        } catch (IOException e) {
            Assumptions.abort("IPv6 loopback (::1) is not available here: " + e.getMessage());
        }
        ferry.restart(s -> s.withListen(new InetSocketAddress(v6, 0)));
        Files.writeString(ferry.root().resolve("six.txt"), "over IPv6");
        FTPClient c = connect(v6);
        assertThat(c.login(USER, PASSWORD)).isTrue();
        c.setFileType(FTP.BINARY_FILE_TYPE);

        c.enterLocalActiveMode();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(c.retrieveFile("six.txt", out)).as(reply(c)).isTrue();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("over IPv6");
        assertThat(commands).anyMatch(cmd -> cmd.matches("EPRT \\|2\\|(::1|0:0:0:0:0:0:0:1)\\|\\d+\\|"));
        assertThat(replies).contains("200 EPRT command successful.");

        // PASV cannot describe an IPv6 address; EPSV can (RFC 2428).
        assertThat(send(c, "PASV")).isEqualTo("425 PASV needs IPv4; use EPSV on this connection.");
        assertThat(send(c, "EPSV 1")).isEqualTo("522 Network protocol not supported, use (2)");
        c.enterLocalPassiveMode();
        out.reset();
        assertThat(c.retrieveFile("six.txt", out)).isTrue();
        assertThat(commands).contains("EPSV");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("over IPv6");
    }

    // ---- uploads ---------------------------------------------------------------------------

    @Test
    void stouIntoAPathThroughAFileIsRefusedAndTheSessionGoesOn() throws Exception {
        // Found by ControlFuzzTest (seed 17682335361616): "STOU file/x" ended the session.
        Files.writeString(ferry.root().resolve("plain.txt"), "x");
        FTPClient c = loggedIn();
        assertThat(send(c, "STOU plain.txt/x")).startsWith("553 ");
        assertThat(c.sendNoOp()).isTrue();
    }
}
