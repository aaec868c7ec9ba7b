package dev.ferry.protocol.reply;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RepliesTest {

    @Test
    void theCommandLineRepliesKeepTheServersWords() {
        assertThat(Replies.EMPTY_COMMAND).hasToString("500 Empty command.");
        assertThat(Replies.unknownCommand("XYZZ")).hasToString("500 'XYZZ': command not understood.");
        assertThat(Replies.lineTooLong(4096)).hasToString("500 Command line too long (limit 4096 bytes).");
        assertThat(Replies.BAD_UTF8).hasToString("501 Command is not valid UTF-8 (RFC 2640).");
    }

    @Test
    void theLoginAndSessionRepliesKeepTheServersWords() {
        assertThat(Replies.PLEASE_LOG_IN).hasToString("530 Please log in with USER and PASS first.");
        assertThat(Replies.ACCT_NOT_NEEDED).hasToString("202 ACCT not needed at this site.");
        assertThat(Replies.READY_FOR_NEW_USER).hasToString("220 Service ready for new user.");
        assertThat(Replies.GOODBYE).hasToString("221 Goodbye.");
        assertThat(Replies.LOGIN_TIMEOUT).hasToString("421 Login timeout; closing the connection.");
        assertThat(Replies.SHUTTING_DOWN).hasToString("421 Server is shutting down; closing the connection.");
        assertThat(Replies.DATA_PROTECTION_REQUIRED).hasToString(
                "521 Data connection cannot be opened with this PROT setting: send PBSZ 0 and PROT P.");
    }

    @Test
    void anActiveTargetIsWrittenAsOperatorsWriteIt() throws Exception {
        // Not InetSocketAddress.toString's "/192.0.2.7:50000".
        assertThat(Replies.cannotOpenDataConnection(new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 50000)))
                .hasToString("425 Cannot open data connection to 192.0.2.7:50000.");
        assertThat(Replies.cannotOpenDataConnection(new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 50000)))
                .hasToString("425 Cannot open data connection to [2001:db8::7]:50000.");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "GSSAPI          | 504 AUTH GSSAPI is not supported; use AUTH TLS.",
            "KERBEROS\u001b[2J | 504 AUTH KERBEROS?[2J is not supported; use AUTH TLS.",
    })
    void echoedClientTextIsMadePrintable(String argument, String reply) {
        assertThat(Replies.authNotSupported(argument)).hasToString(reply);
    }

    @Test
    void echoedClientTextIsBounded() {
        String text = Replies.unknownProtectionLevel("x".repeat(500)).lines().getFirst();

        assertThat(text).isEqualTo("Unknown protection level '" + "x".repeat(Replies.ECHO_LIMIT) + "'; use P or C.");
    }
}
