package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.database.DatabaseSettings;
import dev.ferry.it.Browser;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.runtime.Version;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.testkit.PostgresServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The stats page in a real browser (Debian's headless Chromium, see {@link Browser}) against a real
 * cluster (two servers and a balancer, round robin) with real FTP sessions: what a person logging in
 * sees and what the page's buttons do to where new sessions go.
 *
 * <p>The page refreshes itself every few seconds; the test never reloads it, it waits (with
 * explicit conditions, never a sleep) for the refresh to show what the cluster did. A failed wait
 * says what the page showed at that moment.
 *
 * <p>Besides, it saves screenshots of the page (desktop and phone, three backends with traffic and the
 * charts filled in) to target/screenshots/; the ones in docs/ are copies of these.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StatsPageBrowserTest {

    private static final String ADMIN = "ops";
    private static final String ADMIN_PASSWORD = "ops-Pa55word";
    private static final String VIEWER = "viewer";
    private static final String VIEWER_PASSWORD = "viewer-Pa55word";
    /** Cheap Argon2id parameters: what is tested here is the page's login, not the hash's cost. */
    private static final List<AdminSettings.User> USERS = List.of(
            new AdminSettings.User(ADMIN, PasswordHasher.hash(ADMIN_PASSWORD.toCharArray(), 64, 1, 1), AdminSettings.Role.ADMIN),
            new AdminSettings.User(VIEWER, PasswordHasher.hash(VIEWER_PASSWORD.toCharArray(), 64, 1, 1), AdminSettings.Role.READ_ONLY));
    /** Long enough for a refresh (every 3 s) plus a slow start of the browser on a busy machine. */
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir
    Path tmp;
    private BalancerCluster cluster;
    private AdminServer admin;
    private ChromeDriver driver;
    /** Sessions and data connections held open while the page looks at them; closed after each test. */
    private final List<AutoCloseable> held = new ArrayList<>();
    /** The accounts' database of the Users test; stopped after the balancer that uses it. */
    private PostgresServer pg;

    @AfterEach
    void stop() throws Exception {
        try {
            if (driver != null) {
                driver.quit();
            }
        } finally {
            try {
                for (AutoCloseable c : held.reversed()) {
                    c.close();
                }
            } finally {
                if (admin != null) {
                    admin.close();
                }
                if (cluster != null) {
                    cluster.close();
                }
                if (pg != null) {
                    pg.close();
                }
            }
        }
    }

    // ---- the tests -----------------------------------------------------------------------------

    @Test
    void anAdminLogsInDrainsABackendSeesNewSessionsGoToTheOtherAndPutsItBack() throws Exception {
        start(1280, 900);

        logIn(ADMIN, "not-the-password");
        WebElement error = waitFor("the login form says the password is wrong",
                d -> shown(By.id("login-error")) ? d.findElement(By.id("login-error")) : null);
        assertThat(error.getText()).isEqualTo("Wrong user name or password.");
        assertThat(shown(By.id("dashboard"))).as("no dashboard without a login; the page shows: %s", pageText()).isFalse();
        assertThat(driver.findElements(By.cssSelector("#backends tbody tr"))).as("no backend data without a login").isEmpty();
        assertThat(pageText()).doesNotContain("s1", "s2");

        logIn(ADMIN, ADMIN_PASSWORD);
        waitForState("s1", "up");
        waitForState("s2", "up");
        assertThat(driver.findElement(By.id("who-user")).getText()).isEqualTo(ADMIN);
        assertThat(shown(By.id("login"))).isFalse();

        Backend s1 = cluster.backend(0);
        Backend s2 = cluster.backend(1);
        click("s1", "drain");
        waitForState("s1", "drain");
        assertThat(s1.adminState()).isEqualTo(AdminState.DRAIN);
        assertThat(cell("s1", "state").getText()).contains("checks: up", "admin: drain");

        long s1Before = s1.totalSessions();
        long s2Before = s2.totalSessions();
        for (int i = 0; i < 4; i++) {
            shortSession();
        }
        assertThat(s1.totalSessions()).as("no new session on the drained s1").isEqualTo(s1Before);
        assertThat(s2.totalSessions() - s2Before).as("all new sessions on s2").isEqualTo(4);
        // The page's next refresh shows the same.
        String s2Total = "/ " + s2.totalSessions();
        waitFor("s2's row shows " + s2Total + " sessions", d -> cell("s2", "sessions").getText().endsWith(s2Total));
        assertThat(cell("s1", "sessions").getText()).endsWith("/ " + s1Before);

        click("s1", "ready");
        waitForState("s1", "up");
        assertThat(s1.adminState()).isEqualTo(AdminState.READY);
        for (int i = 0; i < 10 && s1.totalSessions() == s1Before; i++) {
            shortSession();
        }
        assertThat(s1.totalSessions()).as("s1 takes new sessions again").isGreaterThan(s1Before);
    }

    @Test
    void aReadOnlyUserSeesTheBackendsButNoAdminButtons() throws Exception {
        start(1280, 900);
        logIn(VIEWER, VIEWER_PASSWORD);
        waitForState("s1", "up");
        waitForState("s2", "up");

        assertThat(driver.findElement(By.id("who-role")).getText()).isEqualTo("read-only");
        List<WebElement> buttons = driver.findElements(By.cssSelector("#backends button, #sessions button"));
        assertThat(buttons).as("the rows carry their buttons, hidden").isNotEmpty();
        assertThat(buttons).as("no admin button is visible; the page shows: %s", pageText()).noneMatch(WebElement::isDisplayed);
        assertThat(driver.findElements(By.cssSelector("[data-weight-input]"))).noneMatch(WebElement::isDisplayed);
        assertThat(pageText()).doesNotContain("Actions");
        assertThat(shown(By.id("sessions-empty"))).as("no sessions: a sentence says so").isTrue();
        assertThat(shown(By.id("sessions"))).as("and no empty table").isFalse();
    }

    @Test
    void withLiveSessionsThePageReadsWellOnADesktopAndFitsAPhone() throws Exception {
        start(1280, 900);
        liveSessions();
        logIn(ADMIN, ADMIN_PASSWORD);
        waitForState("s1", "up");
        waitForState("s2", "up");
        waitForLiveSessions(3);
        waitFor("a transfer in progress", d -> pageText().contains("RETR · transferring"));
        List<WebElement> users = driver.findElements(By.cssSelector("#sessions tbody td[data-cell='user']"));
        assertThat(users).extracting(WebElement::getText).containsOnly(BalancerCluster.USER);

        // A desktop window cannot be made this narrow (Chromium keeps it 500 px wide at least): a phone's screen is emulated.
        driver.executeCdpCommand("Emulation.setDeviceMetricsOverride",
                Map.of("width", 390, "height", 844, "deviceScaleFactor", 1, "mobile", true));
        Map<String, Object> widths = js("return {scroll: document.documentElement.scrollWidth,"
                + " client: document.documentElement.clientWidth};");
        assertThat(((Number) widths.get("client")).intValue()).as("the viewport of a phone").isEqualTo(390);
        assertThat(((Number) widths.get("scroll")).longValue())
                .as("no horizontal scrolling (%s)", widths)
                .isLessThanOrEqualTo(((Number) widths.get("client")).longValue());
        assertThat(driver.findElement(backendRow("s1")).isDisplayed()).isTrue();
        assertThat(driver.findElement(backendRow("s2")).isDisplayed()).isTrue();
        // A table too wide would scroll inside its box rather than the document: every row must fit the screen itself.
        for (WebElement row : driver.findElements(By.cssSelector("#backends tbody tr, #sessions tbody tr"))) {
            assertThat(row.getRect().getX() + row.getRect().getWidth())
                    .as("the right edge of the row %s", row.getText().replace('\n', ' '))
                    .isLessThanOrEqualTo(390);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void thePageNamesTheNodeAndVersionAndDrawsTheLastHourOfEachBackend() throws Exception {
        // Three backends: s1 and s2 serve; s3 points at a port nobody listens on, so it is down, with failed checks
        // and downtime. Samples every 100 ms instead of 30 s: the charts fill within seconds.
        start(1366, 900, s -> s.withBalance(BalancerSettings.Balance.ROUNDROBIN).withNode("lb1")
                .withBackends(List.of(s.backends().get(0), s.backends().get(1),
                        new BalancerSettings.BackendSpec("s3", new InetSocketAddress("127.0.0.1", 9), 1))),
                Duration.ofMillis(100));
        logIn(ADMIN, ADMIN_PASSWORD);
        waitForState("s1", "up");
        waitForState("s2", "up");
        waitForState("s3", "down");

        assertThat(driver.findElement(By.id("node")).getText()).isEqualTo("lb1");
        assertThat(driver.findElement(By.id("version")).getText()).isEqualTo(Version.text()).isNotEqualTo("unknown");
        assertThat(driver.getTitle()).isEqualTo("Ferry balancer lb1 · " + Version.text());

        traffic();
        waitFor("s3's downtime and failed checks", d -> !cell("s3", "downtime").getText().equals("0s")
                && cell("s3", "checks").getText().matches("[1-9][0-9]* · 1"));
        waitFor("peaks of s1 and s2", d -> Integer.parseInt(cell("s1", "peak").getText()) >= 2
                && Integer.parseInt(cell("s2", "peak").getText()) >= 2);
        assertThat(driver.findElement(By.id("sum-sessions")).getText()).matches("[0-9]+ / [1-9][0-9]* / [0-9]+");

        // A card per backend, each with its two charts; s1's carry the traffic (a line with points, bytes moved).
        waitFor("a chart per backend with samples", d -> d.findElements(By.cssSelector("#charts .chart-card")).size() == 3
                && Integer.parseInt(chart("s1", "sessions").getDomAttribute("data-samples")) >= 20);
        // Read at once, in the page: the script redraws the charts at every refresh.
        Map<String, Map<String, Object>> charts = js("""
                const all = {};
                document.querySelectorAll('#charts .chart-card').forEach(function (card) {
                  all[card.dataset.chart] = {
                    sessionLines: card.querySelectorAll('svg.chart-sessions polyline').length,
                    byteLines: card.querySelectorAll('svg.chart-bytes polyline').length,
                    points: Array.from(card.querySelectorAll('svg.chart-sessions polyline.series-sessions'))
                        .map(function (l) { return l.getAttribute('points'); }).join(' '),
                    text: card.innerText
                  };
                });
                return all;""");
        assertThat(charts).containsOnlyKeys("s1", "s2", "s3");
        charts.forEach((name, c) -> {
            assertThat((Long) c.get("sessionLines")).as(name).isPositive();
            assertThat((Long) c.get("byteLines")).as(name).isPositive();
        });
        assertThat((String) charts.get("s1").get("text")).as("s1's figures").doesNotContain("in 0 B").doesNotContain("out 0 B");
        String points = (String) charts.get("s1").get("points");
        assertThat(points.split(" ")).as("s1's sessions: %s", points).hasSizeGreaterThan(10);
        assertThat(Arrays.stream(points.split(" ")).map(p -> p.split(",")[1]).distinct().count())
                .as("s1's sessions rise and fall: %s", points).isGreaterThan(1);
        assertThat(shown(By.id("charts-empty"))).isFalse();
        screenshotDown("stats-page.png", "main");

        driver.executeCdpCommand("Emulation.setDeviceMetricsOverride",
                Map.of("width", 390, "height", 844, "deviceScaleFactor", 1, "mobile", true));
        Map<String, Object> widths = js("return {scroll: document.documentElement.scrollWidth,"
                + " client: document.documentElement.clientWidth};");
        assertThat(((Number) widths.get("scroll")).longValue()).as("no horizontal scrolling (%s)", widths)
                .isLessThanOrEqualTo(((Number) widths.get("client")).longValue());
        for (WebElement card : driver.findElements(By.cssSelector("#charts .chart-card, #backends tbody tr"))) {
            assertThat(card.getRect().getX() + card.getRect().getWidth()).as(card.getText()).isLessThanOrEqualTo(390);
        }
        // On a phone the page is long: down to the charts (summary, backends, the last hour), not every session.
        screenshotDown("stats-page-narrow.png", "#charts");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void anAdminAddsAUserSeesItsMadePasswordOnceAndDisablesIt() throws Exception {
        pg = PostgresServer.create();
        start(1280, 900, s -> s.withDatabase(new DatabaseSettings(pg.url(), pg.user(), pg.passwordFile())),
                Duration.ofSeconds(30));
        logIn(ADMIN, ADMIN_PASSWORD);
        waitFor("the Users section says there is no account", d -> shown(By.id("accounts-empty")));

        driver.findElement(By.id("account-name")).sendKeys("carol");
        driver.findElement(By.id("account-quota")).sendKeys("10GiB");
        driver.findElement(By.cssSelector("#account-form button")).click();
        WebElement made = waitFor("the password made for carol",
                d -> shown(By.id("account-password")) ? d.findElement(By.id("account-password")) : null);
        assertThat(made.getText()).matches("Password of carol: [A-Za-z0-9_-]{24} \\(shown once; give it to the user now\\)");
        By row = By.cssSelector("#accounts tr[data-account='carol']");
        waitFor("carol's row", d -> shown(row));
        assertThat(driver.findElement(row).findElement(By.cssSelector("td[data-cell='quota']")).getText())
                .isEqualTo("10 GiB · no file limit");
        assertThat(pg.psql(PostgresServer.DATABASE, "SELECT quota_bytes || ' ' || enabled FROM ferry_users WHERE name = 'carol'"))
                .isEqualTo("10737418240 true");

        // The rows are redrawn every few seconds: a click may land on one just replaced, so it is retried.
        waitFor("a click on disable", d -> {
            d.findElement(row).findElement(By.cssSelector("button[data-action='disable']")).click();
            return true;
        });
        waitFor("carol shown disabled", d -> d.findElement(row).findElement(By.cssSelector("td[data-cell='enabled']"))
                .getText().equals("no"));
        assertThat(pg.psql(PostgresServer.DATABASE, "SELECT enabled FROM ferry_users WHERE name = 'carol'")).isEqualTo("f");

        // a viewer sees the account and no form or button
        driver.findElement(By.id("logout")).click();
        waitFor("the login form", d -> shown(By.id("login-form")));
        logIn(VIEWER, VIEWER_PASSWORD);
        waitFor("carol's row for the viewer", d -> shown(row));
        assertThat(shown(By.id("account-form"))).isFalse();
        assertThat(driver.findElements(By.cssSelector("#accounts button"))).noneMatch(WebElement::isDisplayed);
    }

    // ---- the cluster and its sessions ----------------------------------------------------------

    /** A cluster with its admin listener on a free loopback port, and the page open in a browser of that size. */
    private void start(int width, int height) throws IOException {
        start(width, height, s -> s.withBalance(BalancerSettings.Balance.ROUNDROBIN), Duration.ofSeconds(30));
    }

    /** As {@link #start(int, int)}, the balancer configured by {@code configure}, the charts sampled every {@code history}. */
    private void start(int width, int height, UnaryOperator<BalancerSettings> configure, Duration history) throws IOException {
        cluster = BalancerCluster.start(configure);
        admin = AdminServer.start(cluster.balancer().status(), new AdminSettings(new InetSocketAddress("127.0.0.1", 0), USERS),
                Map.of("/metrics", cluster.balancer().status().metrics().handler()), history);
        driver = Browser.start(tmp.resolve("profile"), width, height);
        driver.get(admin.url());
        waitFor("the login form", d -> shown(By.id("login-form")));
    }

    /** One short session: log in, NOOP, QUIT, and wait until the balancer closed the connection. */
    private void shortSession() throws IOException {
        try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            ftp.command("NOOP", 200);
            ftp.command("QUIT", 221);
            assertThat(ftp.closedByServer()).isTrue();
        }
    }

    /**
     * Three sessions that stay open, for the page to show: one idle after a listing, one that has
     * downloaded a file, and one in the middle of a download that stalls because nobody reads it.
     */
    private void liveSessions() throws IOException {
        TestData.randomFile(cluster.root().resolve("report.csv"), 180_000, 1);
        TestData.randomFile(cluster.root().resolve("backup.tar"), 32 << 20, 2);

        RawFtp idle = hold(RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD));
        idle.command("PWD", 257);

        RawFtp done = hold(RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD));
        InetSocketAddress data = done.pasv();
        try (Socket in = new Socket(data.getAddress(), data.getPort())) {
            done.command("RETR report.csv", 150);
            assertThat(in.getInputStream().readAllBytes()).hasSize(180_000);
        }
        done.expect(226);

        RawFtp busy = hold(RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD));
        InetSocketAddress busyData = busy.pasv();
        Socket stalled = hold(new Socket(busyData.getAddress(), busyData.getPort()));
        stalled.setReceiveBufferSize(64 * 1024);
        busy.command("RETR backup.tar", 150);
    }

    /**
     * Some seconds of traffic for the charts: downloads and uploads of several sizes, and sessions that stay open
     * one after another (held until the test ends), so that sessions and bytes rise and fall.
     */
    private void traffic() throws IOException, InterruptedException {
        int[] sizes = {40_000, 400_000, 1_500_000};
        for (int i = 0; i < sizes.length; i++) {
            TestData.randomFile(cluster.root().resolve("file" + i + ".bin"), sizes[i], i);
        }
        for (int round = 0; round < 30; round++) {
            if (round % 4 == 0 && round < 24) {
                hold(RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)).command("PWD", 257);
            }
            try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
                ftp.command("TYPE I", 200);
                InetSocketAddress data = ftp.pasv();
                try (Socket in = new Socket(data.getAddress(), data.getPort())) {
                    ftp.command("RETR file" + round % sizes.length + ".bin", 150);
                    assertThat(in.getInputStream().readAllBytes()).hasSize(sizes[round % sizes.length]);
                }
                ftp.expect(226);
                if (round % 2 == 0) {
                    InetSocketAddress up = ftp.pasv();
                    try (Socket out = new Socket(up.getAddress(), up.getPort())) {
                        ftp.command("STOR up" + round + ".bin", 150);
                        out.getOutputStream().write(TestData.random(sizes[(round / 2) % sizes.length] / 2, round));
                    }
                    ftp.expect(226);
                }
            }
            Thread.sleep(120);   // pacing, so that the rounds spread over the samples
        }
    }

    private <T extends AutoCloseable> T hold(T closeable) {
        held.add(closeable);
        return closeable;
    }

    // ---- the page ------------------------------------------------------------------------------

    private void logIn(String user, String password) {
        WebElement name = driver.findElement(By.id("login-user"));
        name.clear();
        name.sendKeys(user);
        WebElement secret = driver.findElement(By.id("login-password"));
        secret.clear();
        secret.sendKeys(password);
        driver.findElement(By.id("login-submit")).click();
    }

    private static By backendRow(String name) {
        return By.cssSelector("#backends tbody tr[data-backend='" + name + "']");
    }

    /** Backend {@code backend}'s chart of {@code kind} (sessions, bytes) in the last-hour section. */
    private WebElement chart(String backend, String kind) {
        return driver.findElement(By.cssSelector("#charts .chart-card[data-chart='" + backend + "'] svg.chart-" + kind));
    }

    private WebElement cell(String backend, String key) {
        return driver.findElement(backendRow(backend)).findElement(By.cssSelector("td[data-cell='" + key + "']"));
    }

    /** Clicks the backend's button for {@code action} (ready, drain, maint). */
    private void click(String backend, String action) {
        driver.findElement(backendRow(backend)).findElement(By.cssSelector("button[data-action='" + action + "']")).click();
    }

    /** Waits until the backend's state badge, as a person reads it, says {@code state}. */
    private void waitForState(String backend, String state) {
        waitFor(backend + " shown as " + state,
                d -> state.equals(driver.findElement(backendRow(backend)).findElement(By.cssSelector(".backend-state")).getText()));
    }

    private void waitForLiveSessions(int count) {
        waitFor(count + " live sessions", d -> d.findElements(By.cssSelector("#sessions tbody tr")).size() == count);
    }

    /** Waits for {@code condition}; on a timeout the message says what the page showed. */
    private <T> T waitFor(String what, ExpectedCondition<T> condition) {
        return new WebDriverWait(driver, WAIT)
                .ignoring(StaleElementReferenceException.class)
                .withMessage(() -> "waiting for " + what + "; the page shows:\n" + pageText())
                .until(condition);
    }

    private boolean shown(By by) {
        List<WebElement> found = driver.findElements(by);
        return !found.isEmpty() && found.getFirst().isDisplayed();
    }

    /** The page's visible text, for failure messages. */
    private String pageText() {
        try {
            return driver.findElement(By.tagName("body")).getText();
        } catch (WebDriverException e) {
            return "(no page text: " + e.getMessage().lines().findFirst().orElse("") + ")";
        }
    }

    @SuppressWarnings("unchecked")
    private <T> T js(String script) {
        return (T) driver.executeScript(script);
    }

    /**
     * The page from its top down to the bottom of the element {@code selector} finds, beyond the window's height if
     * need be (CDP: Page.captureScreenshot beyond the viewport).
     */
    private void screenshotDown(String name, String selector) throws IOException {
        Map<String, Object> size = js("const r = document.querySelector('" + selector + "').getBoundingClientRect();"
                + " return {width: window.innerWidth, height: Math.ceil(r.bottom + window.scrollY + 12)};");
        Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot", Map.of("format", "png",
                "captureBeyondViewport", true, "clip", Map.of("x", 0, "y", 0, "width", size.get("width"),
                        "height", size.get("height"), "scale", 1)));
        Files.createDirectories(SCREENSHOTS);
        Files.write(SCREENSHOTS.resolve(name), Base64.getDecoder().decode((String) shot.get("data")));
    }
}
