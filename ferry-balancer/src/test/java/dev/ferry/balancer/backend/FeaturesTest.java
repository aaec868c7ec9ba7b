package dev.ferry.balancer.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.FeatureList;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What FEAT tells a client through the balancer, from what backends said: tables, no sockets. */
class FeaturesTest {

    /** What a Ferry server with TLS lists (InfoCommands). */
    private static final List<String> FERRY = List.of("AUTH TLS", "EPRT", "EPSV", "HASH SHA-256*;SHA-1;MD5", "HOST", "MDTM",
            "MFMT", "MLST type*;size*;modify*;perm*;unique*;", "PASV", "PBSZ", "PROT", "REST STREAM", "SIZE", "TVFS", "UTF8");
    /** What vsftpd 3 lists with ssl_enable. */
    private static final List<String> VSFTPD = List.of("AUTH SSL", "AUTH TLS", "EPRT", "EPSV", "MDTM", "PASV", "PBSZ", "PROT",
            "REST STREAM", "SIZE", "TVFS", "UTF8");

    private static List<String> list(String... features) {
        return List.of(features);
    }

    /** A FEAT listing as a backend sends it, codes included. */
    private static List<String> listing(String... features) {
        List<String> lines = new ArrayList<>();
        lines.add("211-Features:");
        for (String f : features) {
            lines.add(" " + f);
        }
        lines.add("211 End");
        return lines;
    }

    static Stream<Arguments> replies() {
        return Stream.of(
                Arguments.of(211, listing("EPRT", "MFMT", "HASH SHA-256*;MD5"), list("EPRT", "MFMT", "HASH SHA-256*;MD5")),
                // As the check's ControlConnection reads it: first and last line without their code.
                Arguments.of(211, list("Extensions supported", " MDTM", " SIZE", "END"), list("MDTM", "SIZE")),
                // RFC 2389 §3.2: only lines that begin with a space are features; blanks and repeats are dropped.
                Arguments.of(211, list("211-Features:", "211-EPRT", " ", " SIZE", " size", "  MDTM  ", "211 End"), list("SIZE", "MDTM")),
                Arguments.of(211, list("211 No features."), list()),
                Arguments.of(211, list("211-Features:", "211 End"), list()),
                // A server without FEAT (500, 502), one that will not say before login (530), or one that
                // answers something else than a listing announces nothing.
                Arguments.of(500, list("500 'FEAT': command not understood."), list()),
                Arguments.of(502, list("502 Not implemented."), list()),
                Arguments.of(530, list("530 Please login with USER and PASS."), list()),
                Arguments.of(200, list("200 ok"), list()),
                // Transient replies say nothing yet.
                Arguments.of(421, list("421 Timeout."), null),
                Arguments.of(450, list("450 Try again."), null));
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @MethodSource("replies")
    void whatAReplyToFeatSaysABackendOffers(int code, List<String> lines, List<String> expected) {
        assertThat(Features.offered(code, lines)).isEqualTo(expected);
    }

    @Test
    void aListingIsBoundedInLinesAndLength() {
        List<String> lines = new ArrayList<>(List.of("211-Features:"));
        lines.add(" " + "X".repeat(Features.MAX_FEATURE_CHARS + 1));
        for (int i = 0; i < 500; i++) {
            lines.add(" F" + i);
        }
        lines.add("211 End");
        List<String> offered = Features.offered(211, lines);
        assertThat(offered).hasSize(Features.MAX_FEATURES).startsWith("F0");
    }

    static Stream<Arguments> afterLogin() {
        return Stream.of(
                // A balancer without TLS answers AUTH with 502 and PBSZ, PROT, CCC itself: a Ferry backend's
                // AUTH TLS must not reach the client; HASH and MFMT must.
                Arguments.of(FERRY, false, list("EPRT", "EPSV", "HASH SHA-256*;SHA-1;MD5", "HOST", "MDTM", "MFMT",
                        "MLST type*;size*;modify*;perm*;unique*;", "PASV", "REST STREAM", "SIZE", "TVFS", "UTF8")),
                // A terminating balancer in front of plain backends lists TLS (RFC 4217 §6).
                Arguments.of(FERRY.stream().filter(f -> !List.of("AUTH TLS", "PBSZ", "PROT").contains(f)).toList(), true,
                        list("AUTH TLS", "EPRT", "EPSV", "HASH SHA-256*;SHA-1;MD5", "HOST", "MDTM", "MFMT",
                                "MLST type*;size*;modify*;perm*;unique*;", "PASV", "PBSZ", "PROT", "REST STREAM", "SIZE", "TVFS", "UTF8")),
                // ...and in front of FTPS backends lists its own once: no AUTH SSL, no CCC (it refuses CCC).
                Arguments.of(list("AUTH SSL", "AUTH TLS", "CCC", "PBSZ", "PROT", "SIZE"), true,
                        list("AUTH TLS", "EPRT", "PBSZ", "PROT", "SIZE")),
                Arguments.of(VSFTPD, false, list("EPRT", "EPSV", "MDTM", "PASV", "REST STREAM", "SIZE", "TVFS", "UTF8")),
                // The balancer serves PORT and EPRT itself: EPRT is listed whatever the backend says.
                Arguments.of(list("SIZE", "MDTM"), false, list("EPRT", "MDTM", "SIZE")),
                Arguments.of(list(), false, list("EPRT")),
                Arguments.of(list(), true, list("AUTH TLS", "EPRT", "PBSZ", "PROT")),
                // Parameters and spelling as the backend sent them; letter case does not make two features.
                Arguments.of(list("mdtm", "LANG EN*;FR", "Eprt", "MDTM"), false, list("Eprt", "LANG EN*;FR", "mdtm")));
    }

    @ParameterizedTest(name = "{0} tls={1} -> {2}")
    @MethodSource("afterLogin")
    void afterLoginTheBackendsFeaturesAsTheBalancerChangesThem(List<String> backend, boolean tls, List<String> expected) {
        assertThat(Features.afterLogin(backend, tls)).isEqualTo(expected);
    }

    @Test
    void beforeLoginHostAndUtf8AreTheBalancersOwn() {
        // The balancer answers HOST and OPTS UTF8 itself before login, and replays them.
        assertThat(Features.shaped(list("SIZE"), false, true)).containsExactly("EPRT", "HOST", "SIZE", "UTF8");
        assertThat(Features.shaped(list("SIZE"), false, false)).containsExactly("EPRT", "SIZE");
    }

    static Stream<Arguments> common() {
        return Stream.of(
                Arguments.of(List.of(FERRY, FERRY), FERRY),
                Arguments.of(List.of(FERRY, VSFTPD), list("AUTH TLS", "EPRT", "EPSV", "MDTM", "PASV", "PBSZ", "PROT",
                        "REST STREAM", "SIZE", "TVFS", "UTF8")),
                // Items of ';'-lists (RFC 3659 §7.8 facts, HASH algorithms) that all share; '*' only if starred in all.
                Arguments.of(List.of(list("MLST type*;size*;modify*;perm*;unique*;"), list("MLST type*;size;modify*;perm;")),
                        list("MLST type*;size;modify*;perm;")),
                Arguments.of(List.of(list("HASH SHA-256*;SHA-1;MD5"), list("HASH SHA-1*;sha-256"), list("HASH SHA-256;SHA-1")),
                        list("HASH SHA-256;SHA-1")),
                Arguments.of(List.of(list("REST STREAM"), list("REST BLOCK")), list()),
                // Labels listed more than once (ProFTPD's SITE lines) only as whole lines.
                Arguments.of(List.of(list("SITE COPY", "SITE MKDIR", "SIZE"), list("SITE MKDIR", "size")), list("SITE MKDIR", "SIZE")),
                Arguments.of(List.of(FERRY, list()), list()),
                Arguments.of(List.of(list("MFMT")), list("MFMT")),
                Arguments.of(List.of(), Features.BASELINE));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("common")
    void whatEveryBackendOffers(List<List<String>> offered, List<String> expected) {
        assertThat(Features.common(offered)).isEqualTo(expected);
    }

    private static Backend backend(String name, List<String> features) {
        Backend b = new Backend(new BalancerSettings.BackendSpec(name, new InetSocketAddress("127.0.0.2", 21), 1), 1, 1);
        if (features != null) {
            b.learnFeatures(features);
        }
        return b;
    }

    @Test
    void beforeLoginEveryBackendInServiceCountsAndOneNotHeardFromCountsAsTheBaseline() {
        Backend ferry1 = backend("s1", FERRY);
        Backend ferry2 = backend("s2", FERRY);
        Backend unknown = backend("s3", null);
        Backend vsftpd = backend("s4", VSFTPD);

        assertThat(Features.beforeLogin(List.of(ferry1, ferry2), true))
                .contains("AUTH TLS", "PBSZ", "PROT", "MFMT", "HASH SHA-256*;SHA-1;MD5");
        assertThat(Features.beforeLogin(List.of(ferry1, ferry2), false))
                .contains("MFMT").doesNotContain("AUTH TLS", "PBSZ", "PROT");
        assertThat(Features.beforeLogin(List.of(ferry1, unknown), false))
                .isEqualTo(Features.shaped(Features.BASELINE, false, true));
        // The baseline is what a Ferry server lists (FeatureList.server): HASH and MFMT included (issue 11).
        assertThat(Features.beforeLogin(List.of(unknown), true)).containsExactly("AUTH TLS", "EPRT", "EPSV",
                "HASH SHA-256*;SHA-1;MD5", "HOST", "MDTM", "MFMT", "MLST type*;size*;modify*;perm*;unique*;", "PASV", "PBSZ", "PROT", "REST STREAM", "SIZE", "TVFS", "UTF8");

        // A backend that takes no new sessions does not count...
        vsftpd.setAdminState(AdminState.MAINT);
        assertThat(Features.beforeLogin(List.of(ferry1, vsftpd), false)).contains("MFMT");
        vsftpd.setAdminState(AdminState.READY);
        assertThat(Features.beforeLogin(List.of(ferry1, vsftpd), false)).doesNotContain("MFMT");
        ferry1.recordCheck(new CheckResult(false, "connect refused", Duration.ZERO, Instant.now()));
        assertThat(Features.beforeLogin(List.of(ferry1, vsftpd), false)).doesNotContain("MFMT", "HASH SHA-256*;SHA-1;MD5");
        // ...unless none does: then every backend (USER will be answered 421, but FEAT stays honest).
        vsftpd.recordCheck(new CheckResult(false, "connect refused", Duration.ZERO, Instant.now()));
        assertThat(Features.beforeLogin(List.of(ferry1, vsftpd), false)).doesNotContain("MFMT").contains("SIZE");
        assertThat(Features.beforeLogin(List.of(ferry1), false)).contains("MFMT");
    }

    @Test
    void theReplyKeepsTheRfc2389Format() {
        assertThat(FeatureList.reply(list("AUTH TLS", "EPRT")).toWire())
                .isEqualTo("211-Features:\r\n AUTH TLS\r\n EPRT\r\n211 End\r\n");
        // RFC 2389 §3.2: "no-features" is one line, never a multi-line reply.
        assertThat(FeatureList.reply(list()).toWire()).isEqualTo("211 No features.\r\n");
    }

    static Stream<Arguments> rewrites() {
        return Stream.of(
                Arguments.of(211, listing("AUTH TLS", "MFMT", "PBSZ", "PROT", "SIZE"), false,
                        "211-Features:\r\n EPRT\r\n MFMT\r\n SIZE\r\n211 End\r\n"),
                Arguments.of(211, listing("MFMT"), true,
                        "211-Features:\r\n AUTH TLS\r\n EPRT\r\n MFMT\r\n PBSZ\r\n PROT\r\n211 End\r\n"),
                // A backend without FEAT is behind a balancer that has some features of its own.
                Arguments.of(502, list("502 Command not implemented."), false, "211-Features:\r\n EPRT\r\n211 End\r\n"),
                Arguments.of(211, list("211 no features"), true,
                        "211-Features:\r\n AUTH TLS\r\n EPRT\r\n PBSZ\r\n PROT\r\n211 End\r\n"),
                // A reply that is no answer about features goes to the client as it is.
                Arguments.of(421, list("421 Shutting down."), true, null));
    }

    @ParameterizedTest(name = "{0} {1} tls={2}")
    @MethodSource("rewrites")
    void afterLoginTheBackendsReplyIsRewritten(int code, List<String> lines, boolean tls, String expected) {
        Reply r = Features.rewriteReply(code, lines, tls);
        assertThat(r == null ? null : r.toWire()).isEqualTo(expected);
    }
}
