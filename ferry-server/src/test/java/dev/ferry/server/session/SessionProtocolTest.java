package dev.ferry.server.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.command.Verb;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the session says about itself (FEAT, HELP, OPTS, STAT, SITE), transfer parameters (TYPE,
 * MODE, STRU, REST), and how it treats malformed input: unknown verbs, bad arguments, overlong
 * lines, invalid UTF-8, Telnet commands, pipelined commands.
 */
@Timeout(20)
class SessionProtocolTest {

    @TempDir
    Path root;
    private InMemoryServer server;
    private ControlClient c;

    @BeforeEach
    void start() throws Exception {
        server = new InMemoryServer(InMemoryServer.settings(root));
        c = server.loggedIn("alice");
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.close();
    }

    // RFC 2389 §3.2: one feature per line, each line starting with a space.
    @Test
    void featListsEveryExtension() throws Exception {
        assertThat(c.commandLines("FEAT")).containsExactly(
                "211-Features:",
                " EPRT",
                " EPSV",
                " HASH SHA-256*;SHA-1;MD5",
                " HOST",
                " MDTM",
                " MFMT",
                " MLST type*;size*;modify*;perm*;unique*;",
                " PASV",
                " REST STREAM",
                " SIZE",
                " TVFS",
                " UTF8",
                "211 End");
    }

    @Test
    void featShowsTheSelectedHashAndFacts() throws Exception {
        c.command("OPTS HASH MD5");
        c.command("OPTS MLST type;modify;");

        assertThat(c.commandLines("FEAT"))
                .contains(" HASH SHA-256;SHA-1;MD5*", " MLST type*;size;modify*;perm;unique;");
    }

    @Test
    void helpListsEveryVerbOfTheTable() throws Exception {
        List<String> reply = c.commandLines("HELP");

        assertThat(reply.getFirst()).isEqualTo("214-The following commands are recognized:");
        assertThat(reply.getLast()).isEqualTo("214 HELP <command> tells more.");
        List<String> middle = reply.subList(1, reply.size() - 1);
        List<String> names = new ArrayList<>();
        for (String line : middle) {
            assertThat(line).startsWith(" ").doesNotStartWith("  ").hasSizeLessThanOrEqualTo(72);
            names.addAll(Arrays.asList(line.trim().split(" +")));
        }
        assertThat(names).containsExactly(Arrays.stream(Verb.values()).map(Verb::name).toArray(String[]::new));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "HELP CWD    | 214 CWD <dir>: change working directory",
            "HELP cwd    | 214 CWD <dir>: change working directory",
            "HELP XPWD   | 214 PWD: print working directory",
            "HELP BOGUS  | 501 Unknown command 'BOGUS'.",
    })
    void helpForOneCommand(String command, String reply) throws Exception {
        assertThat(c.command(command)).isEqualTo(reply);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "OPTS UTF8 ON          | 200 UTF8 mode is always on.",
            "OPTS utf8 on          | 200 UTF8 mode is always on.",
            "OPTS UTF-8 ON         | 200 UTF8 mode is always on.",
            "OPTS UTF8             | 200 UTF8 mode is always on.",
            "OPTS UTF8 OFF         | 504 UTF8 mode cannot be turned off.",
            "OPTS UTF8 MAYBE       | 501 Syntax: OPTS UTF8 ON.",
            "OPTS MLST type;size;  | 200 MLST OPTS type;size;",
            "OPTS mlst UNIQUE;Type | 200 MLST OPTS type;unique;",
            "OPTS HASH             | 200 SHA-256",
            "OPTS HASH md5         | 200 MD5",
            "OPTS HASH SHA-1       | 200 SHA-1",
            "OPTS HASH CRC32       | 501 Unknown algorithm; supported: SHA-256, SHA-1, MD5.",
            "OPTS MODE Z           | 501 OPTS for 'MODE' is not supported.",
            "OPTS                  | 501 OPTS needs an argument: OPTS <command> [options]: set options (UTF8 ON, MLST facts, HASH algorithm)",
    })
    void optsTable(String command, String reply) throws Exception {
        assertThat(c.command(command)).isEqualTo(reply);
    }

    @Test
    void statWithoutArgumentDescribesTheSession() throws Exception {
        assertThat(c.commandLines("STAT")).containsExactly(
                "211-Ferry FTP server status:",
                " Connected from 127.0.0.1",
                " Logged in as alice",
                " TYPE: BINARY, STRU: File, MODE: Stream",
                " No data connection set up.",
                "211 End of status.");
        c.command("TYPE A");
        assertThat(c.commandLines("STAT")).contains(" TYPE: ASCII, STRU: File, MODE: Stream");
    }

    @Test
    void siteHasOnlyHelp() throws Exception {
        assertThat(c.commandLines("SITE HELP")).containsExactly("214-SITE commands:", " HELP", " QUOTA", "214 End.");
        assertThat(c.command("SITE chmod 755 a")).isEqualTo("504 SITE CHMOD is not supported.");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "TYPE I      | 200 Type set to I.",
            "TYPE i      | 200 Type set to I.",
            "TYPE L 8    | 200 Type set to I.",
            "TYPE A      | 200 Type set to A.",
            "TYPE a n    | 200 Type set to A.",
            "TYPE A  N   | 200 Type set to A.",
            "TYPE A T    | 504 Only TYPE A (non-print) and TYPE I are supported.",
            "TYPE A C    | 504 Only TYPE A (non-print) and TYPE I are supported.",
            "TYPE E      | 504 Only TYPE A (non-print) and TYPE I are supported.",
            "TYPE E N    | 504 Only TYPE A (non-print) and TYPE I are supported.",
            "TYPE L 7    | 501 Unknown type 'L 7'.",
            "TYPE AN     | 501 Unknown type 'AN'.",
            "TYPE X      | 501 Unknown type 'X'.",
            "MODE S      | 200 Mode set to S.",
            "MODE s      | 200 Mode set to S.",
            "MODE B      | 504 Only stream mode (MODE S) is supported.",
            "MODE C      | 504 Only stream mode (MODE S) is supported.",
            "MODE Z      | 501 Unknown mode 'Z'.",
            "STRU F      | 200 Structure set to F.",
            "STRU f      | 200 Structure set to F.",
            "STRU R      | 504 Only file structure (STRU F) is supported.",
            "STRU P      | 504 Only file structure (STRU F) is supported.",
            "STRU X      | 501 Unknown structure 'X'.",
            "REST 0      | 350 Restarting at 0. Send STOR or RETR to start the transfer.",
            "REST 100    | 350 Restarting at 100. Send STOR or RETR to start the transfer.",
            "REST -1     | 501 REST needs a non-negative byte offset.",
            "REST abc    | 501 REST needs a non-negative byte offset.",
            "REST 99999999999999999999 | 501 REST needs a non-negative byte offset.",
            "ALLO 1000   | 202 ALLO not needed at this site.",
            "ABOR        | 225 No transfer to abort.",
            "NOOP        | 200 NOOP ok.",
            "SYST        | 215 UNIX Type: L8",
    })
    void transferParameterTable(String command, String reply) throws Exception {
        assertThat(c.command(command)).isEqualTo(reply);
    }

    @Test
    void typeAIsKeptUntilChanged() throws Exception {
        c.command("TYPE A");
        assertThat(c.command("TYPE X")).isEqualTo("501 Unknown type 'X'.");
        assertThat(c.commandLines("STAT")).contains(" TYPE: ASCII, STRU: File, MODE: Stream");
        c.command("TYPE I");
        assertThat(c.commandLines("STAT")).contains(" TYPE: BINARY, STRU: File, MODE: Stream");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', ignoreLeadingAndTrailingWhitespace = false, value = {
            "FOO|500 'FOO': command not understood.",
            "foo bar|500 'foo': command not understood.",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ|500 'ABCDEFGHIJKLMNOP': command not understood.",
            "'   '|500 Empty command.",
            "CWD|501 CWD needs an argument: CWD <dir>: change working directory",
            "'CWD  '|501 CWD needs an argument: CWD <dir>: change working directory",
            "PWD x|501 PWD takes no argument",
            "'  NOOP'|200 NOOP ok.",
            "'NOOP  '|200 NOOP ok.",
            "noop|200 NOOP ok.",
    })
    void malformedCommandsAreAnsweredAndTheSessionGoesOn(String line, String reply) throws Exception {
        assertThat(c.command(line)).isEqualTo(reply);
        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
    }

    @Test
    void anEmptyLineIsAnEmptyCommand() throws Exception {
        assertThat(c.command("")).isEqualTo("500 Empty command.");
    }

    @Test
    void controlCharactersInAnUnknownVerbAreNotEchoed() throws Exception {
        assertThat(c.command("X\u001b[2J")).isEqualTo("500 'X?[2J': command not understood.");
    }

    @Test
    void aCrInsideALineCannotForgeASecondReply() throws Exception {
        assertThat(c.command("MODE a\r226 Transfer complete")).isEqualTo("501 Unknown mode 'a?226 Transfer complete'.");
        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
    }

    @Test
    void anOverlongLineIs500AndTheSessionContinues() throws Exception {
        assertThat(c.command("NOOP " + "x".repeat(1000))).isEqualTo("500 Command line too long (limit 256 bytes).");
        assertThat(c.command("PWD")).isEqualTo("257 \"/\" is the current directory.");
    }

    @Test
    void aLineOfExactlyTheLimitIsACommand() throws Exception {
        String line = "MKD " + "d".repeat(252);
        assertThat(line).hasSize(256);

        assertThat(c.command(line)).isEqualTo("257 \"/" + "d".repeat(252) + "\" created.");
    }

    @Test
    void invalidUtf8Is501AndTheSessionContinues() throws Exception {
        c.sendRaw(new byte[] {'C', 'W', 'D', ' ', (byte) 0xC3, 0x28, '\r', '\n'});

        assertThat(c.replyLine()).isEqualTo("501 Command is not valid UTF-8 (RFC 2640).");
        assertThat(c.command("NOOP")).isEqualTo("200 NOOP ok.");
    }

    @Test
    void telnetInterruptBeforeAborIsIgnored() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(new byte[] {(byte) 0xFF, (byte) 244, (byte) 0xFF, (byte) 242});
        bytes.writeBytes("ABOR\r\n".getBytes(StandardCharsets.US_ASCII));

        c.sendRaw(bytes.toByteArray());

        assertThat(c.replyLine()).isEqualTo("225 No transfer to abort.");
    }

    @Test
    void aBareLfEndsALineToo() throws Exception {
        c.sendRaw("NOOP\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(c.replyLine()).isEqualTo("200 NOOP ok.");
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() throws Exception {
        c.sendRaw("TYPE A\r\nMKD p\r\nCWD p\r\nPWD\r\nBOGUS\r\nSTAT\r\nNOOP\r\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(c.replyLine()).isEqualTo("200 Type set to A.");
        assertThat(c.replyLine()).isEqualTo("257 \"/p\" created.");
        assertThat(c.replyLine()).isEqualTo("250 Directory changed to /p.");
        assertThat(c.replyLine()).isEqualTo("257 \"/p\" is the current directory.");
        assertThat(c.replyLine()).isEqualTo("500 'BOGUS': command not understood.");
        assertThat(c.reply()).startsWith("211-Ferry FTP server status:").endsWith("211 End of status.");
        assertThat(c.replyLine()).isEqualTo("200 NOOP ok.");
    }
}
