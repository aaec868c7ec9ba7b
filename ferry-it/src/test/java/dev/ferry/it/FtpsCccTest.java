package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CCC (RFC 4217 §6) on a server that allows it ({@code tls.allow-ccc}): after login the control connection
 * goes on in clear text and data stays protected. Clients end TLS differently: Python's ftplib and lftp send
 * their close_notify back, curl in its default "passive" CCC mode does not; all must get on in clear text.
 */
class FtpsCccTest {

    private static final int SIZE = 3 * 1024 * 1024 + 3;

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension()
            .configure(s -> s.withTls(s.tls().withAllowCcc(true)));

    @ParameterizedTest(name = "TLS {0}, CCC mode {1}")
    @CsvSource({"1.2, passive", "1.2, active", "1.3, passive", "1.3, active"})
    void curlDownloadsAndUploadsAfterCcc(String version, String mode) throws Exception {
        byte[] down = TestData.randomFile(ferry.root().resolve("down.bin"), SIZE, 1);
        byte[] up = TestData.randomFile(ferry.clientDir().resolve("up.bin"), SIZE, 2);
        List<String> pin = version.equals("1.2") ? List.of("--tlsv1.2", "--tls-max", "1.2") : List.of("--tlsv1.3");

        ExternalCommand.Result get = curl(pin, "-v", "--ftp-ssl-ccc", "--ftp-ssl-ccc-mode", mode,
                "-o", "down.bin", ferry.url() + "/down.bin").assertSuccess();
        curl(pin, "--ftp-ssl-ccc", "--ftp-ssl-ccc-mode", mode, "-T", "up.bin", ferry.url() + "/up.bin").assertSuccess();

        assertThat(get.stderr()).contains("> PROT P", "> CCC", "< 200 CCC accepted");
        assertThat(TestData.sha256(ferry.clientDir().resolve("down.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(TestData.sha256(ferry.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
        assertThat(ferry.logLines()).anyMatch(l -> l.contains("event=ccc ") && l.contains(" user=" + FerryServerExtension.USER + " prot=P"));
    }

    @ParameterizedTest(name = "TLS {0}")
    @ValueSource(strings = {"TLSv1_2", "TLSv1_3"})
    void pythonFtplibListsAndTransfersAfterCccAndCannotChangeProt(String version) throws Exception {
        byte[] down = TestData.randomFile(ferry.root().resolve("down.bin"), SIZE, 3);
        Path script = ferry.clientDir().resolve("ccc.py");
        Files.writeString(script, """
                import ftplib, hashlib, io, ssl, sys
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                context.maximum_version = ssl.TLSVersion.%s
                ftp = ftplib.FTP_TLS(context=context, timeout=20)
                ftp.connect("127.0.0.1", int(sys.argv[1]))
                ftp.login(sys.argv[2], sys.argv[3])
                ftp.prot_p()
                print("ccc", ftp.ccc())
                print("pwd", ftp.sendcmd("PWD"))
                got = io.BytesIO()
                ftp.retrbinary("RETR down.bin", got.write)
                print("sha256", hashlib.sha256(got.getvalue()).hexdigest())
                ftp.storbinary("STOR up.bin", io.BytesIO(b"after ccc"))
                print("names", sorted(ftp.nlst()))
                try:
                    ftp.sendcmd("PROT C")
                except ftplib.error_perm as e:
                    print("prot", e)
                print("quit", ftp.quit())
                """.formatted(version));
        ExternalCommand.Result r = ExternalCommand.run(ferry.clientDir(), Duration.ofSeconds(40), Map.of(), List.of("python3",
                script.toString(), Integer.toString(ferry.port()), FerryServerExtension.USER, FerryServerExtension.PASSWORD))
                .assertSuccess();

        assertThat(r.stdout().lines()).containsExactly(
                "ccc 200 CCC accepted; the control connection continues in clear text.",
                "pwd 257 \"/\" is the current directory.",
                "sha256 " + TestData.sha256(down),
                "names ['down.bin', 'up.bin']",
                "prot 503 PROT cannot change after CCC (RFC 4217 §6): data connections keep the current level.",
                "quit 221 Goodbye.");
        assertThat(Files.readString(ferry.root().resolve("up.bin"))).isEqualTo("after ccc");
    }

    @Test
    void lftpWithSslUseCccGetsAndLists() throws Exception {
        byte[] down = TestData.randomFile(ferry.root().resolve("down.bin"), SIZE, 4);

        ExternalCommand.Result r = ExternalCommand.run(ferry.clientDir(), Duration.ofSeconds(40), Map.of(), List.of("lftp", "-c",
                "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ftp:ssl-use-ccc true; "
                        + "set ssl:verify-certificate no; set net:max-retries 1; "
                        + "open -u " + FerryServerExtension.USER + "," + FerryServerExtension.PASSWORD + " -p " + ferry.port()
                        + " 127.0.0.1; get down.bin -o got.bin; cls")).assertSuccess();

        assertThat(TestData.sha256(ferry.clientDir().resolve("got.bin"))).isEqualTo(TestData.sha256(down));
        assertThat(r.stdout()).contains("down.bin");
        assertThat(ferry.logLines()).anyMatch(l -> l.contains("event=ccc"));
    }

    @Test
    void cccNeedsTlsAndALoginAndNothingPipelinedBehindIt() throws Exception {
        try (RawFtp ftp = RawFtp.greeted(ferry.port())) {
            assertThat(ftp.command("CCC").code()).as("RFC 4217 §6: not protected").isEqualTo(533);
            ftp.authTls();
            assertThat(ftp.command("CCC").text()).isEqualTo("CCC refused before login: log in first.");
            ftp.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
            ftp.sendRaw("CCC\r\nPWD\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(ftp.reply().code()).as("CVE-2011-0411's lesson, as for AUTH").isEqualTo(503);
            assertThat(ftp.reply().code()).as("still protected, PWD answered under TLS").isEqualTo(257);
        }
    }

    @Test
    void aServerThatDoesNotAllowCccRefusesItWith534() throws Exception {
        ferry.restart(s -> s.withTls(s.tls().withAllowCcc(false)));
        try (RawFtp ftp = RawFtp.greeted(ferry.port()).authTls()) {
            ftp.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD);
            assertThat(ftp.command("CCC").text()).isEqualTo("CCC refused: the control connection stays protected.");
            assertThat(ftp.command("PWD").code()).isEqualTo(257);
        }
    }

    private ExternalCommand.Result curl(List<String> pin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "--ssl-reqd", "-k",
                "-u", FerryServerExtension.USER + ":" + FerryServerExtension.PASSWORD));
        command.addAll(pin);
        command.addAll(List.of(args));
        return ExternalCommand.run(ferry.clientDir(), Duration.ofSeconds(40), Map.of(), command);
    }
}
