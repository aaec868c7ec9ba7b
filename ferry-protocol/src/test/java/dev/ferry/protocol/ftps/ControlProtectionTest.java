package dev.ferry.protocol.ftps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.ftps.ControlProtection.Action;
import dev.ferry.protocol.ftps.ControlProtection.Decision;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** AUTH, PBSZ, PROT, CCC and the TLS policy, as server and balancer answer them, without sockets. */
class ControlProtectionTest {

    private static ControlProtection server() {
        return ControlProtection.forServer(true, false, false);
    }

    private static ControlProtection afterAuth(ControlProtection p) {
        assertThat(p.auth("TLS", false).then()).isEqualTo(Action.START_TLS);
        p.tlsStarted();
        return p;
    }

    private static String text(Reply reply) {
        return reply == null ? "go" : reply.toString();
    }

    /**
     * Runs "AUTH TLS,PBSZ 0,PROT P,..." (each handshake and TLS shutdown succeeding) and gives the last reply,
     * "go" for a step that has none.
     */
    private static String run(ControlProtection p, String commands) {
        String last = null;
        for (String command : commands.split(",")) {
            String[] verb = command.split(" ", 2);
            last = switch (verb[0]) {
                case "AUTH" -> {
                    Decision d = p.auth(verb[1], false);
                    if (d.then() == Action.START_TLS) {
                        p.tlsStarted(); // the handshake succeeded
                    }
                    yield text(d.reply());
                }
                case "PBSZ" -> text(p.protectionBufferSize(verb[1]));
                case "PROT" -> text(p.protection(verb[1]));
                case "CCC" -> {
                    Decision d = p.clearCommandChannel(false);
                    if (d.then() == Action.END_TLS) {
                        p.controlCleared();
                    }
                    yield text(d.reply());
                }
                case "LOGIN" -> {
                    p.loggedIn(TlsPolicy.valueOf(verb[1]));
                    yield "go";
                }
                case "REIN" -> {
                    p.reinitialize();
                    yield "go";
                }
                default -> throw new IllegalArgumentException(command);
            };
        }
        return last;
    }

    @ParameterizedTest(name = "AUTH {0}: {1}")
    @CsvSource(delimiter = '|', value = {
            "TLS     | 234 AUTH TLS accepted; expecting the TLS handshake.",
            "tls     | 234 AUTH TLS accepted; expecting the TLS handshake.",
            "' TLS ' | 234 AUTH TLS accepted; expecting the TLS handshake.",
            // RFC 4217 §17: TLS-C is TLS's older synonym; curl sends SSL first.
            "TLS-C   | 234 AUTH TLS-C accepted; expecting the TLS handshake.",
            "SSL     | 234 AUTH SSL accepted; expecting the TLS handshake.",
            "GSSAPI  | 504 AUTH GSSAPI is not supported; use AUTH TLS.",
    })
    void authNamesTheMechanismItAccepts(String mechanism, String reply) {
        Decision d = server().auth(mechanism, false);

        assertThat(d.reply()).hasToString(reply);
        assertThat(d.then()).isEqualTo(reply.startsWith("234") ? Action.START_TLS : Action.NONE);
    }

    @Test
    void authWithoutTlsOfferedIsNotImplemented() {
        // RFC 2228 §3: 502, the command is known but the extensions are not offered.
        assertThat(ControlProtection.forServer(false, false, false).auth("TLS", false).reply())
                .hasToString("502 TLS is not available on this server.");
        assertThat(ControlProtection.forBalancer(false, false).auth("TLS", false).reply())
                .hasToString("502 TLS is not available on this server.");
    }

    @Test
    void commandsPipelinedAfterAuthMakeItARefusal() {
        // CVE-2011-0411: what follows AUTH in the same segment was sent in clear text.
        Decision d = server().auth("TLS", true);

        assertThat(d.reply()).hasToString("503 Nothing may follow AUTH before the TLS handshake; send AUTH on its own.");
        assertThat(d.then()).isEqualTo(Action.NONE);
    }

    @Test
    void authOnAProtectedConnectionIsRefused() {
        assertThat(afterAuth(server()).auth("TLS", false).reply()).hasToString("503 TLS is already active on this connection.");
        assertThat(ControlProtection.forServer(true, true, false).auth("TLS", false).reply())
                .as("implicit").hasToString("503 TLS is already active on this connection.");
    }

    @Test
    void theServerTakesAuthAfterLoginAndLogsTheUserOut() {
        // RFC 4217 §4: after AUTH the user logs in again.
        ControlProtection p = server();
        p.loggedIn(TlsPolicy.REQUIRED);

        afterAuth(p);

        assertThat(p.policy()).isNull();
        assertThat(p.protection("P")).as("PBSZ starts afresh").hasToString("503 PBSZ must come before PROT (send PBSZ 0).");
    }

    @Test
    void aBalancerRefusesAuthOnceUserWentToABackend() {
        ControlProtection p = ControlProtection.forBalancer(true, false);
        p.loggedIn(TlsPolicy.OPTIONAL);

        assertThat(p.auth("TLS", false).reply())
                .hasToString("503 AUTH TLS must come before USER; reconnect and send AUTH TLS first.");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            // Before TLS: PBSZ and PROT need AUTH first; CCC has nothing to clear.
            "PBSZ 0                   | 503 Security data exchange not completed (send AUTH first).",
            "PROT P                   | 503 Security data exchange not completed (send AUTH first).",
            "CCC                      | 533 The control connection is not protected.",
            "AUTH TLS,PROT P          | 503 PBSZ must come before PROT (send PBSZ 0).",
            "AUTH TLS,PBSZ 0          | 200 PBSZ=0",
            "AUTH TLS,PBSZ 1024       | 200 PBSZ=0",
            "AUTH TLS,PBSZ x          | 501 PBSZ needs a decimal number (PBSZ 0).",
            "AUTH TLS,PBSZ 0,PROT P   | 200 Protection level set to P (data connections use TLS).",
            "AUTH TLS,PBSZ 0,PROT c   | 200 Protection level set to C (data connections in clear text).",
            "AUTH TLS,PBSZ 0,PROT E   | 536 PROT E is not supported with TLS; use P or C.",
            "AUTH TLS,PBSZ 0,PROT s   | 536 PROT S is not supported with TLS; use P or C.",
            "AUTH TLS,PBSZ 0,PROT Z   | 504 Unknown protection level 'Z'; use P or C.",
            "AUTH TLS,CCC             | 534 CCC refused: the control connection stays protected.",
            "AUTH TLS,PBSZ 0,REIN,PROT P | 503 PBSZ must come before PROT (send PBSZ 0).",
    })
    void protectionCommandsFollowRfc4217sOrder(String commands, String reply) {
        ControlProtection p = server();
        assertThat(run(p, commands)).isEqualTo(reply);
    }

    @ParameterizedTest(name = "{0}: data protected afterwards = {1}")
    @CsvSource(delimiter = '|', value = {
            "AUTH TLS                    | false",
            "AUTH TLS,PBSZ 0,PROT P      | true",
            "AUTH TLS,PBSZ 0,PROT P,PROT C | false",
            "AUTH TLS,PBSZ 0,PROT P,PROT E | true",
            // RFC 4217 §9: PROT lasts until REIN.
            "AUTH TLS,PBSZ 0,PROT P,REIN | false",
    })
    void protectDataFollowsTheAcceptedProt(String commands, boolean protectedAfter) {
        ControlProtection p = server();
        run(p, commands);

        assertThat(p.protectData()).isEqualTo(protectedAfter);
    }

    @ParameterizedTest(name = "policy {0}: USER before TLS {1}, PROT C after login {2}, RETR under PROT C {3}")
    @CsvSource(delimiter = '|', value = {
            "OPTIONAL | go                                                 | 200 Protection level set to C (data connections in clear text). | go",
            "LOGIN    | 530 TLS required: send AUTH TLS before logging in. | 200 Protection level set to C (data connections in clear text). | go",
            "REQUIRED | 530 TLS required: send AUTH TLS before logging in. | 534 PROT C refused: data connections must be protected here.    | 521 Data connection cannot be opened with this PROT setting: send PBSZ 0 and PROT P.",
    })
    void policies(TlsPolicy policy, String userBeforeTls, String protCAfterLogin, String retrUnderProtC) {
        ControlProtection p = server();
        assertThat(text(p.user(policy))).isEqualTo(userBeforeTls);
        afterAuth(p);
        assertThat(p.user(policy)).as("USER after AUTH").isNull();
        p.protectionBufferSize("0");
        assertThat(p.protection("C")).as("PROT C before login: the policy is not known yet")
                .hasToString("200 Protection level set to C (data connections in clear text).");
        p.loggedIn(policy);

        assertThat(text(p.protection("C"))).isEqualTo(protCAfterLogin);
        assertThat(text(p.dataTransfer(Verb.RETR))).isEqualTo(retrUnderProtC);
        p.protection("P");
        assertThat(p.dataTransfer(Verb.RETR)).as("under PROT P").isNull();
    }

    @ParameterizedTest
    @EnumSource(Verb.class)
    void onlyTheTransferCommandsAreCheckedForDataProtection(Verb verb) {
        // RFC 4217 §10.2: on the command that initiates the transfer, "and not on the PORT or PASV".
        ControlProtection p = server();
        p.loggedIn(TlsPolicy.REQUIRED);

        assertThat(p.dataTransfer(verb) != null).isEqualTo(verb.movesData());
    }

    @Test
    void noTransferIsCheckedBeforeLogin() {
        ControlProtection p = server();

        assertThat(Arrays.stream(Verb.values()).map(p::dataTransfer)).containsOnlyNulls();
    }

    @Test
    void theImplicitListenerStartsProtectedAndReinKeepsItSo() {
        ControlProtection p = ControlProtection.forServer(true, true, false);
        assertThat(p.tls()).isTrue();
        assertThat(p.protectData()).isTrue();
        assertThat(p.protection("P")).as("PBSZ is implied").hasToString("200 Protection level set to P (data connections use TLS).");
        p.protection("C");
        p.tlsStarted();
        assertThat(p.protectData()).as("tlsStarted is a no-op on an implicit connection").isFalse();

        p.reinitialize();

        assertThat(p.protectData()).isTrue();
        assertThat(p.tls()).isTrue();
    }

    @Test
    void implicitTlsWithoutTlsOfferedIsABug() {
        assertThatThrownBy(() -> ControlProtection.forBalancer(false, true)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest(name = "allowCcc={0}, logged in={1}, pipelined={2}: {3}")
    @CsvSource(delimiter = '|', value = {
            "false | true  | false | 534 CCC refused: the control connection stays protected.",
            "true  | false | false | 534 CCC refused before login: log in first.",
            "true  | true  | true  | 503 Nothing may follow CCC before the TLS shutdown; send CCC on its own.",
            "true  | true  | false | 200 CCC accepted; the control connection continues in clear text.",
    })
    void cccNeedsTheOperatorsConsentALoginAndNothingBehindIt(boolean allowCcc, boolean loggedIn, boolean pipelined,
            String reply) {
        ControlProtection p = afterAuth(ControlProtection.forServer(true, false, allowCcc));
        if (loggedIn) {
            p.loggedIn(TlsPolicy.OPTIONAL);
        }

        Decision d = p.clearCommandChannel(pipelined);

        assertThat(d.reply()).hasToString(reply);
        assertThat(d.then()).isEqualTo(reply.startsWith("200") ? Action.END_TLS : Action.NONE);
    }

    @Test
    void aBalancerNeverClearsTheControlConnection() {
        ControlProtection p = afterAuth(ControlProtection.forBalancer(true, false));
        p.loggedIn(TlsPolicy.OPTIONAL);

        assertThat(p.clearCommandChannel(false).reply()).hasToString("534 CCC refused: the control connection stays protected.");
    }

    @Test
    void afterCccProtectionIsFixedAndTlsDoesNotComeBack() {
        // RFC 4217 §5: no more PBSZ or PROT; data transfers keep the current PROT.
        ControlProtection p = afterAuth(ControlProtection.forServer(true, false, true));
        run(p, "PBSZ 0,PROT P,LOGIN OPTIONAL,CCC");

        assertThat(p.tls()).isFalse();
        assertThat(p.cleared()).isTrue();
        assertThat(p.protectData()).isTrue();
        assertThat(p.protection("C")).hasToString(
                "503 PROT cannot change after CCC (RFC 4217 §6): data connections keep the current level.");
        assertThat(p.protectionBufferSize("0")).hasToString("503 PBSZ cannot change after CCC (RFC 4217 §6).");
        assertThat(p.auth("TLS", false).reply()).hasToString(
                "503 TLS was ended by CCC on this connection; connect again to protect it.");
        assertThat(p.clearCommandChannel(false).reply()).hasToString("533 The control connection is not protected.");
        assertThat(p.protectData()).isTrue();
    }

    @Test
    void reinLogsTheServersUserOutButABalancersPolicyStays() {
        ControlProtection server = afterAuth(server());
        ControlProtection balancer = afterAuth(ControlProtection.forBalancer(true, false));
        server.loggedIn(TlsPolicy.REQUIRED);
        balancer.loggedIn(TlsPolicy.REQUIRED);

        server.reinitialize();
        balancer.reinitialize();

        // At the server the next USER decides again; behind a balancer the backend keeps the session, and the
        // next USER goes straight to it: a REIN must not open a gap for PROT C and clear transfers.
        assertThat(server.policy()).isNull();
        assertThat(balancer.policy()).isEqualTo(TlsPolicy.REQUIRED);
        assertThat(balancer.dataTransfer(Verb.RETR)).isNotNull();
        assertThat(server.tls()).as("TLS stays on after REIN").isTrue();
    }
}
