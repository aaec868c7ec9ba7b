package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.it.FtpsClients;
import dev.ferry.it.TestData;
import dev.ferry.testkit.TestCertificates;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPSClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * FEAT through the balancer tells the truth (RFC 2389), asked by real clients (Python's ftplib, Commons Net)
 * of a balancer on 127.0.0.5 in front of Ferry servers on 127.0.0.2 and 127.0.0.3: the backends' own
 * extensions (HASH, MFMT) are listed, and AUTH TLS, PBSZ and PROT exactly when the balancer terminates TLS,
 * whatever the backends say of them.
 */
class BalancerFeaturesTest {

    private static final String BALANCER = "127.0.0.5";
    private static final String HASH = " HASH SHA-256*;SHA-1;MD5";
    private static final List<String> TLS = List.of(" AUTH TLS", " PBSZ", " PROT");

    private BalancerCluster cluster;

    /** The balancer terminating TLS or not, in front of Ferry servers offering FTPS or not; once both were checked. */
    private BalancerCluster start(boolean terminate, boolean backendTls) throws Exception {
        cluster = BalancerCluster.startEach(
                (index, s) -> s.withListen(new InetSocketAddress("127.0.0." + (2 + index), 0)).withTls(s.tls().withEnabled(backendTls)),
                b -> {
                    BalancerSettings settings = b.withListen(new InetSocketAddress(BALANCER, 0));
                    return terminate ? settings.withTls(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.TERMINATE)) : settings;
                });
        TestData.await("a check heard each backend's FEAT",
                () -> cluster.backend(0).features() != null && cluster.backend(1).features() != null);
        return cluster;
    }

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A reply ftplib printed through {@code out}: its lines. */
    private static List<String> lines(String printed) {
        return Arrays.asList(printed.split("\\\\n"));
    }

    /** Commons Net's FEAT (sent by {@code features()}), before login; the reply's lines. */
    private static List<String> commonsNetFeat(int port, boolean tls) throws Exception {
        FTPClient client = tls ? new FTPSClient(false, TestCertificates.trustAll()) : new FTPClient();
        client.setConnectTimeout(5000);
        client.setDefaultTimeout(10_000);
        try {
            client.connect(BALANCER, port);
            assertThat(client.features()).as(client::getReplyString).isTrue();
            List<String> lines = List.of(client.getReplyStrings());
            assertThat(client.hasFeature("MFMT")).isTrue();
            assertThat(client.featureValue("HASH")).isEqualTo("SHA-256*;SHA-1;MD5");
            return lines;
        } finally {
            client.disconnect();
        }
    }

    @Test
    void beforeLoginThroughATerminatingBalancerFeatListsTheBackendsHashAndMfmtAndTheBalancersTls() throws Exception {
        // Plain backends: AUTH TLS, PBSZ and PROT can come from the balancer only.
        BalancerCluster c = start(true, false);
        assertThat(c.backend(0).features()).contains("MFMT").doesNotContain("AUTH TLS");

        Map<String, String> v = FtpsClients.python(c.clientDir(), c.port(), """
                ftp = ftplib.FTP_TLS(context=context, timeout=10)
                ftp.connect("%s", PORT)
                out("feat", ftp.sendcmd("FEAT"))
                out("auth", ftp.auth())
                out("login", ftp.login(sys.argv[2], sys.argv[3]))
                ftp.quit()
                """.formatted(BALANCER));
        List<String> commonsNet = commonsNetFeat(c.port(), true);

        for (List<String> feat : List.of(lines(v.get("feat")), commonsNet)) {
            assertThat(feat.getFirst()).isEqualTo("211-Features:");
            assertThat(feat.getLast()).isEqualTo("211 End");
            assertThat(feat).containsAll(TLS).contains(HASH, " MFMT", " EPRT", " EPSV", " HOST", " UTF8", " SIZE", " MDTM",
                    " MLST type*;size*;modify*;perm*;unique*;", " REST STREAM", " TVFS");
        }
        assertThat(v.get("auth")).startsWith("234");
        assertThat(v.get("login")).startsWith("230");
    }

    @Test
    void beforeLoginThroughABalancerWithoutTlsFeatListsNoAuthTlsThoughTheBackendsOfferIt() throws Exception {
        BalancerCluster c = start(false, true);
        assertThat(c.backend(0).features()).as("the backend's own FEAT").contains("AUTH TLS", "PBSZ", "PROT");

        Map<String, String> v = FtpsClients.python(c.clientDir(), c.port(), """
                ftp = ftplib.FTP(timeout=10)
                ftp.connect("%s", PORT)
                out("feat", ftp.sendcmd("FEAT"))
                try:
                    out("auth", ftp.sendcmd("AUTH TLS"))
                except ftplib.error_perm as e:
                    out("auth", e)
                ftp.quit()
                """.formatted(BALANCER));
        List<String> commonsNet = commonsNetFeat(c.port(), false);

        for (List<String> feat : List.of(lines(v.get("feat")), commonsNet)) {
            assertThat(feat).doesNotContainAnyElementsOf(TLS).contains(HASH, " MFMT", " EPRT", " HOST", " UTF8");
        }
        // What FEAT says holds: this balancer refuses AUTH.
        assertThat(v.get("auth")).startsWith("502");
    }

    @Test
    void afterLoginFeatListsTheBalancersTlsAndTheBackendsExtensions() throws Exception {
        String script = """
                ftp = ftplib.%s
                ftp.connect("%s", PORT)
                ftp.login(sys.argv[2], sys.argv[3])
                out("feat", ftp.sendcmd("FEAT"))
                ftp.quit()
                """;
        // Terminating, plain backends: the backends list no TLS, the balancer offers it.
        start(true, false);
        List<String> terminating = lines(FtpsClients.python(cluster.clientDir(), cluster.port(),
                script.formatted("FTP_TLS(context=context, timeout=10)", BALANCER)).get("feat"));
        cluster.close();
        // Plain balancer, FTPS backends: the backends list TLS, the balancer refuses it.
        start(false, true);
        List<String> plain = lines(FtpsClients.python(cluster.clientDir(), cluster.port(),
                script.formatted("FTP(timeout=10)", BALANCER)).get("feat"));

        assertThat(terminating).containsAll(TLS).contains(HASH, " MFMT", " EPRT");
        assertThat(plain).doesNotContainAnyElementsOf(TLS).contains(HASH, " MFMT", " EPRT");
    }
}
