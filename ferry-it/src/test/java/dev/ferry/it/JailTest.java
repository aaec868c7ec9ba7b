package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The jail: nothing a client sends reaches outside the user's home, neither by ".." nor by a
 * symbolic link placed inside the home that points outside it. A link that stays inside is served
 * normally (the control case that shows the link tests can tell the two apart).
 */
class JailTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    private Path outside;
    private FTPClient client;

    @BeforeEach
    void layout() throws IOException {
        // root/: pub/readme.txt, in-link -> pub/readme.txt, out-dir -> ../outside, out-file -> ../outside/secret.txt
        Files.createDirectories(ferry.root().resolve("pub"));
        Files.writeString(ferry.root().resolve("pub/readme.txt"), "public");
        outside = Files.createDirectories(ferry.root().getParent().resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "SECRET");
        Files.createSymbolicLink(ferry.root().resolve("in-link"), ferry.root().resolve("pub/readme.txt"));
        Files.createSymbolicLink(ferry.root().resolve("out-dir"), outside);
        Files.createSymbolicLink(ferry.root().resolve("out-file"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(ferry.root().resolve("pub/up-two"), Path.of("../../outside"));
    }

    @AfterEach
    void disconnect() throws IOException {
        if (client != null && client.isConnected()) {
            client.disconnect();
        }
    }

    private FTPClient login(String user, String password) throws IOException {
        client = new FTPClient();
        client.setControlEncoding("UTF-8");
        client.setDefaultTimeout(10_000);
        client.connect("127.0.0.1", ferry.port());
        assertThat(client.login(user, password)).isTrue();
        client.enterLocalPassiveMode();
        client.setFileType(FTP.BINARY_FILE_TYPE);
        return client;
    }

    private String retrieve(String path) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        return client.retrieveFile(path, out) ? out.toString(StandardCharsets.UTF_8) : null;
    }

    @Test
    void dotDotAtTheRootStaysAtTheRoot() throws Exception {
        login(USER, PASSWORD);
        assertThat(client.changeWorkingDirectory("..")).isTrue();
        assertThat(client.printWorkingDirectory()).isEqualTo("/");
        assertThat(client.changeWorkingDirectory("../../..")).isTrue();
        assertThat(client.printWorkingDirectory()).isEqualTo("/");
        assertThat(client.changeToParentDirectory()).isTrue();
        assertThat(client.printWorkingDirectory()).isEqualTo("/");
        assertThat(client.changeWorkingDirectory("pub/../../pub")).isTrue();
        assertThat(client.printWorkingDirectory()).isEqualTo("/pub");
    }

    @Test
    void dotDotPathsCannotReachTheHostFileSystem() throws Exception {
        login(USER, PASSWORD);
        assertThat(retrieve("../../etc/passwd")).isNull();
        assertThat(client.getReplyCode()).isEqualTo(550);
        assertThat(retrieve("../outside/secret.txt")).isNull();
        assertThat(client.getReplyCode()).isEqualTo(550);
        assertThat(client.sendCommand("SIZE ../outside/secret.txt")).isEqualTo(550);
        assertThat(client.storeFile("../outside/planted.txt", new ByteArrayInputStream(new byte[] {1}))).isFalse();
        assertThat(TestData.names(outside)).containsExactly("secret.txt");
        // "../" resolved inside the jail: the same as "/" + the rest.
        assertThat(retrieve("../../pub/readme.txt")).isEqualTo("public");
    }

    @Test
    void linksLeadingOutsideAreNeitherListedNorReachable() throws Exception {
        login(USER, PASSWORD);

        assertThat(client.listNames()).containsExactlyInAnyOrder("pub", "in-link");
        assertThat(client.mlistDir()).extracting(FTPFile::getName).containsExactlyInAnyOrder("pub", "in-link");
        assertThat(client.listFiles()).extracting(FTPFile::getName).containsExactlyInAnyOrder("pub", "in-link");
        assertThat(client.listNames("/pub")).containsExactly("readme.txt");

        for (String path : List.of("out-file", "out-dir/secret.txt", "/out-dir/secret.txt", "pub/up-two/secret.txt")) {
            assertThat(retrieve(path)).as(path).isNull();
            assertThat(client.getReplyCode()).as(path).isEqualTo(550);
        }
        assertThat(client.changeWorkingDirectory("out-dir")).isFalse();
        assertThat(client.getReplyCode()).isEqualTo(550);
        assertThat(client.sendCommand("MLST out-file")).isEqualTo(550);
        assertThat(client.sendCommand("SIZE out-file")).isEqualTo(550);
        assertThat(client.sendCommand("HASH out-file")).isEqualTo(550);
        assertThat(client.sendCommand("MDTM out-dir")).isEqualTo(550);
        assertThat(client.sendCommand("STAT out-dir")).isEqualTo(550);
        assertThat(client.listNames("out-dir")).isNullOrEmpty();

        // Writing through the link must not reach outside either.
        assertThat(client.storeFile("out-dir/planted.txt", new ByteArrayInputStream(new byte[] {1}))).isFalse();
        assertThat(client.storeFile("out-file", new ByteArrayInputStream("overwritten".getBytes(StandardCharsets.UTF_8)))).isFalse();
        assertThat(client.makeDirectory("out-dir/made")).isFalse();
        assertThat(TestData.names(outside)).containsExactly("secret.txt");
        assertThat(outside.resolve("secret.txt")).hasContent("SECRET");
    }

    @Test
    void aLinkThatStaysInsideIsServed() throws Exception {
        login(USER, PASSWORD);
        assertThat(retrieve("in-link")).isEqualTo("public");
        assertThat(client.sendCommand("SIZE in-link")).isEqualTo(213);
    }

    @Test
    void absolutePathsResolveInsideTheHome() throws Exception {
        Path home = Files.createDirectories(ferry.root().resolve("homes/homer"));
        Files.writeString(home.resolve("mine.txt"), "homer's");
        Files.writeString(ferry.root().resolve("top.txt"), "above homer");
        ferry.restart(s -> s.withUsers(List.of(new ServerSettings.UserAccount("homer",
                FerryServerExtension.hash(PASSWORD), home, true, true)), null));
        login("homer", PASSWORD);

        assertThat(client.printWorkingDirectory()).isEqualTo("/");
        assertThat(retrieve("/mine.txt")).isEqualTo("homer's");
        assertThat(retrieve("/top.txt")).isNull();
        assertThat(retrieve("/../top.txt")).isNull();
        assertThat(retrieve("/etc/passwd")).isNull();
        assertThat(client.getReplyCode()).isEqualTo(550);
        assertThat(client.listNames("/")).containsExactly("mine.txt");
        assertThat(client.storeFile("/new.txt", new ByteArrayInputStream("n".getBytes(StandardCharsets.UTF_8)))).isTrue();
        assertThat(home.resolve("new.txt")).hasContent("n");
        assertThat(client.makeDirectory("/sub")).isTrue();
        assertThat(client.changeWorkingDirectory("/sub")).isTrue();
        assertThat(client.printWorkingDirectory()).isEqualTo("/sub");
        assertThat(home.resolve("sub")).isDirectory();
    }
}
