package dev.ferry.balancer.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.data.Flow;
import dev.ferry.protocol.Reply;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The transfer-completion rules of {@link SessionTransfers#complete}: what the client is told when the backend's final reply comes. */
class SessionTransfersTest {

    @ParameterizedTest(name = "{0} answered={1} failure={2} routed={3} connected={4} carried={5} -> {6}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            // A 2xx is a promise: passed on only for data carried to its end.
            "226 | false | - | true | true | CLEAN | pass",
            "250 | false | - | true | true | CLEAN | pass",
            "226 | false | - | true | true | RESET | 426 Data connection lost; transfer aborted. (data-reset)",
            "226 | false | - | true | true | TIMEOUT | 426 Data connection lost; transfer aborted. (data-timeout)",
            "226 | false | - | true | true | GIVEN_UP | 426 Data connection lost; transfer aborted. (data-given_up)",
            "226 | false | - | true | true | - | 426 Data connection lost; transfer aborted. (data-still-moving)",
            "226 | false | - | true | false | - | 425 No data connection was made; transfer not done. (no-data-connection)",
            "226 | false | - | false | false | - | 425 No data connection was made; transfer not done. (no-data-command)",
            // The backend's own failure is its word: passed on, whatever the data did.
            "426 | false | - | true | true | RESET | pass",
            "426 | false | - | true | true | CLEAN | pass",
            "550 | false | - | true | false | - | pass",
            "451 | false | - | false | false | - | pass",
            // The data connection could not be made: the balancer's reason, not the backend's, and logged where it failed.
            "226 | false | 522 TLS negotiation on the data connection failed. | true | true | RESET | 522 TLS negotiation on the data connection failed.",
            "426 | false | 425 Cannot open the data connection to the server. | true | true | - | 425 Cannot open the data connection to the server.",
            // The balancer answered already (the data timed out): the backend's reply is dropped.
            "226 | true | - | true | true | CLEAN | drop",
            "426 | true | 425 Cannot open the data connection to the server. | true | true | - | drop"})
    void aTransfersFinalReplyFollowsWhatTheDataDid(int code, boolean answered, String failure, boolean routed,
                                                   boolean connected, Flow.End carried, String expected) {
        Reply failed = failure == null ? null : Reply.of(Integer.parseInt(failure.substring(0, 3)), failure.substring(4));
        SessionTransfers.Completion c = SessionTransfers.complete(code, answered, failed, routed, connected, carried);
        String got = switch (c) {
            case SessionTransfers.Completion.PassOn p -> "pass";
            case SessionTransfers.Completion.Drop d -> "drop";
            case SessionTransfers.Completion.Replace r -> r.reply().code() + " " + r.reply().lines().getFirst()
                    + (r.reason() == null ? "" : " (" + r.reason() + ")");
        };
        assertThat(got).isEqualTo(expected);
    }
}
