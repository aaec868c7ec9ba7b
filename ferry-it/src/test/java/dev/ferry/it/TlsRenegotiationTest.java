package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Client-initiated TLS renegotiation is refused (each one would cost the server a key exchange, asked for
 * by anyone who connects, before login too): the connection fails with a handshake_failure alert, and the
 * server goes on serving everyone else. Real clients: openssl s_client's R command and the JDK's second
 * startHandshake(), over TLS 1.2 (TLS 1.3 has no renegotiation).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsRenegotiationTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    @ParameterizedTest(name = "after login: {0}")
    @ValueSource(booleans = {false, true})
    void opensslRenegotiationIsRefused(boolean login) throws Exception {
        Renegotiation.Outcome o = Renegotiation.openssl(ferry.clientDir(), ferry.port(), login);

        assertThat(o.accepted()).as(o.transcript()).isFalse();
        assertThat(o.transcript()).contains("RENEGOTIATING", "alert handshake failure");
        if (login) {
            assertThat(o.transcript()).contains("230 User alice logged in.");
        }
        TestData.await("the session's tls-failed line", () -> ferry.logLines().stream().anyMatch(l -> l.contains("event=tls-failed")
                && l.contains("during=session") && l.contains("renegotiation is not allowed")));
        assertServerStillServes();
    }

    @ParameterizedTest(name = "after login: {0}")
    @ValueSource(booleans = {false, true})
    void jdkRenegotiationIsRefused(boolean login) throws Exception {
        Renegotiation.Outcome o = Renegotiation.jdk(ferry.port(), login);

        assertThat(o.accepted()).as(o.transcript()).isFalse();
        assertThat(o.transcript()).contains("handshake_failure");
        assertServerStillServes();
    }

    /** Many refused attempts in a row cost one handshake each (no more) and leave the server serving. */
    @Test
    void repeatedAttemptsLeaveTheServerServing() throws Exception {
        for (int i = 0; i < 10; i++) {
            assertThat(Renegotiation.jdk(ferry.port(), i % 2 == 0).accepted()).isFalse();
        }
        // The client sees the alert before the server's session has written its line: wait for the tenth.
        TestData.await("ten tls-failed lines", () -> ferry.logLines().stream().filter(l -> l.contains("renegotiation is not allowed")).count() >= 10);
        assertThat(ferry.logLines().stream().filter(l -> l.contains("renegotiation is not allowed"))).hasSize(10);
        assertServerStillServes();
    }

    /** Another client, over TLS, logs in and lists. */
    private void assertServerStillServes() throws Exception {
        try (RawFtp ftp = RawFtp.greeted(ferry.port()).authTls()) {
            ftp.login(USER, PASSWORD);
            ftp.command("NOOP", 200);
        }
        ExternalCommand.Result listing = FtpsClients.curl(ferry.clientDir(), "--ssl-reqd", "-k", "-l", ferry.url() + "/")
                .assertSuccess();
        assertThat(listing.exitCode()).isZero();
    }
}
