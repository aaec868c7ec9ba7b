package dev.ferry.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.testkit.S3ProxyServer;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The server's commands on a home on the object store, through Commons Net: what the protocol code does with
 * {@link S3Storage} (RETR opens at 0, asks the size, then moves to the REST offset; HASH reads through openRead).
 * Uploads are the upload engine's and tested with it.
 */
@Timeout(60)
class S3FtpSessionTest {

    private static final String PASSWORD = "secret";
    private static final String HASH = PasswordHasher.hash(PASSWORD.toCharArray(), 8, 1, 1);
    private static final byte[] BIG = new byte[300_000];

    private static S3ProxyServer s3;
    private static Path dir;
    private static S3Client client;
    private static FtpServer server;

    @BeforeAll
    static void start() throws Exception {
        new Random(11).nextBytes(BIG);
        s3 = S3ProxyServer.inMemory("127.0.0.1");
        dir = Files.createTempDirectory("ferry-s3-ftp");
        Path credentials = dir.resolve("credentials");
        Files.writeString(credentials, "[default]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
        ObjectStore store = ObjectStore.parseUrl("s3://" + S3ProxyServer.BUCKET + "/srv").withEndpoint(s3.endpoint())
                .withPathStyle(true).withCredentialsFile(credentials);
        client = S3Clients.build(store);
        put("srv/pub/big.bin", BIG);
        put("srv/pub/readme.txt", "read me\n".getBytes());
        put("srv/implicit/x.txt", "x".getBytes());
        server = FtpServer.start(ServerSettings.defaults(dir.resolve("root"))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withUsers(List.of(new ServerSettings.UserAccount("alice", HASH, null, true, true)), null)
                .withLoginPolicy(new ServerSettings.LoginPolicy(Duration.ZERO, 3, 0, Duration.ofMinutes(5),
                        Duration.ofMinutes(15), Duration.ofMinutes(15)))
                .withObjectStore(store));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        client.close();
        s3.close();
        Files.delete(dir.resolve("credentials"));
        Files.delete(dir);
    }

    private static void put(String key, byte[] content) {
        client.putObject(b -> b.bucket(S3ProxyServer.BUCKET).key(key), RequestBody.fromBytes(content));
    }

    private static FTPClient login() throws Exception {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.connect("127.0.0.1", server.port());
        assertThat(c.login("alice", PASSWORD)).isTrue();
        c.enterLocalPassiveMode();
        c.setFileType(FTP.BINARY_FILE_TYPE);
        return c;
    }

    @Test
    void listingsShowFilesAndDirectoriesImplicitOnesToo() throws Exception {
        FTPClient c = login();
        try {
            // other tests add their own directories here
            assertThat(Arrays.stream(c.listFiles("/")).map(FTPFile::getName)).contains("implicit", "pub");
            FTPFile[] pub = c.mlistDir("/pub");
            assertThat(pub).extracting(FTPFile::getName).containsExactly("big.bin", "readme.txt");
            assertThat(pub[0].getSize()).isEqualTo(BIG.length);
            assertThat(pub[0].isFile()).isTrue();
            assertThat(c.changeWorkingDirectory("/implicit")).isTrue();
            assertThat(c.listNames()).containsExactly("x.txt");
        } finally {
            c.disconnect();
        }
    }

    @Test
    void retrFromARestOffsetSizeAndHashReadTheObject() throws Exception {
        FTPClient c = login();
        try {
            ByteArrayOutputStream whole = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("/pub/big.bin", whole)).isTrue();
            assertThat(whole.toByteArray()).isEqualTo(BIG);

            c.setRestartOffset(100_000);
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            assertThat(c.retrieveFile("/pub/big.bin", rest)).isTrue();
            assertThat(rest.toByteArray()).isEqualTo(Arrays.copyOfRange(BIG, 100_000, BIG.length));

            assertThat(c.sendCommand("SIZE", "/pub/big.bin")).isEqualTo(213);
            assertThat(c.getReplyString().trim()).isEqualTo("213 " + BIG.length);

            assertThat(c.sendCommand("HASH", "/pub/big.bin")).isEqualTo(213);
            String[] reply = c.getReplyString().trim().split(" ");
            String algorithm = reply[1];
            String hex = HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(BIG));
            assertThat(reply).containsExactly("213", algorithm, "0-" + BIG.length, hex, "/pub/big.bin");

            assertThat(c.retrieveFile("/pub", new ByteArrayOutputStream())).isFalse();
            assertThat(c.getReplyCode()).isEqualTo(550);
        } finally {
            c.disconnect();
        }
    }

    @Test
    void directoriesAreMadeRenamedAndRemovedAndFilesRenamedAndDeleted() throws Exception {
        put("srv/inbox/readme.txt", "read me\n".getBytes());
        FTPClient c = login();
        try {
            assertThat(c.makeDirectory("/work")).isTrue();
            assertThat(c.makeDirectory("/work")).isFalse();
            assertThat(c.makeDirectory("/missing/deeper")).isFalse();
            assertThat(c.rename("/inbox/readme.txt", "/work/readme.txt")).isTrue();
            assertThat(c.listNames("/inbox")).as("the directory stays when its last file goes").isEmpty();
            assertThat(c.rename("/work", "/done")).isTrue();
            assertThat(c.listNames("/done")).containsExactly("readme.txt");
            assertThat(c.removeDirectory("/done")).isFalse();
            assertThat(c.deleteFile("/done")).isFalse();
            assertThat(c.getReplyString()).contains("Is a directory");
            assertThat(c.deleteFile("/done/readme.txt")).isTrue();
            assertThat(c.removeDirectory("/done")).isTrue();
            assertThat(c.changeWorkingDirectory("/done")).isFalse();
        } finally {
            c.disconnect();
        }
    }
}
