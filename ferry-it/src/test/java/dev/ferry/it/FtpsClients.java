package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPSClient;

/**
 * Runs the real FTP and FTPS clients against an {@link FtpService} (ferry server directly, or a balancer in
 * front of servers) as its user, or against 127.0.0.1:port as {@link FerryServerExtension#USER}: curl, lftp,
 * Python's ftplib (FTP and FTP_TLS) and Commons Net's FTPSClient. Each client runs in the client directory,
 * where it reads and writes local files.
 */
public final class FtpsClients {

    private static final String LOOPBACK = "127.0.0.1";

    private FtpsClients() {}

    /** curl with the test user's credentials and a 30 s limit; {@code args} carry the URL and the TLS options. */
    public static ExternalCommand.Result curl(Path dir, String... args) throws IOException, InterruptedException {
        return runCurl(dir, FerryServerExtension.USER, FerryServerExtension.PASSWORD, args);
    }

    /** curl with the service's credentials and a 30 s limit; {@code args} carry the URL and the options. */
    public static ExternalCommand.Result curl(FtpService ftp, String... args) throws IOException, InterruptedException {
        return runCurl(ftp.clientDir(), ftp.user(), ftp.password(), args);
    }

    private static ExternalCommand.Result runCurl(Path dir, String user, String password, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "-u", user + ":" + password));
        command.addAll(Arrays.asList(args));
        return ExternalCommand.run(dir, Duration.ofSeconds(40), Map.of(), command);
    }

    /** What {@link #curlTransfers} ran: the download and the upload. */
    public record CurlTransfers(ExternalCommand.Result get, ExternalCommand.Result put) {}

    /**
     * curl -v in one data-connection mode (EPSV, its default; PASV; EPRT or PORT, listening on 127.0.0.1): a
     * download of down.bin into the client directory, then an upload of the local up.bin over
     * {@code <mode>.bin}. {@link #assertCurlTransfers} checks them.
     */
    public static CurlTransfers curlTransfers(FtpService ftp, String mode) throws IOException, InterruptedException {
        List<String> options = switch (mode) {
            case "EPSV" -> List.of();
            case "PASV" -> List.of("--disable-epsv");
            // Waiting for a data connection that never comes ends at --max-time: 10 s, not the default 30.
            case "EPRT" -> List.of("--ftp-port", "127.0.0.1", "--max-time", "10");
            case "PORT" -> List.of("--ftp-port", "127.0.0.1", "--disable-eprt", "--max-time", "10");
            default -> throw new IllegalArgumentException(mode);
        };
        List<String> get = new ArrayList<>(options);
        get.addAll(List.of("-v", "-o", "down.bin", ftp.url() + "/down.bin"));
        List<String> put = new ArrayList<>(options);
        put.addAll(List.of("-v", "-T", "up.bin", ftp.url() + "/" + mode.toLowerCase(Locale.ROOT) + ".bin"));
        return new CurlTransfers(curl(ftp, get.toArray(String[]::new)), curl(ftp, put.toArray(String[]::new)));
    }

    /**
     * {@link #curlTransfers} in {@code mode}: {@code <mode>.bin} holds the bytes sent if curl was told 226, else
     * its {@code old} bytes; each transfer used the mode (its command answered as ferry server and vsftpd
     * word it, through a balancer with the balancer's address), got 150 and 226; down.bin came down whole.
     */
    public static void assertCurlTransfers(CurlTransfers t, FtpService ftp, String mode, byte[] old, byte[] up, byte[] down)
            throws IOException {
        TestData.assertStoredOrKept(ftp.root().resolve(mode.toLowerCase(Locale.ROOT) + ".bin"),
                t.put().stderr().contains("< 226 "), old, up);
        String answer = switch (mode) {
            case "EPSV" -> "< 229 Entering Extended Passive Mode (|||";
            case "PASV" -> "< 227 Entering Passive Mode (" + ftp.host().replace('.', ',') + ",";
            default -> "< 200 " + mode + " command successful.";
        };
        for (ExternalCommand.Result r : List.of(t.get(), t.put())) {
            assertThat(r.stderr()).as(r.describe("the replies")).contains("> " + mode, answer, "< 150 ", "< 226 ");
            r.assertSuccess();
        }
        assertThat(TestData.sha256(ftp.clientDir().resolve("down.bin"))).isEqualTo(TestData.sha256(down));
    }

    /** lftp with FTPS forced on control and data, no certificate check, logged in; then {@code commands}. */
    public static ExternalCommand.Result lftp(Path dir, int port, String commands) throws IOException, InterruptedException {
        return lftp(dir, FerryServerExtension.USER + "," + FerryServerExtension.PASSWORD, LOOPBACK, port, commands);
    }

    /** As {@link #lftp(Path, int, String)}, to the service's host and port. */
    public static ExternalCommand.Result lftp(FtpService ftp, String commands) throws IOException, InterruptedException {
        return lftp(ftp.clientDir(), ftp.user() + "," + ftp.password(), ftp.host(), ftp.port(), commands);
    }

    private static ExternalCommand.Result lftp(Path dir, String login, String host, int port, String commands)
            throws IOException, InterruptedException {
        return ExternalCommand.run(dir, Duration.ofSeconds(40), Map.of(), List.of("lftp", "-c",
                "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; set net:max-retries 1; "
                        + "open -u " + login + " -p " + port + " " + host + "; " + commands));
    }

    /**
     * Python's ftplib: the prelude defines HOST and PORT (argv[4] and argv[1]; the user and password are
     * argv[2] and argv[3]), {@code out(key, value)}, an unverifying {@code context} and {@code ReusingFTP_TLS},
     * an FTP_TLS that resumes the control connection's TLS session on its data connections (ftplib itself
     * does not).
     */
    public static final String PYTHON_PRELUDE = """
            import ftplib, hashlib, io, ssl, sys
            PORT = int(sys.argv[1])
            HOST = sys.argv[4]
            def out(key, value):
                print(key + "\\t" + str(value).replace("\\r", "\\\\r").replace("\\n", "\\\\n"), flush=True)
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            class ReusingFTP_TLS(ftplib.FTP_TLS):
                # Resumes the control connection's TLS session on each data connection (ftplib does not).
                def ntransfercmd(self, cmd, rest=None):
                    conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
                    if self._prot_p:
                        conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
                    return conn, size
            """;

    /**
     * A {@link #python} body: RETR hello.txt under PROT P with ftplib's FTP_TLS (a full handshake per data
     * connection) and with ReusingFTP_TLS (resumes); prints, per class, the file or the refusal.
     */
    public static final String RETR_HELLO_WITHOUT_AND_WITH_REUSE = """
            for cls in (ftplib.FTP_TLS, ReusingFTP_TLS):
                ftp = cls(context=context, timeout=10)
                ftp.connect(HOST, PORT)
                ftp.login(sys.argv[2], sys.argv[3])
                ftp.prot_p()
                data = io.BytesIO()
                try:
                    ftp.retrbinary("RETR hello.txt", data.write)
                    out(cls.__name__, data.getvalue().decode())
                except ftplib.error_perm as e:
                    out(cls.__name__, e)
                except (ssl.SSLError, OSError):
                    # The data connection was closed under ftplib's close_notify: the reply follows.
                    try:
                        out(cls.__name__, ftp.getresp())
                    except ftplib.error_perm as e:
                        out(cls.__name__, e)
                ftp.quit()
            """;

    /** Runs {@link #PYTHON_PRELUDE} + {@code body}; returns what it printed with {@code out}, in order. */
    public static Map<String, String> python(Path dir, int port, String body) throws IOException, InterruptedException {
        return pythonScript(dir, port, PYTHON_PRELUDE + body);
    }

    /** As {@link #python(Path, int, String)}, for the service. */
    public static Map<String, String> python(FtpService ftp, String body) throws IOException, InterruptedException {
        return pythonScript(ftp, PYTHON_PRELUDE + body);
    }

    /**
     * Runs a Python script with the port, the test user, the password and the host (127.0.0.1) as
     * argv[1..4]; returns the tab-separated key-value lines it printed, in order (any FTP client's tests:
     * plain ftplib too).
     */
    public static Map<String, String> pythonScript(Path dir, int port, String text) throws IOException, InterruptedException {
        return pythonScript(dir, List.of(Integer.toString(port), FerryServerExtension.USER, FerryServerExtension.PASSWORD,
                LOOPBACK), text);
    }

    /** As {@link #pythonScript(Path, int, String)}, with the service's port, user, password and host. */
    public static Map<String, String> pythonScript(FtpService ftp, String text) throws IOException, InterruptedException {
        return pythonScript(ftp.clientDir(), List.of(Integer.toString(ftp.port()), ftp.user(), ftp.password(), ftp.host()),
                text);
    }

    private static Map<String, String> pythonScript(Path dir, List<String> args, String text)
            throws IOException, InterruptedException {
        Path script = dir.resolve("script.py");
        Files.writeString(script, text);
        List<String> command = new ArrayList<>(List.of("python3", script.toString()));
        command.addAll(args);
        ExternalCommand.Result r = ExternalCommand.run(dir, Duration.ofSeconds(30), Map.of(), command).assertSuccess();
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : r.stdout().lines().toList()) {
            String[] kv = line.split("\t", 2);
            values.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        return values;
    }

    /**
     * Plain ftplib, one data-connection mode (PASV, EPSV, PORT or EPRT; ftplib itself sends EPSV and EPRT only
     * over IPv6, so it is made to): TYPE I, a STOR of the local up.bin over {@code <mode>.bin}, a RETR of
     * down.bin. Prints "stor" and "retr", the codes of each transfer's replies from the mode's command on
     * (PASV: "227 150 226"), "error" with what went wrong, and "down", the SHA-256 of what came down. A
     * client that is told nothing waits 5 s for a reply or a data connection. {@link #assertFtplibTransfers}
     * checks it all.
     */
    public static Map<String, String> ftplibTransfers(FtpService ftp, String mode) throws IOException, InterruptedException {
        return pythonScript(ftp, "MODE = \"" + mode + "\"\n" + """
                import ftplib, hashlib, sys
                codes = []
                class Recording(ftplib.FTP):
                    # Every reply's code, also those ftplib reads without returning them (150).
                    def getresp(self):
                        try:
                            resp = ftplib.FTP.getresp(self)
                        except ftplib.Error as e:
                            codes.append(str(e)[:3])
                            raise
                        codes.append(resp[:3])
                        return resp
                def out(key, value):
                    print(key + "\\t" + str(value).replace("\\r", "\\\\r").replace("\\n", "\\\\n"), flush=True)
                ftp = Recording(timeout=5, encoding="utf-8")
                ftp.connect(sys.argv[4], int(sys.argv[1]))
                ftp.login(sys.argv[2], sys.argv[3])
                ftp.voidcmd("TYPE I")
                ftp.set_pasv(MODE in ("PASV", "EPSV"))
                if MODE == "EPSV":
                    ftp.makepasv = lambda: ftplib.parse229(ftp.sendcmd("EPSV"), ftp.sock.getpeername())
                if MODE == "EPRT":
                    ftp.sendport = ftp.sendeprt
                def transfer(command, send=None):
                    del codes[:]
                    received = b""
                    try:
                        conn = ftp.transfercmd(command)
                        if send is None:
                            while chunk := conn.recv(65536):
                                received += chunk
                        else:
                            conn.sendall(send)
                        conn.close()
                        ftp.voidresp()
                    except (ftplib.Error, OSError) as e:
                        out("error", command + ": " + repr(e))
                    return " ".join(codes), received
                out("stor", transfer("STOR " + MODE.lower() + ".bin", open("up.bin", "rb").read())[0])
                codes_retr, down = transfer("RETR down.bin")
                out("retr", codes_retr)
                out("down", hashlib.sha256(down).hexdigest())
                try:
                    ftp.quit()
                except (ftplib.Error, OSError):
                    pass
                """);
    }

    /**
     * What {@link #ftplibTransfers} printed for {@code mode}: {@code <mode>.bin} in {@code root} holds the bytes
     * sent if the client was told 226, else its {@code old} bytes; both transfers answered in order (the mode's
     * 227, 229 or 200, then 150 and 226); down.bin came down whole.
     */
    public static void assertFtplibTransfers(Map<String, String> printed, String mode, Path root, byte[] old, byte[] up,
                                             byte[] down) throws IOException {
        TestData.assertStoredOrKept(root.resolve(mode.toLowerCase(Locale.ROOT) + ".bin"),
                printed.getOrDefault("stor", "").endsWith("226"), old, up);
        String first = switch (mode) {
            case "PASV" -> "227";
            case "EPSV" -> "229";
            default -> "200";
        };
        assertThat(printed).as(mode).doesNotContainKey("error")
                .containsEntry("stor", first + " 150 226").containsEntry("retr", first + " 150 226")
                .containsEntry("down", TestData.sha256(down));
    }

    /** Commons Net's FTPSClient, connected (implicit or explicit), logged in, PBSZ 0, PROT P, passive, binary. */
    public static FTPSClient commonsNet(int port, boolean implicit) throws IOException {
        return commonsNet(LOOPBACK, port, implicit);
    }

    /** As {@link #commonsNet(int, boolean)}, to the service's host: its control port, or {@code implicitPort}. */
    public static FTPSClient commonsNet(FtpService ftp, int implicitPort, boolean implicit) throws IOException {
        return commonsNet(ftp.host(), implicit ? implicitPort : ftp.port(), implicit);
    }

    private static FTPSClient commonsNet(String host, int port, boolean implicit) throws IOException {
        FTPSClient client = new FTPSClient(implicit, TestCertificates.trustAll());
        client.setConnectTimeout(5000);
        client.setDefaultTimeout(10_000);
        client.setDataTimeout(Duration.ofSeconds(10));   // also how long an active data connection is awaited
        client.connect(host, port);
        assertThat(client.login(FerryServerExtension.USER, FerryServerExtension.PASSWORD)).isTrue();
        client.execPBSZ(0);
        client.execPROT("P");
        client.enterLocalPassiveMode();
        client.setFileType(FTP.BINARY_FILE_TYPE);
        return client;
    }

    /**
     * Python's ftplib.FTP_TLS through a whole session on 127.0.0.1:{@code port}: login, PROT P, RETR of
     * down.bin whole and from byte 3000000 (REST), STOR of what it got, reversed, as up.bin, MLSD, PROT C,
     * NLST, QUIT. {@link #assertPythonTransfers} checks the common part of what it prints.
     */
    public static Map<String, String> pythonTransfers(Path clientDir, int port) throws IOException, InterruptedException {
        return python(clientDir, port, PYTHON_TRANSFERS);
    }

    /** As {@link #pythonTransfers(Path, int)}, with the service. */
    public static Map<String, String> pythonTransfers(FtpService ftp) throws IOException, InterruptedException {
        return python(ftp, PYTHON_TRANSFERS);
    }

    private static final String PYTHON_TRANSFERS = """
                ftp = ftplib.FTP_TLS(context=context, timeout=10)
                ftp.connect(HOST, PORT)
                out("login", ftp.login(sys.argv[2], sys.argv[3]))
                out("prot", ftp.prot_p())
                data = io.BytesIO()
                ftp.retrbinary("RETR down.bin", data.write)
                out("down", hashlib.sha256(data.getvalue()).hexdigest())
                tail = io.BytesIO()
                ftp.retrbinary("RETR down.bin", tail.write, rest=3000000)
                out("tail", hashlib.sha256(tail.getvalue()).hexdigest())
                out("stor", ftp.storbinary("STOR up.bin", io.BytesIO(data.getvalue()[::-1])))
                out("mlsd", sorted(name + ":" + facts["type"] for name, facts in ftp.mlsd()))
                out("prot_c", ftp.prot_c())
                out("nlst", sorted(ftp.nlst()))
                out("quit", ftp.quit())
                """;

    /**
     * What {@link #pythonTransfers} printed up to the listing, given {@code down} (down.bin, more than
     * 3000000 bytes) and {@code stored} (where up.bin landed): the reversed download, byte-exact.
     */
    public static void assertPythonTransfers(Map<String, String> printed, byte[] down, Path stored) throws IOException {
        assertThat(printed).containsEntry("login", "230 User alice logged in.")
                .containsEntry("prot", "200 Protection level set to P (data connections use TLS).")
                .containsEntry("down", TestData.sha256(down))
                .containsEntry("tail", TestData.sha256(Arrays.copyOfRange(down, 3000000, down.length)))
                .containsEntry("stor", "226 Transfer complete (" + down.length + " bytes).");
        byte[] reversed = new byte[down.length];
        for (int i = 0; i < reversed.length; i++) {
            reversed[i] = down[down.length - 1 - i];
        }
        assertThat(TestData.sha256(stored)).isEqualTo(TestData.sha256(reversed));
    }
}
