package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.it.FtpService;
import dev.ferry.it.FtpsClients;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.opentest4j.TestAbortedException;

/**
 * ferry balancer in front of vsftpd, a server Ferry did not make, with curl and ftplib in every data-connection
 * mode (PASV, EPSV, PORT, EPRT): a download and an upload over an existing file each. Two vsftpd backends
 * ({@link VsftpdBackends}), each behind its own balancer on 127.0.0.5, the client on 127.0.0.1:
 * <ul>
 *   <li>{@code dialled-elsewhere}: dialled at one address, listening (and so opening its active data
 *       connections) at another, as a multi-homed server or one behind NAT;</li>
 *   <li>{@code no-port}: port_enable=NO, it never opens a data connection itself.</li>
 * </ul>
 * Both must serve active clients: the balancer cannot rely on where a backend's outgoing connections come
 * from, or on a backend making any.
 */
class VsftpdBehindBalancerTest {

    private static final int DOWN = 1_500_000;
    private static final int UP = 1_200_000;

    private static Path base;
    private static VsftpdBackends vsftpd;
    private static FtpBalancer dialledElsewhere;
    private static FtpBalancer noPort;
    /** Why vsftpd cannot run here (null: it can). */
    private static String unavailable;

    @TempDir
    Path clientDir;

    /** JUnit runs {@link #stop} also when this fails. */
    @BeforeAll
    static void start() throws Exception {
        base = Files.createTempDirectory("ferry-it-vsftpd-");
        try {
            vsftpd = VsftpdBackends.create(base);
        } catch (TestAbortedException e) {
            // Each test is then reported skipped, with the reason.
            unavailable = e.getMessage();
            return;
        }
        dialledElsewhere = balancer(vsftpd.start("dialled-elsewhere", 2121, 30000, true));
        noPort = balancer(vsftpd.start("no-port", 2122, 30100, false));
    }

    private static FtpBalancer balancer(InetSocketAddress backend) throws IOException {
        return FtpBalancer.start(BalancerSettings.defaults()
                .withListen(new InetSocketAddress(BalancerCluster.Addresses.SEPARATE.balancer(), 0))
                .withBackends(List.of(new BalancerSettings.BackendSpec("vsftpd", backend, 1)))
                .withPassivePorts(0, 0)
                .withCheck(new BalancerSettings.Check(BalancerSettings.CheckType.TCP, Duration.ofSeconds(5),
                        Duration.ofMillis(500), 2, 2, null, null)));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            for (FtpBalancer b : new FtpBalancer[] {dialledElsewhere, noPort}) {
                if (b != null) {
                    b.close();
                }
            }
            if (vsftpd != null) {
                vsftpd.close();
            }
        } finally {
            if (base != null) {
                TestData.deleteTree(base);
            }
            dialledElsewhere = null;
            noPort = null;
            vsftpd = null;
            base = null;
        }
    }

    /** Each test starts from an empty root. */
    @BeforeEach
    void emptyRoot() throws IOException {
        Assumptions.assumeTrue(unavailable == null, () -> unavailable);
        try (Stream<Path> walk = Files.walk(vsftpd.root())) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(vsftpd.root())).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The balancer in front of {@code backend}, as a client sees it. */
    private FtpService through(String backend) {
        FtpBalancer b = switch (backend) {
            case "dialled-elsewhere" -> dialledElsewhere;
            case "no-port" -> noPort;
            default -> throw new IllegalArgumentException(backend);
        };
        return new FtpService() {
            @Override
            public String host() {
                return b.address().getAddress().getHostAddress();
            }

            @Override
            public int port() {
                return b.port();
            }

            @Override
            public String user() {
                return VsftpdBackends.USER;
            }

            @Override
            public String password() {
                return vsftpd.password();
            }

            @Override
            public Path root() {
                return vsftpd.root();
            }

            @Override
            public Path clientDir() {
                return clientDir;
            }
        };
    }

    /** A file in the root that vsftpd, running as its user, may replace. */
    private static byte[] remoteFile(String name, int size, long seed) throws IOException {
        Path file = vsftpd.root().resolve(name);
        byte[] content = TestData.randomFile(file, size, seed);
        UserPrincipal owner = file.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(VsftpdBackends.USER);
        Files.setOwner(file, owner);
        return content;
    }

    /** Adds the end of vsftpd's logs to a failure. */
    private static void withVsftpdLog(Check check) throws Exception {
        try {
            check.run();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + vsftpd.logText(), e);
        }
    }

    private interface Check {
        void run() throws Exception;
    }

    /**
     * What the other tests rest on, seen without the balancer: the dialled-elsewhere backend, dialled at one
     * address, opens its active data connection from another; the no-port one refuses PORT and EPRT.
     */
    @Test
    void theBackendsAreAsDescribed() throws Exception {
        InetAddress host = InetAddress.getByName(vsftpd.hostAddress());
        try (RawFtp ftp = RawFtp.connect(host, InetAddress.getByName(vsftpd.dialledAddress()), 2121);
             ServerSocket listener = new ServerSocket(0, 1, host)) {
            ftp.expect(220);
            ftp.login(VsftpdBackends.USER, vsftpd.password());
            int p = listener.getLocalPort();
            ftp.command("PORT " + vsftpd.hostAddress().replace('.', ',') + "," + p / 256 + "," + p % 256, 200);
            ftp.command("NLST", 150);
            listener.setSoTimeout(5_000);
            try (Socket data = listener.accept()) {
                assertThat(data.getInetAddress().getHostAddress()).as("where the data connection came from")
                        .isEqualTo(vsftpd.listenAddress()).isNotEqualTo(vsftpd.dialledAddress());
            }
            ftp.expect(226);
        }
        try (RawFtp ftp = RawFtp.connect(host, InetAddress.getByName(vsftpd.dialledAddress()), 2122)) {
            ftp.expect(220);
            ftp.login(VsftpdBackends.USER, vsftpd.password());
            // vsftpd 3.0.3 answers "550 Permission denied." with port_enable=NO.
            ftp.command("PORT " + vsftpd.hostAddress().replace('.', ',') + ",200,1", 550);
            ftp.command("EPRT |1|" + vsftpd.hostAddress() + "|51201|", 550);
        }
    }

    @ParameterizedTest(name = "{0} through {1} in {2}")
    @CsvSource({
            "curl,   dialled-elsewhere, PASV", "curl,   dialled-elsewhere, EPSV", "curl,   dialled-elsewhere, PORT",
            "curl,   dialled-elsewhere, EPRT", "curl,   no-port,           PASV", "curl,   no-port,           EPSV",
            "curl,   no-port,           PORT", "curl,   no-port,           EPRT",
            "ftplib, dialled-elsewhere, PASV", "ftplib, dialled-elsewhere, EPSV", "ftplib, dialled-elsewhere, PORT",
            "ftplib, dialled-elsewhere, EPRT", "ftplib, no-port,           PASV", "ftplib, no-port,           EPSV",
            "ftplib, no-port,           PORT", "ftplib, no-port,           EPRT"})
    void downloadsAndReplacesAFile(String client, String backend, String mode) throws Exception {
        FtpService ftp = through(backend);
        byte[] down = remoteFile("down.bin", DOWN, 1);
        byte[] old = remoteFile(mode.toLowerCase(Locale.ROOT) + ".bin", 300_000, 2);
        byte[] up = TestData.randomFile(clientDir.resolve("up.bin"), UP, 3);

        if (client.equals("curl")) {
            FtpsClients.CurlTransfers t = FtpsClients.curlTransfers(ftp, mode);
            withVsftpdLog(() -> FtpsClients.assertCurlTransfers(t, ftp, mode, old, up, down));
        } else {
            Map<String, String> printed = FtpsClients.ftplibTransfers(ftp, mode);
            withVsftpdLog(() -> FtpsClients.assertFtplibTransfers(printed, mode, ftp.root(), old, up, down));
        }
    }
}
