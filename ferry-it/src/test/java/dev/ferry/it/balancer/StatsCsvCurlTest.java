package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.it.ExternalCommand;
import dev.ferry.it.RawFtp;
import dev.ferry.runtime.Version;
import dev.ferry.runtime.password.PasswordHasher;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What an HAProxy user's scripts get from the admin listener, with the real curl, cut and awk: a cluster of two
 * servers behind the balancer, s2 stopped so that its checks mark it down, and one session through s1.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StatsCsvCurlTest {

    private static final String READER = "watch";
    private static final String READER_PASSWORD = "watch-Pa55word";
    /** HAProxy's column count up to algo (fields 0 to 76). */
    private static final int COLUMNS = 77;

    private BalancerCluster cluster;
    private AdminServer admin;
    private String base;

    @BeforeEach
    void start() throws Exception {
        cluster = BalancerCluster.start(s -> s.withBalance(BalancerSettings.Balance.ROUNDROBIN));
        admin = AdminServer.start(cluster.balancer().status(), new AdminSettings(new InetSocketAddress("127.0.0.1", 0),
                List.of(new AdminSettings.User(READER, PasswordHasher.hash(READER_PASSWORD.toCharArray()),
                        AdminSettings.Role.READ_ONLY))), Map.of("/metrics", cluster.balancer().status().metrics().handler()));
        base = "http://127.0.0.1:" + admin.address().getPort();
        cluster.stopServer(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (cluster.backend(1).checkState() != CheckState.DOWN && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(cluster.backend(1).checkState()).isEqualTo(CheckState.DOWN);
        try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            ftp.command("NOOP", 200);
        }
    }

    @AfterEach
    void stop() throws IOException {
        if (admin != null) {
            admin.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private ExternalCommand.Result sh(String script) throws Exception {
        return ExternalCommand.run(cluster.clientDir(), Duration.ofSeconds(20), "sh", "-c", script).assertSuccess();
    }

    private String curl(String pathAndOptions) {
        return "curl -sS -u " + READER + ":" + READER_PASSWORD + " '" + base + pathAndOptions + "'";
    }

    @Test
    void cutAndAwkReadTheCsvAsTheyReadHaproxys() throws Exception {
        // Every line, the header included, has HAProxy's 77 fields and its trailing comma.
        assertThat(sh(curl("/stats;csv") + " | awk -F, '{print NF}' | sort -u").stdout()).isEqualTo((COLUMNS + 1) + "\n");
        assertThat(sh(curl("/stats;csv") + " | head -1 | cut -d, -f1-10").stdout())
                .isEqualTo("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout\n");
        // The usual monitoring one-liner: proxy, server, status.
        assertThat(sh(curl("/stats;csv") + " | grep -v '^#' | cut -d, -f1,2,18").stdout())
                .isEqualTo("ftp,FRONTEND,OPEN\nftp,s1,UP\nftp,s2,DOWN\nftp,BACKEND,UP\n");
        // s2: chkfail (22) and chkdown (23) counted, type (33) 2 = server, addr (74).
        String s2 = sh(curl("/stats?csv") + " | awk -F, '$2 == \"s2\"' | cut -d, -f22,23,33,74").stdout().strip();
        String[] f = s2.split(",");
        assertThat(Long.parseLong(f[0])).isGreaterThanOrEqualTo(2);
        assertThat(f[1]).isEqualTo("1");
        assertThat(f[2]).isEqualTo("2");
        assertThat(f[3]).isEqualTo("127.0.0.1:" + cluster.backend(1).address().getPort());
        // s1: the session counted in stot (8) and lbtot (31); the frontend's stot counts it too.
        assertThat(sh(curl("/;csv") + " | awk -F, '$2 == \"s1\" {print $8, $31}'").stdout()).isEqualTo("1 1\n");
        assertThat(sh(curl("/stats;csv") + " | awk -F, '$2 == \"FRONTEND\" {print $8, $33}'").stdout()).isEqualTo("1 0\n");
    }

    @Test
    void curlOfStatsGetsATableAndCurlOfAMissingPathTheListOfPaths() throws Exception {
        List<String> table = sh(curl("/stats")).stdout().lines().toList();
        assertThat(table).hasSize(5);
        assertThat(table.get(0)).startsWith("name ").contains("status", "sessions", "total", "chk_failed", "downtime_s");
        assertThat(table).extracting(l -> String.join(" ", List.of(l.split(" +")).subList(0, 2)))
                .containsExactly("name status", "FRONTEND OPEN", "s1 UP", "s2 DOWN", "BACKEND UP");
        // Fixed width: the status column starts at the same place on every line.
        int status = table.get(0).indexOf("status");
        assertThat(table).allSatisfy(l -> assertThat(l.charAt(status - 1)).isEqualTo(' '));
        assertThat(table).allSatisfy(l -> assertThat(l.charAt(status)).isNotEqualTo(' '));

        ExternalCommand.Result missing = sh("curl -sS -w '\\n%{http_code}\\n' '" + base + "/stats.csv'");
        assertThat(missing.stdout()).contains("/stats;csv", "/api/status", "/metrics").endsWith("\n404\n");
        assertThat(sh("curl -sS -o /dev/null -w '%{http_code}' '" + base + "/stats;csv'").stdout()).isEqualTo("401");
    }

    @Test
    void theHtmlPageReadsWithoutItsScript() throws Exception {
        // What a text browser reads: the page's HTML as curl gets it, tags stripped, one backend row a line.
        String rows = sh(curl("/stats") + " -H 'Accept: text/html' | grep '<tr data-backend=' | sed -e 's/<[^>]*>/ /g'"
                + " -e 's/  */ /g' -e 's/^ //'").stdout();
        assertThat(rows.lines().toList()).satisfiesExactly(
                s1 -> assertThat(s1).startsWith("s1 up checks: up, admin: ready ok").contains(" 0 / 1 "),
                s2 -> assertThat(s2).startsWith("s2 down checks: down, admin: ready failed").contains(" 0 / 0 "));
        assertThat(sh(curl("/stats") + " -H 'Accept: text/html' | grep -o '<title>[^<]*</title>'").stdout().strip())
                .isEqualTo("<title>Ferry balancer " + cluster.balancer().status().settings().node() + " · " + Version.text()
                        + "</title>");
    }
}
