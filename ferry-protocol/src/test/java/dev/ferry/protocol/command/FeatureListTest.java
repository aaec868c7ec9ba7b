package dev.ferry.protocol.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FeatureListTest {

    private static final Set<String> ALL_FACTS = Set.copyOf(FeatureList.MLST_FACTS);

    /** What ferry server's InfoCommands.features() answered before FEAT came from the table. */
    @Test
    void aServerWithoutTlsListsTodaysFeatures() {
        assertThat(FeatureList.server(false, "SHA-256", ALL_FACTS)).containsExactly(
                "EPRT",
                "EPSV",
                "HASH SHA-256*;SHA-1;MD5",
                "HOST",
                "MDTM",
                "MFMT",
                "MLST type*;size*;modify*;perm*;unique*;",
                "PASV",
                "REST STREAM",
                "SIZE",
                "TVFS",
                "UTF8");
    }

    // RFC 4217 §6: a server that offers FEAT lists AUTH (with TLS), PBSZ and PROT.
    @Test
    void aServerWithTlsAddsAuthPbszAndProtInTheirPlaces() {
        assertThat(FeatureList.server(true, "SHA-256", ALL_FACTS)).containsExactly(
                "AUTH TLS",
                "EPRT",
                "EPSV",
                "HASH SHA-256*;SHA-1;MD5",
                "HOST",
                "MDTM",
                "MFMT",
                "MLST type*;size*;modify*;perm*;unique*;",
                "PASV",
                "PBSZ",
                "PROT",
                "REST STREAM",
                "SIZE",
                "TVFS",
                "UTF8");
    }

    @Test
    void theSessionsHashAlgorithmAndMlstFactsAreStarred() {
        assertThat(FeatureList.server(false, "MD5", Set.of("type", "modify")))
                .contains("HASH SHA-256;SHA-1;MD5*", "MLST type*;size;modify*;perm;unique;");
    }

    @Test
    void mlstFactsAreMatchedWithoutRegardToCase() {
        assertThat(FeatureList.mlstParameters(FeatureList.MLST_FACTS, Set.of("Size"))).isEqualTo("type;size*;modify;perm;unique;");
    }

    @Test
    void onlyTheServedVerbsAndTheExtrasAreListedSorted() {
        assertThat(FeatureList.of(List.of(Verb.SIZE, Verb.EPSV, Verb.USER, Verb.AUTH), false, Map.of(), List.of("UTF8", "epsv")))
                .containsExactly("EPSV", "SIZE", "UTF8");
    }

    @Test
    void aServedVerbWithoutItsParametersIsABug() {
        assertThatThrownBy(() -> FeatureList.of(List.of(Verb.HASH), false, Map.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("HASH");
    }

    // RFC 2389 §3.2: a server with no features answers with a single line.
    @Test
    void theReplyIsAListingOrTheSingleLineOfNoFeatures() {
        assertThat(FeatureList.reply(List.of("EPSV", "SIZE")).toWire()).isEqualTo("211-Features:\r\n EPSV\r\n SIZE\r\n211 End\r\n");
        assertThat(FeatureList.reply(List.of())).hasToString("211 No features.");
    }
}
