package dev.ferry.protocol.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.command.Verb.Data;
import dev.ferry.protocol.command.Verb.Feature.Offered;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class VerbTest {

    @Test
    void exactlyTheTransferCommandsMoveData() {
        // RFC 4217 §10.2 names these as the commands that open a data connection; MLSD (RFC 3659 §7) too.
        assertThat(Arrays.stream(Verb.values()).filter(Verb::movesData))
                .containsExactlyInAnyOrder(Verb.RETR, Verb.STOR, Verb.APPE, Verb.STOU, Verb.LIST, Verb.NLST, Verb.MLSD);
    }

    @Test
    void movesDataIsTheTransferRowsOfTheDataColumn() {
        assertThat(Verb.values()).allSatisfy(v -> assertThat(v.movesData()).isEqualTo(v.data() == Data.TRANSFER));
    }

    @Test
    void exactlyTheFourEndpointCommandsSetUpTheDataConnection() {
        assertThat(Arrays.stream(Verb.values()).filter(v -> v.data() == Data.ENDPOINT))
                .containsExactlyInAnyOrder(Verb.PORT, Verb.EPRT, Verb.PASV, Verb.EPSV);
    }

    @Test
    void onlyTheRfc4217CommandsAreOfferedOnlyWithTls() {
        assertThat(Arrays.stream(Verb.values()).filter(v -> v.feature().offered() == Offered.WITH_TLS))
                .containsExactlyInAnyOrder(Verb.AUTH, Verb.PBSZ, Verb.PROT);
    }

    @Test
    void everyOfferedFeatureHasALineAndNoOtherDoes() {
        assertThat(Verb.values()).allSatisfy(v -> assertThat(v.feature().line() == null)
                .isEqualTo(v.feature().offered() == Offered.NEVER));
    }

    @Test
    void loginColumnAndNeedsLoginAgree() {
        assertThat(Verb.values()).allSatisfy(v ->
                assertThat(v.needsLogin()).isEqualTo(v.login() == Verb.Login.NEEDED));
    }
}
