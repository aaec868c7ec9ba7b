package dev.ferry.balancer.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.ftps.TlsPolicy;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The balancer's own answers to AUTH, PBSZ, PROT, CCC and its TLS policy decisions, without sockets. */
class ClientProtectionTest {

    private static Integer code(Reply r) {
        return r == null ? null : r.code();
    }

    @ParameterizedTest(name = "AUTH {0} available={1} loggedIn={2} pipelined={3} -> {4}")
    @CsvSource(nullValues = "go", value = {
            "TLS,   true,  false, false, go",
            "tls,   true,  false, false, go",
            "TLS-C, true,  false, false, go",
            "SSL,   true,  false, false, go",
            "TLS,   false, false, false, 502",
            "GSSAPI, true, false, false, 504",
            "TLS,   true,  true,  false, 503",
            "TLS,   true,  false, true,  503"})
    void auth(String mechanism, boolean available, boolean loggedIn, boolean pipelined, Integer expected) {
        assertThat(code(new ClientProtection(available, false).auth(mechanism, loggedIn, pipelined))).isEqualTo(expected);
    }

    @Test
    void authOnAProtectedConnectionIsRefused() {
        ClientProtection p = new ClientProtection(true, false);
        p.tlsStarted();
        assertThat(code(p.auth("TLS", false, false))).isEqualTo(503);
        assertThat(code(new ClientProtection(true, true).auth("TLS", false, false))).as("implicit").isEqualTo(503);
    }

    static Stream<Arguments> sequences() {
        return Stream.of(
                // before TLS: PBSZ and PROT need AUTH first; CCC has nothing to clear
                Arguments.of(false, "PBSZ 0", 503, false),
                Arguments.of(false, "PROT P", 503, false),
                Arguments.of(false, "CCC", 533, false),
                // after TLS
                Arguments.of(true, "PROT P", 503, false),
                Arguments.of(true, "PBSZ 0", 200, false),
                Arguments.of(true, "PBSZ x", 501, false),
                Arguments.of(true, "PBSZ 0,PROT P", 200, true),
                Arguments.of(true, "PBSZ 0,PROT P,PROT C", 200, false),
                Arguments.of(true, "PBSZ 0,PROT E", 536, false),
                Arguments.of(true, "PBSZ 0,PROT Z", 504, false),
                Arguments.of(true, "CCC", 534, false),
                Arguments.of(true, "PBSZ 0,PROT P,REIN", null, false));
    }

    @ParameterizedTest(name = "tls={0}: {1} -> {2}, data protected: {3}")
    @MethodSource("sequences")
    void protectionCommands(boolean tls, String commands, Integer last, boolean protectedAfter) {
        ClientProtection p = new ClientProtection(true, false);
        if (tls) {
            p.tlsStarted();
        }
        Reply reply = null;
        for (String command : commands.split(",")) {
            String[] verb = command.split(" ", 2);
            reply = switch (verb[0]) {
                case "PBSZ" -> p.protectionBufferSize(verb[1]);
                case "PROT" -> p.protection(verb[1], TlsPolicy.OPTIONAL, true);
                case "CCC" -> p.clearCommandChannel();
                case "REIN" -> {
                    p.reinitialize();
                    yield null;
                }
                default -> throw new IllegalArgumentException(command);
            };
        }
        assertThat(code(reply)).isEqualTo(last);
        assertThat(p.protectData()).isEqualTo(protectedAfter);
    }

    @ParameterizedTest(name = "policy {0}: USER before TLS -> {1}, data under PROT C -> {2}, PROT C after login -> {3}")
    @CsvSource(nullValues = "go", value = {
            "OPTIONAL, go,  go,  200",
            "LOGIN,    530, go,  200",
            "REQUIRED, 530, 521, 534"})
    void policies(TlsPolicy policy, Integer user, Integer data, int protCAfterLogin) {
        ClientProtection p = new ClientProtection(true, false);
        assertThat(code(p.user(policy))).isEqualTo(user);
        assertThat(code(p.dataChannel(policy))).isEqualTo(data);
        p.tlsStarted();
        assertThat(code(p.user(policy))).as("after AUTH").isNull();
        p.protectionBufferSize("0");
        assertThat(code(p.protection("C", policy, false))).as("PROT C before login").isEqualTo(200);
        assertThat(code(p.protection("C", policy, true))).isEqualTo(protCAfterLogin);
        p.protection("P", policy, true);
        assertThat(code(p.dataChannel(policy))).as("under PROT P").isNull();
    }

    @Test
    void theImplicitListenerStartsProtectedAndReinKeepsItSo() {
        ClientProtection p = new ClientProtection(true, true);
        assertThat(p.tls()).isTrue();
        assertThat(p.protectData()).isTrue();
        assertThat(code(p.protection("P", TlsPolicy.REQUIRED, true))).as("PBSZ is implied").isEqualTo(200);
        p.protectionBufferSize("0");
        p.protection("C", TlsPolicy.OPTIONAL, true);
        p.reinitialize();
        assertThat(p.protectData()).isTrue();
    }
}
