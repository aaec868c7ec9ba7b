package dev.ferry.server.auth.hook;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.runtime.json.JsonReader;
import dev.ferry.server.ServerSettings.Anonymous;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.auth.LoginResult.Reason;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Bandwidth;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Quota;
import dev.ferry.server.policy.Right;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HookAccounts against a JDK HttpServer on loopback that plays an SFTPGo external auth hook. */
@SuppressWarnings("unchecked")
class HookAccountsTest {

    static final InetAddress CLIENT = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;
    private HttpServer http;
    private HookAccounts accounts;
    final AtomicInteger calls = new AtomicInteger();
    final ConcurrentLinkedQueue<String> requests = new ConcurrentLinkedQueue<>();

    /** What the hook answers: status and body for a request body. */
    record Answer(int status, String body, Duration delay) {
        static Answer ok(String body) {
            return new Answer(200, body, Duration.ZERO);
        }
    }

    @AfterEach
    void stop() {
        if (accounts != null) {
            accounts.close();
        }
        if (http != null) {
            http.stop(0);
        }
    }

    HookSettings hook(Function<Map<?, ?>, Answer> answer, Duration timeout, Duration ttl) throws Exception {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 16);
        http.createContext("/auth", exchange -> {
            calls.incrementAndGet();
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(body);
            Answer a = answer.apply((Map<?, ?>) JsonReader.read(body));
            try {
                Thread.sleep(a.delay().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(a.status(), out.length == 0 ? -1 : out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        http.start();
        return new HookSettings(URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/auth"), timeout, ttl);
    }

    HookAccounts open(HookSettings s) throws Exception {
        Files.createDirectories(dir.resolve("root"));
        accounts = new HookAccounts(s, dir.resolve("root"), Anonymous.OFF, "test");
        return accounts;
    }

    /** An SFTPGo hook: alice with password "secret" and a full user object; anyone else gets an empty username. */
    static Answer sftpgo(Map<?, ?> request) {
        if (request.get("username").equals("alice") && request.get("password").equals("se\"cret\n")) {
            return Answer.ok("""
                    {"status": 1, "username": "alice", "home_dir": "/srv/ftp/alice", "uid": 0, "gid": 0,
                     "permissions": {"/": ["list", "download"], "/incoming": ["list", "upload", "create_dirs"],
                                     "/shared": ["*"]},
                     "quota_size": 1073741824, "quota_files": 1000,
                     "upload_bandwidth": 512, "download_bandwidth": 2048, "max_sessions": 2,
                     "filters": {"denied_login_methods": []}, "virtual_folders": []}""");
        }
        return Answer.ok("{\"username\": \"\"}");
    }

    @Test
    void anSftpgoUserObjectBecomesTheAccountAndItsPolicy() throws Exception {
        HookAccounts a = open(hook(HookAccountsTest::sftpgo, Duration.ofSeconds(2), Duration.ZERO));
        LoginResult r = a.login("alice", "se\"cret\n".toCharArray(), CLIENT);

        assertThat(r).isInstanceOf(LoginResult.Success.class);
        LoginResult.Success ok = (LoginResult.Success) r;
        assertThat(ok.home()).isEqualTo(dir.resolve("root/srv/ftp/alice").toAbsolutePath().normalize());
        assertThat(ok.writable()).isTrue();
        assertThat(ok.policy()).isEqualTo(new AccountPolicy(new Quota(1L << 30, 1000),
                new Bandwidth(512 * 1024, 2048 * 1024), 2, new FolderRights(List.of(
                        new FolderRights.Grant(VirtualPath.ROOT, EnumSet.of(Right.LIST, Right.DOWNLOAD)),
                        new FolderRights.Grant(VirtualPath.of("/incoming"), EnumSet.of(Right.LIST, Right.UPLOAD, Right.MKDIR)),
                        new FolderRights.Grant(VirtualPath.of("/shared"), EnumSet.allOf(Right.class))))));
        // The request: SFTPGo's fields, the password's quote and newline escaped by the JSON writer.
        Map<String, Object> sent = (Map<String, Object>) JsonReader.read(requests.peek());
        assertThat(sent).containsEntry("username", "alice").containsEntry("password", "se\"cret\n")
                .containsEntry("ip", "127.0.0.1").containsEntry("protocol", "FTP");
    }

    @Test
    void everythingOnTheRootIsPlainReadWriteAndNoPermissionsIsReadOnly() throws Exception {
        HookAccounts a = open(hook(req -> req.get("username").equals("rw")
                ? Answer.ok("{\"status\":1,\"username\":\"rw\",\"permissions\":{\"/\":[\"*\"]}}")
                : Answer.ok("{\"status\":1,\"username\":\"ro\"}"), Duration.ofSeconds(2), Duration.ZERO));
        LoginResult.Success rw = (LoginResult.Success) a.login("rw", "x".toCharArray(), CLIENT);
        assertThat(rw.writable()).isTrue();
        assertThat(rw.policy()).isEqualTo(AccountPolicy.NONE);
        assertThat(rw.home()).isEqualTo(dir.resolve("root").toAbsolutePath().normalize());
        LoginResult.Success ro = (LoginResult.Success) a.login("ro", "x".toCharArray(), CLIENT);
        assertThat(ro.writable()).isFalse();
    }

    @Test
    void anEmptyUsernameStatusZeroOrA4xxIsAnOrdinaryRefusal() throws Exception {
        HookAccounts a = open(hook(req -> switch ((String) req.get("username")) {
            case "off" -> Answer.ok("{\"status\":0,\"username\":\"off\"}");
            case "nostatus" -> Answer.ok("{\"username\":\"nostatus\",\"permissions\":{\"/\":[\"*\"]}}");
            case "forbidden" -> new Answer(403, "", Duration.ZERO);
            default -> Answer.ok("{\"username\":\"\"}");
        }, Duration.ofSeconds(2), Duration.ZERO));
        assertThat(a.login("bob", "x".toCharArray(), CLIENT)).isEqualTo(new LoginResult.Failure("bob", Reason.BAD_PASSWORD));
        assertThat(a.login("off", "x".toCharArray(), CLIENT)).isEqualTo(new LoginResult.Failure("off", Reason.DISABLED));
        assertThat(a.login("nostatus", "x".toCharArray(), CLIENT))
                .isEqualTo(new LoginResult.Failure("nostatus", Reason.DISABLED));
        assertThat(a.login("forbidden", "x".toCharArray(), CLIENT))
                .isEqualTo(new LoginResult.Failure("forbidden", Reason.BAD_PASSWORD));
    }

    @Test
    void aMalformedAnswerIsRefusedNotGuessedAt() throws Exception {
        HookAccounts a = open(hook(req -> switch ((String) req.get("username")) {
            case "trailing" -> Answer.ok("{\"status\":1,\"username\":\"trailing\",}");
            case "other" -> Answer.ok("{\"status\":1,\"username\":\"root\"}");
            case "escape" -> Answer.ok("{\"status\":1,\"username\":\"escape\",\"home_dir\":\"/../../etc\"}");
            case "quota" -> Answer.ok("{\"status\":1,\"username\":\"quota\",\"quota_size\":-1}");
            default -> Answer.ok("<html>oops</html>");
        }, Duration.ofSeconds(2), Duration.ZERO));
        for (String name : List.of("trailing", "other", "escape", "quota", "html")) {
            assertThat(a.login(name, "x".toCharArray(), CLIENT)).as(name)
                    .isEqualTo(new LoginResult.Failure(name, Reason.DISABLED));
        }
    }

    @Test
    void noAnswerInTimeAServerErrorOrNoHookAtAllIsUnavailable() throws Exception {
        HookAccounts a = open(hook(req -> switch ((String) req.get("username")) {
            case "slow" -> new Answer(200, "{\"status\":1,\"username\":\"slow\"}", Duration.ofSeconds(3));
            default -> new Answer(503, "busy", Duration.ZERO);
        }, Duration.ofMillis(300), Duration.ZERO));
        long start = System.nanoTime();
        assertThat(a.login("slow", "x".toCharArray(), CLIENT)).isEqualTo(new LoginResult.Failure("slow", Reason.UNAVAILABLE));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        assertThat(a.login("bob", "x".toCharArray(), CLIENT)).isEqualTo(new LoginResult.Failure("bob", Reason.UNAVAILABLE));
        http.stop(0);
        assertThat(a.login("bob", "x".toCharArray(), CLIENT)).isEqualTo(new LoginResult.Failure("bob", Reason.UNAVAILABLE));
    }

    @Test
    void aBodyTrickledPastTheTimeoutIsUnavailable() throws Exception {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 4);
        http.createContext("/auth", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, 1000);
            exchange.getResponseBody().write("{\"status\":1,".getBytes(StandardCharsets.UTF_8));
            exchange.getResponseBody().flush();
            try {
                Thread.sleep(3_000);   // headers sent, body stalled: the request timeout alone would not end this
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        http.start();
        HookAccounts a = open(new HookSettings(URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/auth"),
                Duration.ofMillis(400), Duration.ZERO));
        long start = System.nanoTime();
        assertThat(a.login("alice", "x".toCharArray(), CLIENT)).isEqualTo(new LoginResult.Failure("alice", Reason.UNAVAILABLE));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aRememberedLoginDoesNotCallTheHookButAWrongPasswordAlwaysDoes() throws Exception {
        HookAccounts a = open(hook(HookAccountsTest::sftpgo, Duration.ofSeconds(2), Duration.ofMinutes(1)));
        LoginResult first = a.login("alice", "se\"cret\n".toCharArray(), CLIENT);
        assertThat(first).isInstanceOf(LoginResult.Success.class);
        assertThat(a.login("alice", "se\"cret\n".toCharArray(), CLIENT)).isEqualTo(first);
        assertThat(calls).hasValue(1);
        assertThat(a.login("alice", "wrong".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Failure.class);
        assertThat(a.login("alice", "wrong".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Failure.class);
        assertThat(calls).hasValue(3);
    }

    /** A hook that decides by the client's address: its yes for one address must not serve another from the cache. */
    @Test
    void aRememberedLoginServesOnlyTheAddressTheHookWasAskedAbout() throws Exception {
        HookAccounts a = open(hook(req -> req.get("ip").equals("127.0.0.1")
                ? Answer.ok("{\"status\":1,\"username\":\"alice\"}") : Answer.ok("{\"username\":\"\"}"),
                Duration.ofSeconds(2), Duration.ofMinutes(1)));
        assertThat(a.login("alice", "pw".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);
        InetAddress elsewhere = InetAddress.getByName("127.0.0.2");
        assertThat(a.login("alice", "pw".toCharArray(), elsewhere))
                .isEqualTo(new LoginResult.Failure("alice", Reason.BAD_PASSWORD));
        assertThat(calls).hasValue(2);
        assertThat(a.login("alice", "pw".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);
        assertThat(calls).hasValue(2);
    }

    /**
     * SFTPGo hooks "check authentication only" and leave expiry, address and protocol restrictions to the user object's
     * fields, which SFTPGo enforces after the hook: Ferry must too, or a restricted user gets in.
     */
    @Test
    void theRestrictionsOfAnSftpgoUserObjectAreEnforced() throws Exception {
        long past = System.currentTimeMillis() - 60_000;
        long future = System.currentTimeMillis() + 3_600_000;
        Map<String, String> extra = Map.ofEntries(
                Map.entry("expired", "\"expiration_date\":" + past),
                Map.entry("onlyelsewhere", "\"filters\":{\"allowed_ip\":[\"192.0.2.0/24\"]}"),
                Map.entry("denied", "\"filters\":{\"denied_ip\":[\"127.0.0.0/8\"]}"),
                Map.entry("noftp", "\"filters\":{\"denied_protocols\":[\"FTP\"]}"),
                Map.entry("nopassword", "\"filters\":{\"denied_login_methods\":[\"password\"]}"),
                Map.entry("badmask", "\"filters\":{\"allowed_ip\":[\"127.0.0.1\"]}"),
                Map.entry("hugerate", "\"upload_bandwidth\":9007199254740993"),
                Map.entry("valid", "\"expiration_date\":" + future),
                Map.entry("allowedhere", "\"filters\":{\"allowed_ip\":[\"127.0.0.0/8\"],\"denied_ip\":[\"127.0.0.1/32\"]}"),
                Map.entry("deniedelsewhere", "\"filters\":{\"denied_ip\":[\"192.0.2.0/24\"],\"denied_protocols\":[\"SSH\"]}"));
        HookAccounts a = open(hook(req -> {
            String user = (String) req.get("username");
            return Answer.ok("{\"status\":1,\"username\":\"" + user + "\"," + extra.get(user) + "}");
        }, Duration.ofSeconds(2), Duration.ZERO));
        for (String refused : List.of("expired", "onlyelsewhere", "denied", "noftp", "nopassword", "badmask", "hugerate")) {
            assertThat(a.login(refused, "x".toCharArray(), CLIENT)).as(refused)
                    .isEqualTo(new LoginResult.Failure(refused, Reason.DISABLED));
        }
        for (String allowed : List.of("valid", "allowedhere", "deniedelsewhere")) {
            assertThat(a.login(allowed, "x".toCharArray(), CLIENT)).as(allowed).isInstanceOf(LoginResult.Success.class);
        }
    }

    /** A hook that checks a password by binding to a directory would let an empty one in: it is never asked. */
    @Test
    void anEmptyPasswordIsRefusedWithoutAskingTheHook() throws Exception {
        HookAccounts a = open(hook(req -> Answer.ok("{\"status\":1,\"username\":\"alice\"}"), Duration.ofSeconds(2),
                Duration.ZERO));
        assertThat(a.login("alice", new char[0], CLIENT)).isEqualTo(new LoginResult.Failure("alice", Reason.BAD_PASSWORD));
        assertThat(a.login("alice", null, CLIENT)).isEqualTo(new LoginResult.Failure("alice", Reason.BAD_PASSWORD));
        assertThat(calls).hasValue(0);
    }

    /** The cache must not keep letting in an account past the expiration_date its answer gave. */
    @Test
    void aRememberedLoginEndsWhenTheAccountExpires() throws Exception {
        long expires = System.currentTimeMillis() + 600;
        HookAccounts a = open(hook(req -> Answer.ok("{\"status\":1,\"username\":\"alice\",\"expiration_date\":" + expires + "}"),
                Duration.ofSeconds(2), Duration.ofMinutes(1)));
        assertThat(a.login("alice", "pw".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);
        assertThat(a.login("alice", "pw".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);
        assertThat(calls).as("remembered while valid").hasValue(1);
        Thread.sleep(Math.max(0, expires - System.currentTimeMillis()) + 50);
        assertThat(a.login("alice", "pw".toCharArray(), CLIENT)).isEqualTo(new LoginResult.Failure("alice", Reason.DISABLED));
        assertThat(calls).hasValue(2);
    }

    @Test
    void theRequestBodyEscapesEveryAwkwardCharacter() throws Exception {
        String name = "a\"b\\c\u0001";
        String password = "p\"w\\\n\t\u0000é";
        byte[] body = HookAccounts.requestBody(name, password.toCharArray(), CLIENT);
        Map<String, Object> back = (Map<String, Object>) JsonReader.read(new String(body, StandardCharsets.UTF_8));
        assertThat(back).containsEntry("username", name).containsEntry("password", password);
    }

    /** A reload replaces the source while logins run: those get their answer, later ones are not sent to it. */
    @Test
    void closingLetsTheLoginInProgressFinishAndRefusesLaterOnes() throws Exception {
        HookAccounts a = open(hook(req -> new Answer(200, "{\"status\":1,\"username\":\"slow\"}", Duration.ofMillis(500)),
                Duration.ofSeconds(5), Duration.ZERO));
        var inFlight = java.util.concurrent.CompletableFuture.supplyAsync(() -> a.login("slow", "x".toCharArray(), CLIENT));
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (calls.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(calls).hasValue(1);
        a.close();
        assertThat(inFlight.get(5, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(LoginResult.Success.class);
        assertThat(a.login("slow", "x".toCharArray(), CLIENT)).isEqualTo(new LoginResult.Failure("slow", Reason.UNAVAILABLE));
        assertThat(calls).hasValue(1);
    }

    /** Logins per second through the hook, cache off and on; bounded in count and time. */
    @Test
    void loginRate() throws Exception {
        for (Duration ttl : List.of(Duration.ZERO, Duration.ofMinutes(1))) {
            HookAccounts a = open(hook(HookAccountsTest::sftpgo, Duration.ofSeconds(2), ttl));
            int n = 0;
            long start = System.nanoTime();
            long deadline = start + Duration.ofSeconds(2).toNanos();
            while (n < 5_000 && System.nanoTime() < deadline) {
                assertThat(a.login("alice", "se\"cret\n".toCharArray(), CLIENT)).isInstanceOf(LoginResult.Success.class);
                n++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("auth hook login rate (cache %s): %d logins in %.2f s = %.0f/s%n",
                    ttl.isZero() ? "off" : "on", n, seconds, n / seconds);
            stop();
            accounts = null;
            http = null;
        }
    }
}
