package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.config.StateDirectory;
import dev.ferry.testkit.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code --check-config}, as {@code haproxy -c} and {@code nginx -t}: the start's checks, nothing bound, exit 0
 * with "configuration OK: FILE" on stdout or the start's message on stderr and exit 2.
 */
class CheckConfigTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void notUnderSystemd() {
        assumeTrue(System.getenv(StateDirectory.VARIABLE) == null, "the test's own environment sets $STATE_DIRECTORY");
    }

    private record Outcome(int exitCode, boolean running, String out, String err) {
    }

    private Outcome run(Callable<Started> command, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = new CommandLine(command);
            int code = cl.execute(args);
            Started started = cl.getExecutionResult();
            return new Outcome(started != null ? started.exitCode() : code, started != null && started.running(),
                    out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private Path certificate() throws Exception {
        TestCertificates.Identity id = TestCertificates.fresh("EC");
        TestCertificates.writePkcs8(dir.resolve("tls.key"), id.key());
        return TestCertificates.writeCertificate(dir.resolve("tls.crt"), id.chain().toArray(new java.security.cert.X509Certificate[0]));
    }

    @Test
    void aGoodServerFileIsReportedOkAndNothingIsBoundOrGenerated() throws Exception {
        Files.createDirectories(dir.resolve("ftp"));
        Path config = Files.writeString(dir.resolve("ferry.yaml"),
                "server:\n  listen: 127.0.0.1:1\n  root: ftp\n  state-directory: state\n");

        Outcome o = run(new ServerCommand(), "--config", config.toString(), "--check-config");

        assertThat(o.exitCode()).isZero();
        assertThat(o.running()).isFalse();
        assertThat(o.out()).isEqualTo("configuration OK: " + config + System.lineSeparator());
        assertThat(dir.resolve("state")).as("the state directory is checked, no certificate made in it")
                .isEmptyDirectory();
    }

    @Test
    void aBadServerFileGivesTheStartsMessageAndExit2() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), "server:\n  root: ftp\n  max-sessions: many\n");

        Outcome o = run(new ServerCommand(), "--config", config.toString(), "--check-config");

        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.out()).isEmpty();
        assertThat(o.err()).startsWith("ferry server: " + config + ":3:");
    }

    @Test
    void aMissingRootIsExit2ForTheCheckWhereTheStartSays1() throws Exception {
        Path config = Files.writeString(dir.resolve("ferry.yaml"), "server:\n  root: nowhere\n");

        Outcome o = run(new ServerCommand(), "--config", config.toString(), "--check-config");

        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("root directory " + dir.resolve("nowhere") + " does not exist");
    }

    @Test
    void theServersCertificateAndKeyAreLoaded() throws Exception {
        Files.createDirectories(dir.resolve("ftp"));
        Path cert = certificate();
        String[] args = {"--root", dir.resolve("ftp").toString(), "--tls-cert", cert.toString(),
                "--tls-key", dir.resolve("tls.key").toString(), "--check-config"};

        assertThat(run(new ServerCommand(), args).exitCode()).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("configuration OK: (server options only");

        Files.writeString(dir.resolve("tls.key"), "not a key\n");
        out.reset();
        Outcome bad = run(new ServerCommand(), args);
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).startsWith("ferry server: ").contains("tls.key");
    }

    @Test
    void anUnwritableStateDirectoryForTheSelfSignedCertificateIsExit2() throws Exception {
        Files.createDirectories(dir.resolve("ftp"));
        Path locked = Files.createDirectories(dir.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        assumeTrue(!Files.isWritable(locked), "running as root: every directory is writable");

        Outcome o = run(new ServerCommand(), "--root", dir.resolve("ftp").toString(), "--state-dir", locked.toString(),
                "--check-config");

        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).contains("cannot keep the self-signed certificate in " + locked);
    }

    @Test
    void theBalancerChecksItsFileAndCertificate() throws Exception {
        Path cert = certificate();
        Path config = Files.writeString(dir.resolve("balancer.yaml"), "balancer:\n  listen: 127.0.0.1:1\n"
                + "  backends:\n    - name: ftp1\n      address: 127.0.0.1:2\n"
                + "  tls:\n    mode: terminate\n    certificate: tls.crt\n    key: tls.key\n");

        Outcome ok = run(new BalancerCommand(), "--config", config.toString(), "--check-config");
        assertThat(ok.exitCode()).isZero();
        assertThat(ok.running()).isFalse();
        assertThat(ok.out()).isEqualTo("configuration OK: " + config + System.lineSeparator());

        Files.delete(cert);
        out.reset();
        Outcome bad = run(new BalancerCommand(), "--config", config.toString(), "--check-config");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).startsWith("ferry balancer: ").contains("tls.crt");
    }

    @Test
    void aBalancerWithoutBackendsIsExit2() {
        Outcome o = run(new BalancerCommand(), "--check-config");

        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("ferry balancer: no backend");
    }

    @Test
    void theLogSectionIsCheckedToo() throws Exception {
        Files.createDirectories(dir.resolve("ftp"));
        Path config = Files.writeString(dir.resolve("ferry.yaml"),
                "server:\n  root: ftp\n  state-directory: state\nlog:\n  format: text\n");

        Outcome o = run(new ServerCommand(), "--config", config.toString(), "--check-config");

        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("ferry server: " + config + ":5:11: log.format: expected one of logfmt or json, got 'text'");
    }

    @Test
    void anXferlogInAMissingDirectoryIsExit2AndTheFlagOverridesTheFile() throws Exception {
        Files.createDirectories(dir.resolve("ftp"));
        Path config = Files.writeString(dir.resolve("ferry.yaml"),
                "server:\n  root: ftp\n  state-directory: state\nlog:\n  xferlog: logs/xferlog\n");

        Outcome o = run(new ServerCommand(), "--config", config.toString(), "--check-config");
        assertThat(o.exitCode()).isEqualTo(2);
        assertThat(o.err()).startsWith("ferry server: log.xferlog: cannot create " + dir.resolve("logs/xferlog")
                + " (no such directory: " + dir.resolve("logs") + ")");

        out.reset();
        err.reset();
        Path flag = dir.resolve("xferlog");
        Outcome overridden = run(new ServerCommand(), "--config", config.toString(), "--xferlog", flag.toString(),
                "--log-format", "json", "--check-config");
        assertThat(overridden.exitCode()).as(overridden.err()).isZero();
        assertThat(flag).as("a check creates nothing").doesNotExist();
    }
}
