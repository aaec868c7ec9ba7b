package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.commons.net.PrintCommandListener;
import org.apache.commons.net.ProtocolCommandEvent;
import org.apache.commons.net.ProtocolCommandListener;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;

/**
 * Apache Commons Net FTPClients for one test: each records every command it sends and every reply it
 * receives, so replies the API hides (the 150 of STOU, the 426 before ABOR's 226) can be checked too;
 * {@link #close} disconnects them all. {@code -Dferry.it.trace=true} prints the conversations.
 */
final class CommonsNetClients implements AutoCloseable {

    /** Every reply received, as "code first-line-text" (the client's reply string without CRLF). */
    final List<String> replies = new CopyOnWriteArrayList<>();
    final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<FTPClient> clients = new ArrayList<>();

    /** Connected to {@code host}:{@code port}, the greeting read, not logged in. */
    FTPClient connect(InetAddress host, int port) throws IOException {
        FTPClient c = new FTPClient();
        clients.add(c);
        c.setControlEncoding("UTF-8");
        c.setConnectTimeout(5_000);
        c.setDefaultTimeout(10_000);
        c.setDataTimeout(Duration.ofSeconds(10));
        c.addProtocolCommandListener(new ProtocolCommandListener() {
            @Override
            public void protocolCommandSent(ProtocolCommandEvent event) {
                commands.add(event.getMessage().stripTrailing());
            }

            @Override
            public void protocolReplyReceived(ProtocolCommandEvent event) {
                replies.add(event.getMessage().stripTrailing());
            }
        });
        if (Boolean.getBoolean("ferry.it.trace")) {
            c.addProtocolCommandListener(new PrintCommandListener(System.out, true));
        }
        c.connect(host, port);
        c.setSoTimeout(10_000);
        return c;
    }

    /** Connected to the service, logged in as its user, passive, binary. */
    FTPClient loggedIn(FtpService ftp) throws IOException {
        FTPClient c = connect(InetAddress.getByName(ftp.host()), ftp.port());
        assertThat(c.login(ftp.user(), ftp.password())).as(c.getReplyString()).isTrue();
        c.enterLocalPassiveMode();
        c.setFileType(FTP.BINARY_FILE_TYPE);
        return c;
    }

    /** The last reply, without its line end. */
    static String reply(FTPClient c) {
        return c.getReplyString().stripTrailing();
    }

    /** Sends a command line as is and returns the reply. */
    static String send(FTPClient c, String command) throws IOException {
        c.sendCommand(command);
        return reply(c);
    }

    @Override
    public void close() throws IOException {
        for (FTPClient c : clients) {
            if (c.isConnected()) {
                c.disconnect();
            }
        }
    }
}
