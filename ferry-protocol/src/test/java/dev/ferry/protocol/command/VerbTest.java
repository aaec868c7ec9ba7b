package dev.ferry.protocol.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class VerbTest {

    @Test
    void exactlyTheTransferCommandsMoveData() {
        // RFC 4217 §10.2 names these as the commands that open a data connection.
        assertThat(Arrays.stream(Verb.values()).filter(Verb::movesData))
                .containsExactlyInAnyOrder(Verb.RETR, Verb.STOR, Verb.APPE, Verb.STOU, Verb.LIST, Verb.NLST, Verb.MLSD);
    }
}
