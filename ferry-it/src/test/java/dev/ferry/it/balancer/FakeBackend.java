package dev.ferry.it.balancer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A backend that speaks just enough FTP to pass checks and log a user in (220, 331, 230, 200, 221),
 * then answers PASV and EPSV with the reply the test chose: a hostile backend on 127.0.0.1. Or one that
 * greets and then never answers a command ({@link #silentAfterGreeting}), as a server whose sessions hang.
 */
final class FakeBackend implements AutoCloseable {

    private final ServerSocket server;
    /** The reply to PASV and EPSV; null: no command is ever answered. */
    private final String passiveReply;

    private FakeBackend(ServerSocket server, String passiveReply) {
        this.server = server;
        this.passiveReply = passiveReply;
    }

    static FakeBackend start(String passiveReply) throws IOException {
        return start(new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1")), passiveReply);
    }

    /** Listens on {@code address}, greets with 220, then reads commands and answers none. */
    static FakeBackend silentAfterGreeting(InetAddress address) throws IOException {
        return start(new ServerSocket(0, 50, address), null);
    }

    private static FakeBackend start(ServerSocket s, String passiveReply) {
        FakeBackend fake = new FakeBackend(s, passiveReply);
        Thread.ofVirtual().start(fake::acceptLoop);
        return fake;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket c = server.accept();
                Thread.ofVirtual().start(() -> serve(c));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(30_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = socket.getOutputStream();
            send(out, "220 fake ready");
            if (passiveReply == null) {
                while (in.readLine() != null) {
                    // read, never answered: until the peer gives up
                }
                return;
            }
            String line;
            while ((line = in.readLine()) != null) {
                String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
                switch (verb) {
                    case "USER" -> send(out, "331 password please");
                    case "PASS" -> send(out, "230 logged in");
                    case "PASV", "EPSV" -> send(out, passiveReply);
                    case "QUIT" -> {
                        send(out, "221 bye");
                        return;
                    }
                    default -> send(out, "200 ok");
                }
            }
        } catch (IOException ignored) {
            // the balancer hung up
        }
    }

    private static void send(OutputStream out, String reply) throws IOException {
        out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
