package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Before login the balancer answers the client itself, and after it a Ferry server does: both must speak the
 * same FTP. Over real sockets, each conversation is held once with a server directly and once through the
 * balancer, and every reply must be the same, code and text (issue 11: one FTP rule set for both daemons).
 */
class BalancerPreLoginTest {

    /** What comes before USER, in an order that also exercises REIN forgetting HOST. */
    private static final List<String> CONVERSATION = List.of(
            "FEAT", "HELP", "HELP RETR", "HELP XYZZ", "ACCT billing", "OPTS UTF8 ON", "OPTS UTF8 OFF", "OPTS UTF8 MAYBE",
            "OPTS UTF-8", "HOST ftp.example.com", "HOST bad_name!", "HOST [::1]", "REIN", "HOST ftp.example.com", "SYST",
            "NOOP", "XYZZ", "LIST", "CWD /", "PASS secret", "EPRT |1|127.0.0.1|40000|", "");

    private BalancerCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theBalancerAnswersBeforeLoginWhatAFerryServerAnswers() throws Exception {
        cluster = BalancerCluster.start(BalancerPreLoginTest::terminatingTls);
        // FEAT through the balancer is what every backend in service offers, learned by the ftp checks.
        TestData.within(Duration.ofSeconds(10), "the checks heard both backends' FEAT", () -> cluster.backend(0).features() != null
                && cluster.backend(1).features() != null);

        assertThat(conversation(cluster.port())).isEqualTo(conversation(cluster.server(0).address().getPort()));
    }

    /** The test servers offer FTPS: the balancer must too, or FEAT would rightly differ in AUTH, PBSZ and PROT. */
    private static BalancerSettings terminatingTls(BalancerSettings s) {
        return s.withTls(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.TERMINATE));
    }

    /** Every reply of {@link #CONVERSATION}, as "code line|line|..." for a readable failure. */
    private static List<String> conversation(int port) throws Exception {
        List<String> replies = new ArrayList<>();
        try (RawFtp ftp = RawFtp.greeted(port)) {
            for (String line : CONVERSATION) {
                RawFtp.Reply r = ftp.command(line);
                replies.add(line + " -> " + String.join("|", r.lines()));
            }
            replies.add("QUIT -> " + String.join("|", ftp.command("QUIT").lines()));
        }
        return replies;
    }
}
