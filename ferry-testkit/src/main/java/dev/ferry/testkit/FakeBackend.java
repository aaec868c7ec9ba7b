package dev.ferry.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A loopback listener that misbehaves in one chosen way per test (MockWebServer's fault menu). */
public final class FakeBackend implements AutoCloseable {

    public enum Fault {
        /** Accepts and never says a word. */
        NEVER_GREETS,
        /** Greets with 421, as a server at its session limit does. */
        ANSWERS_421,
        /** A multi-line 220 greeting, a FEAT listing, then 221 to QUIT. */
        MULTILINE_GREETING,
        /** Greets, asks for a password, and refuses it by echoing it back. */
        ECHOES_PASSWORD,
        /** Greets, then reads commands and never answers one (its sessions hang). */
        GREETS_THEN_SILENT,
        /** Greets, then answers every command with 421, as a server shutting down does. */
        GREETS_THEN_421
    }

    private final ServerSocket listener;
    private final Fault fault;
    private final List<Socket> accepted = new ArrayList<>();
    private final Thread acceptor;

    public FakeBackend(Fault fault) throws IOException {
        this.fault = fault;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = Thread.ofVirtual().start(this::acceptLoop);
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                synchronized (accepted) {
                    accepted.add(s);
                }
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            switch (fault) {
                case NEVER_GREETS -> in.read();   // until the checker gives up and closes
                case ANSWERS_421 -> send(out, "421 Too many connections, try later.\r\n");
                case MULTILINE_GREETING -> {
                    send(out, "220-Welcome\r\n 220 this middle line is not the end\r\n220 Ready.\r\n");
                    readLine(in);
                    send(out, "211-Extensions:\r\n MDTM\r\n SIZE\r\n211 End\r\n");
                    readLine(in);
                    send(out, "221 Bye.\r\n");
                }
                case GREETS_THEN_SILENT -> {
                    send(out, "220 Ready.\r\n");
                    while (in.read() >= 0) {
                        // until the checker gives up and closes
                    }
                }
                case GREETS_THEN_421 -> {
                    send(out, "220 Ready.\r\n");
                    readLine(in);
                    send(out, "421 Service shutting down.\r\n");
                }
                case ECHOES_PASSWORD -> {
                    send(out, "220 Ready.\r\n");
                    readLine(in);
                    send(out, "331 Password please.\r\n");
                    String pass = readLine(in);
                    send(out, "530 Wrong password: " + pass.substring("PASS ".length()) + "\r\n");
                    readLine(in);
                    send(out, "221 Bye.\r\n");
                }
            }
        } catch (IOException ignored) {
            // The checker closing first is normal.
        }
    }

    private static void send(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        synchronized (accepted) {
            for (Socket s : accepted) {
                s.close();
            }
        }
    }
}
