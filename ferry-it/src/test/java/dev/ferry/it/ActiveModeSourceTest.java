package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Active mode on a multi-homed server: the server listens on 127.0.4.2 and its PORT data connections come
 * from 127.0.4.2 too (as vsftpd's do), not from the address the routing table would pick for the client
 * (127.0.0.1 on loopback). A balancer that pins data connections to the backend it dialled, or a client's
 * firewall, sees them come from where it expects. Python's ftplib in active mode records where each of its
 * data connections came from.
 */
class ActiveModeSourceTest {

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension()
            .configure(s -> s.withListen(new InetSocketAddress("127.0.4.2", 0)));

    @Test
    void activeDataConnectionsComeFromTheAddressTheClientReached() throws Exception {
        Files.writeString(ferry.root().resolve("hello.txt"), "hello\n");

        Map<String, String> v = FtpsClients.pythonScript(ferry.clientDir(), ferry.port(), """
                import ftplib, io, sys
                def out(key, value):
                    print(key + "\\t" + str(value), flush=True)
                class Recording(ftplib.FTP):
                    peers = []
                    def ntransfercmd(self, cmd, rest=None):
                        conn, size = super().ntransfercmd(cmd, rest)
                        Recording.peers.append(conn.getpeername()[0])
                        return conn, size
                ftp = Recording(timeout=10)
                ftp.connect("127.0.4.2", int(sys.argv[1]))
                ftp.login(sys.argv[2], sys.argv[3])
                ftp.set_pasv(False)
                out("client", ftp.sock.getsockname()[0])
                data = io.BytesIO()
                out("retr", ftp.retrbinary("RETR hello.txt", data.write))
                out("content", data.getvalue().decode().strip())
                out("stor", ftp.storbinary("STOR up.txt", io.BytesIO(b"up")))
                out("nlst", sorted(ftp.nlst()))
                out("peers", ",".join(Recording.peers))
                ftp.quit()
                """);

        assertThat(v).containsEntry("client", "127.0.0.1")
                .containsEntry("retr", "226 Transfer complete (6 bytes).")
                .containsEntry("content", "hello")
                .containsEntry("stor", "226 Transfer complete (2 bytes).")
                .containsEntry("nlst", "['hello.txt', 'up.txt']")
                .containsEntry("peers", "127.0.4.2,127.0.4.2,127.0.4.2");
        assertThat(ferry.root().resolve("up.txt")).hasContent("up");
    }
}
