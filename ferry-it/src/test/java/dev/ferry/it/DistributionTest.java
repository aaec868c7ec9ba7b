package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.cli.Main;
import dev.ferry.runtime.Version;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * The distribution archive, {@code ferry-dist/target/ferry-VERSION.tar.gz}, as an operator installs it:
 * unpacked with tar into a fresh directory far from the repository and run through its {@code bin/ferry},
 * directly and through a symbolic link elsewhere (as {@code /usr/local/bin/ferry}), with no Maven and no
 * build. ferry-dist makes the archive in its package phase, which Maven runs before this module's tests
 * (ferry-it depends on ferry-dist for that order): under {@code ./build verify} the archive is fresh.
 */
class DistributionTest {

    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);
    /** Where INSTALL.md puts the archive, and so what the systemd units name. */
    private static final String PREFIX = "/opt/ferry/";

    @TempDir
    static Path unpacked;
    private static String version;
    private static Path home;

    @TempDir
    Path work;
    private Process process;

    @BeforeAll
    static void unpackTheArchive() throws Exception {
        version = buildVersion();
        // Surefire runs in the module directory; ferry-dist is its sibling.
        Path archive = Path.of("..", "ferry-dist", "target", "ferry-" + version + ".tar.gz").toAbsolutePath().normalize();
        assertThat(archive).as("the archive ferry-dist makes in the package phase (run ./build verify, or ./build "
                + "-DskipTests package before running this test alone)").isRegularFile();
        ExternalCommand.run(unpacked, RUN_TIMEOUT, "tar", "-xzf", archive.toString()).assertSuccess();
        home = unpacked.resolve("ferry-" + version);
    }

    @AfterEach
    void stop() throws InterruptedException {
        Launcher.stop(process);
    }

    @Test
    void archiveHoldsOneDirectoryWithTheInstalledLayout() throws IOException {
        try (Stream<Path> top = Files.list(unpacked)) {
            assertThat(top.map(p -> p.getFileName().toString())).containsExactly("ferry-" + version);
        }
        assertThat(files(home)).contains(
                "bin/ferry", "lib/ferry.jar", "lib/jdk.sh",
                "conf/ferry-server.yaml", "conf/ferry-balancer.yaml", "conf/users.yaml",
                "systemd/ferry-server.service", "systemd/ferry-balancer.service",
                "fail2ban/filter.d/ferry.conf", "fail2ban/jail.d/ferry.conf", "logrotate/ferry",
                "README.md", "INSTALL.md", "docs/configuration.md", "docs/balancer.md", "docs/migrating-from-haproxy.md",
                "docs/logging.md", "docs/storage.md");
        assertThat(home.resolve("bin/ferry")).isExecutable();
        assertThat(home.resolve("lib/jdk.sh")).hasSameTextualContentAs(Launcher.script().resolveSibling("scripts/jdk.sh"));
    }

    /** The completion script and the man pages ferry-cli generates, where INSTALL.md links them from. */
    @Test
    void archiveShipsTheCompletionScriptAndTheManPages() throws Exception {
        assertThat(files(home)).contains("share/bash-completion/completions/ferry", "share/man/man1/ferry.1",
                "share/man/man1/ferry-server.1", "share/man/man1/ferry-balancer.1", "share/man/man1/ferry-cluster.1",
                "share/man/man1/ferry-passwd.1", "share/man/man1/ferry-users.1");
        assertThat(home.resolve("share/bash-completion/completions/ferry")).content()
                .contains("complete -F _complete_ferry", "--max-sessions");
        ExternalCommand.Result man = ExternalCommand.run(work, RUN_TIMEOUT, "groff", "-man", "-Tutf8",
                home.resolve("share/man/man1/ferry-server.1").toString()).assertSuccess();
        assertThat(man.stdout().replaceAll(".\b", "").replace('\u2010', '-').replace('\u2212', '-'))
                .contains("FERRY-SERVER(1)", "--max-sessions", "--umask", "--storage", "--s3-endpoint");
    }

    /**
     * Bouncy Castle ships without its jar signatures (verifying them took a fifth of a start's CPU, ferry-cli/pom.xml),
     * still multi-release (its classes for newer JDKs under META-INF/versions are the ones loaded), and complete.
     */
    @Test
    void bouncyCastleJarsAreUnsignedMultiReleaseAndComplete() throws IOException {
        Path lib = home.resolve("lib");
        List<Path> bc;
        try (Stream<Path> files = Files.list(lib)) {
            bc = files.filter(p -> p.getFileName().toString().matches("bc(prov|pkix|util)-jdk18on-.*\\.jar")).sorted().toList();
        }
        assertThat(bc).hasSize(3);
        for (Path p : bc) {
            try (JarFile jar = new JarFile(p.toFile(), true, java.util.zip.ZipFile.OPEN_READ, Runtime.version())) {
                assertThat(jar.stream().map(e -> e.getName()).filter(n -> n.matches("META-INF/[^/]+\\.(SF|DSA|RSA|EC)")))
                        .as("%s: signature files", p.getFileName()).isEmpty();
                assertThat(jar.getManifest().getEntries()).as("%s: per-entry digests", p.getFileName()).isEmpty();
                assertThat(jar.isMultiRelease()).as("%s: multi-release", p.getFileName()).isTrue();
            }
        }
        try (JarFile prov = new JarFile(lib.resolve(bc.get(1).getFileName()).toFile())) {
            assertThat(prov.getEntry("org/bouncycastle/crypto/generators/Argon2BytesGenerator.class")).isNotNull();
            assertThat(prov.getEntry("org/bouncycastle/jce/provider/BouncyCastleProvider.class")).isNotNull();
        }
    }

    /** ferry.jar lies in lib/ beside its libraries: its Class-Path must name them there, and nothing else. */
    @Test
    void jarManifestNamesEveryLibraryBesideItAndKeepsTheSpliceFlags() throws IOException {
        Path lib = home.resolve("lib");
        Attributes manifest;
        try (JarFile jar = new JarFile(lib.resolve("ferry.jar").toFile())) {
            manifest = jar.getManifest().getMainAttributes();
        }
        List<String> classPath = Arrays.asList(manifest.getValue("Class-Path").trim().split("\\s+"));
        Set<String> listed = new TreeSet<>();
        for (String entry : classPath) {
            assertThat(lib.resolve(entry)).as("Class-Path entry %s", entry).isRegularFile();
            listed.add(lib.resolve(entry).normalize().getFileName().toString());
        }
        Set<String> jars = new TreeSet<>();
        try (Stream<Path> files = Files.list(lib)) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar") && !n.equals("ferry.jar")).forEach(jars::add);
        }
        assertThat(listed).isEqualTo(jars);
        assertThat(manifest.getValue("Main-Class")).isEqualTo(Main.class.getName());
        assertThat(manifest.getValue("Add-Exports")).isEqualTo("java.base/sun.nio.ch");
        assertThat(manifest.getValue("Enable-Native-Access")).isEqualTo("ALL-UNNAMED");
    }

    @Test
    void versionThroughBinFerryAndThroughSymlinksToIt() throws Exception {
        Path absoluteLink = Files.createDirectories(work.resolve("usr/local/bin")).resolve("ferry");
        Files.createSymbolicLink(absoluteLink, home.resolve("bin/ferry"));
        Path relativeLink = work.resolve("ferry");
        Files.createSymbolicLink(relativeLink, work.relativize(absoluteLink));

        for (Path launcher : List.of(home.resolve("bin/ferry"), absoluteLink, relativeLink)) {
            ExternalCommand.Result r = ExternalCommand.run(work, RUN_TIMEOUT, launcher.toString(), "--version").assertSuccess();
            assertThat(r.stdout().strip()).as("%s --version", launcher).isEqualTo("ferry " + version);
        }
    }

    /** The launcher's JVM options, the same as ./ferry's, and FERRY_JAVA_OPTS after them, so it wins. */
    @Test
    void defaultJvmOptionsApplyAndFerryJavaOptsOverridesThem() throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(work, RUN_TIMEOUT,
                Map.of("FERRY_JAVA_OPTS", "-XX:+PrintCommandLineFlags -Xss1m"),
                List.of(home.resolve("bin/ferry").toString(), "--version")).assertSuccess();

        String flags = r.stdout().lines().filter(l -> l.contains("-XX:+PrintCommandLineFlags")).findFirst().orElseThrow();
        assertThat(flags.split(" ")).contains("-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:ThreadStackSize=1024")
                .doesNotContain("-XX:ThreadStackSize=512");
        assertThat(r.stdout()).contains("ferry " + version);
    }

    /**
     * FERRY_AOT_CACHE (opt-in): on Java 25+ the first run trains the cache and writes it at its exit, the next run
     * uses it; the launcher never passes these options to an older JDK, which would refuse to start.
     */
    @Test
    void aotCacheIsWrittenByTheFirstRunAndUsedByTheNextOnJava25() throws Exception {
        Path cache = Files.createDirectories(work.resolve("cache")).resolve("ferry.aot");
        List<String> command = List.of(home.resolve("bin/ferry").toString(), "--version");
        ExternalCommand.Result first = ExternalCommand.run(work, RUN_TIMEOUT, Map.of("FERRY_AOT_CACHE", cache.toString()),
                command).assertSuccess();
        ExternalCommand.Result second = ExternalCommand.run(work, RUN_TIMEOUT,
                Map.of("FERRY_AOT_CACHE", cache.toString(), "FERRY_JAVA_OPTS", "-XX:+PrintCommandLineFlags"),
                command).assertSuccess();

        assertThat(first.stdout()).contains("ferry " + version);
        String flags = second.stdout().lines().filter(l -> l.contains("-XX:+PrintCommandLineFlags")).findFirst().orElseThrow();
        if (first.stderr().contains("FERRY_AOT_CACHE needs Java 25 or newer")) {
            assertThat(cache).doesNotExist();
            assertThat(flags).doesNotContain("AOTCache");
        } else {
            assertThat(cache).isRegularFile();
            assertThat(flags.split(" ")).contains("-XX:AOTCache=" + cache);
            assertThat(first.stderr().lines().filter(l -> l.contains("warning"))).as("the assembly's warnings are not logged").isEmpty();
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void serverFromTheArchiveServesCurlThroughASymlinkAndStopsOnSigterm() throws Exception {
        Path link = work.resolve("ferry");
        Files.createSymbolicLink(link, home.resolve("bin/ferry"));
        Path root = Files.createDirectories(work.resolve("served"));
        Files.writeString(root.resolve("installed.txt"), "hello");
        int port = TestData.freePort();

        Launcher.Started started = Launcher.start(link, work, work.resolve("stderr.txt"), RUN_TIMEOUT,
                "server", "--listen", "127.0.0.1:" + port, "--root", root.toString(), "--user", "u:p");
        process = started.process();
        assertThat(started.stdout()).anyMatch(l -> l.contains("ferry server " + version + " listening on 127.0.0.1:" + port));

        ExternalCommand.Result listing = ExternalCommand.run(work, RUN_TIMEOUT, Map.of(),
                List.of("curl", "-sS", "--max-time", "20", "-u", "u:p", "ftp://127.0.0.1:" + port + "/")).assertSuccess();
        assertThat(listing.stdout().lines()).anyMatch(l -> l.endsWith(" installed.txt"));

        process.destroy();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("the server stops on SIGTERM").isTrue();
        // The JVM is the launcher's own process (exec), so SIGTERM reached it: 128 + 15, the units' SuccessExitStatus.
        assertThat(process.exitValue()).isEqualTo(143);
    }

    /**
     * INSTALL.md step by step, as far as a test can go without systemd: the configuration directory made by
     * root and readable only by the group (0750, files 0640), the example server configuration from conf/ with
     * the edits INSTALL.md lists, an account from {@code ferry passwd} pasted into conf/users.yaml, the state
     * directory systemd makes for {@code StateDirectory=} (owned by the service account, named in
     * {@code $STATE_DIRECTORY}), and the unit's own ExecStart run as an unprivileged account. The example has no
     * {@code tls:}, so the server makes a self-signed certificate and must keep it in the state directory: the
     * configuration directory is read-only for it, as /etc is under {@code ProtectSystem=strict}.
     *
     * <p>As root (CI), the server runs as nobody:nogroup through util-linux's setpriv, standing in for the
     * {@code ferry} account; as any other user it runs as that user, for whom the 0555 configuration directory
     * is just as read-only.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void installedLayoutStartsAsAnUnprivilegedAccountWithAReadOnlyConfigDirectory() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        Path prefix = Files.createDirectories(work.resolve("installed"));
        // nobody must reach the unpacked archive and the layout, which lie in JUnit's private (0700) directories.
        for (Path dir : List.of(unpacked, work, prefix)) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path etc = prefix.resolve("etc/ferry");
        Path ftp = prefix.resolve("srv/ftp");
        Files.createDirectories(etc.getParent());

        // 4. An FTP server: install -d -m 0750 -g ferry /etc/ferry; install -m 0640 -g ferry conf/... /etc/ferry/...
        Files.createDirectories(etc);
        Files.writeString(etc.resolve("ferry.yaml"), editedServerExample(prefix));
        ExternalCommand.Result entry = ExternalCommand.run(work, RUN_TIMEOUT, "sh", "-c",
                "printf 'installed-secret\\n' | '" + home.resolve("bin/ferry") + "' passwd --user alice").assertSuccess();
        Files.writeString(etc.resolve("users.yaml"), usersFileWith(entry.stdout()));
        Files.createDirectories(ftp.resolve("alice"));
        Files.writeString(ftp.resolve("alice/installed.txt"), "hello");

        // The unit: its ExecStart, its User, and the directory systemd makes for StateDirectory= and names in
        // $STATE_DIRECTORY.
        Map<String, List<String>> service = SystemdUnit.parse(home.resolve("systemd/ferry-server.service")).get("Service");
        assertThat(service.get("StateDirectory")).as("where the server keeps what it generates").containsExactly("ferry");
        Path state = prefix.resolve("var/lib").resolve(service.get("StateDirectory").getFirst());
        Files.createDirectories(state);
        List<String> execStart = new ArrayList<>();
        for (String word : service.get("ExecStart").getFirst().split(" ")) {
            execStart.add(word.replace(PREFIX, home + "/").replace("/etc/ferry/", etc + "/"));
        }

        List<String> asAccount = new ArrayList<>();
        if (root) {
            for (Path p : List.of(ftp, ftp.resolve("alice"), ftp.resolve("alice/installed.txt"), state)) {
                ExternalCommand.run(work, RUN_TIMEOUT, "chown", "nobody:nogroup", p.toString()).assertSuccess();
            }
            ExternalCommand.run(work, RUN_TIMEOUT, "chgrp", "-R", "nogroup", etc.toString()).assertSuccess();
            Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("rwxr-x---"));
            for (String file : List.of("ferry.yaml", "users.yaml")) {
                Files.setPosixFilePermissions(etc.resolve(file), PosixFilePermissions.fromString("rw-r-----"));
            }
            asAccount.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        } else {
            Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("r-xr-xr-x"));
        }
        asAccount.addAll(List.of("env", "STATE_DIRECTORY=" + state));
        asAccount.addAll(execStart);
        ExternalCommand.requireInstalled(asAccount.getFirst());

        try {
            // Without the unit's state directory (ferry run by hand as the account), the read-only configuration
            // directory is the default place: one message names it and the settings that move it.
            List<String> withoutState = new ArrayList<>(asAccount);
            withoutState.removeIf(a -> a.startsWith("STATE_DIRECTORY="));
            ExternalCommand.Result refused = ExternalCommand.run(prefix, RUN_TIMEOUT, Map.of(), withoutState);
            // Exit 2, a configuration error: the unit's RestartPreventExitStatus=2 keeps systemd from restarting
            // into the same message every 2 s.
            assertThat(refused.exitCode()).as(refused.describe("")).isEqualTo(2);
            assertThat(refused.stderr().strip()).startsWith("ferry server: cannot keep the self-signed certificate in " + etc + " (")
                    .contains("chosen by the default without a state directory setting: the config file's directory",
                            "Set server.state-directory or --state-dir")
                    .doesNotContain("\n");

            // The unit's ExecReload check, as the account, before the start: the same refusal without the state
            // directory (exit 2 for a check), and with it "configuration OK", with nothing generated yet.
            List<String> checkWithoutState = new ArrayList<>(withoutState);
            checkWithoutState.add("--check-config");
            ExternalCommand.Result refusedCheck = ExternalCommand.run(prefix, RUN_TIMEOUT, Map.of(), checkWithoutState);
            assertThat(refusedCheck.exitCode()).as(refusedCheck.describe("")).isEqualTo(2);
            assertThat(refusedCheck.stderr().strip()).isEqualTo(refused.stderr().strip());
            List<String> check = new ArrayList<>(asAccount.subList(0, asAccount.size() - execStart.size()));
            for (String word : service.get("ExecReload").getFirst().split(" ")) {
                check.add(word.replace(PREFIX, home + "/").replace("/etc/ferry/", etc + "/"));
            }
            ExternalCommand.Result checked = ExternalCommand.run(prefix, RUN_TIMEOUT, Map.of(), check);
            assertThat(checked.exitCode()).as(checked.describe("")).isZero();
            assertThat(checked.stdout().strip()).isEqualTo("configuration OK: " + etc.resolve("ferry.yaml"));
            assertThat(state.resolve("ferry-selfsigned-cert.pem")).as("a check generates nothing").doesNotExist();

            Launcher.Started started = Launcher.start(Path.of("/usr/bin/env"), prefix, work.resolve("stderr.txt"), RUN_TIMEOUT,
                    asAccount.toArray(String[]::new));
            process = started.process();

            ExternalCommand.Result listing = ExternalCommand.run(work, RUN_TIMEOUT, Map.of(), List.of("curl", "-sS",
                    "--max-time", "20", "-u", "alice:installed-secret", "ftp://127.0.0.1:" + installedPort + "/")).assertSuccess();
            assertThat(listing.stdout().lines()).anyMatch(l -> l.endsWith(" installed.txt"));
            ExternalCommand.Result lftp = ExternalCommand.run(work, RUN_TIMEOUT, Map.of(), List.of("lftp", "-c",
                    "set ftp:ssl-allow no; set net:max-retries 1; open -u alice,installed-secret ftp://127.0.0.1:"
                            + installedPort + "; cls -1")).assertSuccess();
            assertThat(lftp.stdout().lines()).contains("installed.txt");

            assertThat(state.resolve("ferry-selfsigned-cert.pem")).as("the self-signed certificate, in the state directory")
                    .isRegularFile();
            if (root) {
                assertThat(Files.getOwner(state.resolve("ferry-selfsigned-key.pem")).getName())
                        .as("written by the unprivileged account").isEqualTo("nobody");
            }
            assertThat(files(etc)).as("nothing written beside the configuration").containsExactlyInAnyOrder("ferry.yaml", "users.yaml");
        } finally {
            Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("rwx------"));
        }
    }

    private int installedPort;

    /** conf/ferry-server.yaml with INSTALL.md's usual edits: listen, root, users file, passive ports, no NAT. */
    private String editedServerExample(Path prefix) throws IOException {
        installedPort = TestData.freePort();
        int metricsPort = TestData.freePort();
        while (metricsPort == installedPort) {   // the kernel may hand the same free port out twice in a row
            metricsPort = TestData.freePort();
        }
        String yaml = Files.readString(home.resolve("conf/ferry-server.yaml"));
        String edited = yaml
                .replace("listen: 127.0.0.1:2121", "listen: 127.0.0.1:" + installedPort)
                .replace("root: /srv/ftp", "root: " + prefix.resolve("srv/ftp"))
                .replace("listen: 127.0.0.1:9121", "listen: 127.0.0.1:" + metricsPort)
                .replaceAll("(?m)^\\s*ports: 40000-40100.*\\n", "")
                .replaceAll("(?m)^\\s*public-address: .*\\n", "");
        assertThat(edited).as("the example still has the keys INSTALL.md tells the operator to edit")
                .contains("listen: 127.0.0.1:" + installedPort, "root: " + prefix.resolve("srv/ftp"), "users-file: users.yaml")
                .doesNotContain("40000-40100", "203.0.113.7");
        return edited;
    }

    /** conf/users.yaml with its example accounts replaced by the entry {@code ferry passwd --user} printed. */
    private String usersFileWith(String entry) throws IOException {
        String example = Files.readString(home.resolve("conf/users.yaml"));
        int users = example.indexOf("\nusers:");
        assertThat(users).as("conf/users.yaml has a users: list").isNotNegative();
        StringBuilder file = new StringBuilder(example.substring(0, users + "\nusers:\n".length()));
        // Pasted as printed: the entry comes indented to sit under "users:", with a home of its own.
        file.append(entry.stripTrailing()).append('\n');
        assertThat(entry).as("ferry passwd --user gives the user a home").contains("home: alice");
        return file.toString();
    }

    /**
     * What an install relies on in each unit: the account, the command (whose flags ferry accepts), restarts,
     * the hardening, port 21 without root, and a stop timeout longer than the balancer's grace.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "ferry-server.service,   server,   /etc/ferry/ferry.yaml",
            "ferry-balancer.service, balancer, /etc/ferry/balancer.yaml"})
    void systemdUnitHasTheKeysAnInstallNeeds(String unit, String command, String config) throws IOException {
        Map<String, Map<String, List<String>>> u = SystemdUnit.parse(home.resolve("systemd").resolve(unit));
        Map<String, List<String>> service = u.get("Service");

        assertThat(u.get("Unit").get("After")).contains("network-online.target");
        assertThat(u.get("Install").get("WantedBy")).containsExactly("multi-user.target");
        assertThat(service.get("User")).containsExactly("ferry");
        String execStart = service.get("ExecStart").getFirst();
        assertThat(execStart).isEqualTo(PREFIX + "bin/ferry " + command + " --config " + config);
        List<String> args = List.of(execStart.split(" ")).subList(1, 4);
        new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));   // throws if a flag is wrong
        assertThat(service.get("Restart")).containsExactly("on-failure");
        assertThat(service.get("SuccessExitStatus")).containsExactly("143");
        assertThat(service.get("RestartPreventExitStatus")).as("a configuration error is not retried").containsExactly("2");
        assertThat(service.get("NoNewPrivileges")).containsExactly("yes");
        assertThat(service.get("ProtectSystem")).containsExactly("strict");
        assertThat(service.get("StateDirectory")).as("generated state in /var/lib/ferry, not /etc/ferry").containsExactly("ferry");
        assertThat(service.get("ProtectHome")).containsExactly("yes");
        assertThat(service.get("PrivateTmp")).containsExactly("yes");
        assertThat(service.get("AmbientCapabilities")).containsExactly("CAP_NET_BIND_SERVICE");
        assertThat(service.get("CapabilityBoundingSet")).containsExactly("CAP_NET_BIND_SERVICE");
        assertThat(service.get("LimitNOFILE")).containsExactly("65536");
        assertThat(SystemdUnit.seconds(service.get("TimeoutStopSec").getFirst())).isGreaterThan(0);
        // systemd runs ExecReload lines in order and stops at the first that fails: the check, then SIGHUP.
        String check = PREFIX + "bin/ferry " + command + " --config " + config + " --check-config";
        assertThat(service.get("ExecReload")).containsExactly(check, "/bin/kill -HUP $MAINPID");
        new CommandLine(new Main()).parseArgs(List.of(check.split(" ")).subList(1, 5).toArray(String[]::new));
        if (command.equals("server")) {
            assertThat(service.get("ReadWritePaths")).containsExactly("-/srv/ftp");
        } else {
            assertThat(SystemdUnit.seconds(service.get("TimeoutStopSec").getFirst()))
                    .as("systemd waits longer than the balancer's grace before it kills")
                    .isGreaterThan(BalancerSettings.defaults().timeouts().grace().toSeconds());
        }
    }

    @ParameterizedTest(name = "{0} -> {1} s")
    @CsvSource({"45s, 45", "45, 45", "2min, 120", "1min 30s, 90"})
    void systemdTimeSpans(String span, long seconds) {
        assertThat(SystemdUnit.seconds(span)).isEqualTo(seconds);
    }

    /** The relative paths of the regular files under {@code dir}. */
    private static Set<String> files(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            Set<String> names = new TreeSet<>();
            walk.filter(Files::isRegularFile).forEach(p -> names.add(dir.relativize(p).toString()));
            return names;
        }
    }

    /** The version Ferry was built with, from the same resource {@code ferry --version} reads. */
    private static String buildVersion() {
        return Version.text();
    }

    /** Just enough of systemd.syntax(7) to read Ferry's own units: sections, keys, values, comments. */
    static final class SystemdUnit {
        private SystemdUnit() {}

        static Map<String, Map<String, List<String>>> parse(Path file) throws IOException {
            Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
            Map<String, List<String>> current = null;
            for (String raw : Files.readAllLines(file)) {
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                    continue;
                }
                if (line.startsWith("[") && line.endsWith("]")) {
                    current = sections.computeIfAbsent(line.substring(1, line.length() - 1), s -> new LinkedHashMap<>());
                    continue;
                }
                int eq = line.indexOf('=');
                assertThat(current).as("%s: a key outside any section: %s", file.getFileName(), line).isNotNull();
                assertThat(eq).as("%s: not KEY=VALUE: %s", file.getFileName(), line).isPositive();
                assertThat(line).as("%s: line continuations are not used", file.getFileName()).doesNotEndWith("\\");
                current.computeIfAbsent(line.substring(0, eq).strip(), k -> new ArrayList<>()).add(line.substring(eq + 1).strip());
            }
            return sections;
        }

        /** A systemd time span (systemd.time(7)) in seconds: "45s", "45", "2min", "1min 30s". */
        static long seconds(String span) {
            long total = 0;
            for (String part : span.strip().split("\\s+")) {
                String digits = part.replaceAll("[^0-9].*", "");
                String unit = part.substring(digits.length());
                long n = Long.parseLong(digits);
                total += switch (unit) {
                    case "", "s", "sec" -> n;
                    case "min", "m" -> n * 60;
                    case "h", "hr" -> n * 3600;
                    default -> throw new IllegalArgumentException("time span unit " + unit + " in " + span);
                };
            }
            return total;
        }
    }
}
