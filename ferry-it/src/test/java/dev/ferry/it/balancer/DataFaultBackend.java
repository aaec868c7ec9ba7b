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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A backend that logs a user in, answers PASV with a port of its own address, and then fails a download the
 * way the test picks (OkHttp MockWebServer style: one fault per backend; {@link FakeBackend} has the faults
 * of the control connection). Its data connections come and go on its own address, as a real backend's on
 * another host would. Whatever the fault, it records how each upload's data connection ended ({@link
 * #uploadEnds}): a backend that commits on a clean end (vsftpd, any FTP server without Ferry's control
 * connection check) is only safe when a cut upload reaches it as a reset.
 */
final class DataFaultBackend implements AutoCloseable {

    /** What goes wrong. */
    enum Fault {
        /** RETR: 150, half the file, then the data connection is reset and 426 follows. */
        RESET_MID_DOWNLOAD,
        /** RETR: 150, half the file, the data connection reset, and then a lying 226. */
        RESET_THEN_226,
        /** RETR: 150, half the file, then nothing more, ever, on either connection. */
        STALL_MID_DOWNLOAD
    }

    static final int FILE_SIZE = 4 << 20;

    private final ServerSocket server;
    private final Fault fault;
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    /** How each STOR's data connection ended: "end" (a clean end of stream) or "reset" (an error). */
    final List<String> uploadEnds = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);

    private DataFaultBackend(ServerSocket server, Fault fault) {
        this.server = server;
        this.fault = fault;
    }

    static DataFaultBackend start(InetAddress address, Fault fault) throws IOException {
        DataFaultBackend b = new DataFaultBackend(new ServerSocket(0, 50, address), fault);
        Thread.ofVirtual().start(b::acceptLoop);
        return b;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket c = server.accept();
                held.add(c);
                Thread.ofVirtual().start(() -> serve(c));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket control) {
        ServerSocket passive = null;
        try {
            control.setSoTimeout(60_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(control.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = control.getOutputStream();
            send(out, "220 fault backend ready");
            String line;
            while ((line = in.readLine()) != null) {
                String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
                switch (verb) {
                    case "USER" -> send(out, "331 password please");
                    case "PASS" -> send(out, "230 logged in");
                    case "PASV" -> {
                        passive = new ServerSocket(0, 1, server.getInetAddress());
                        int p = passive.getLocalPort();
                        byte[] a = server.getInetAddress().getAddress();
                        send(out, "227 Entering Passive Mode (" + (a[0] & 255) + "," + (a[1] & 255) + "," + (a[2] & 255) + ","
                                + (a[3] & 255) + "," + (p >> 8) + "," + (p & 255) + ")");
                    }
                    case "RETR" -> {
                        passive.setSoTimeout(10_000);
                        Socket data = passive.accept();
                        held.add(data);
                        passive.close();
                        send(out, "150 here it comes");
                        data.getOutputStream().write(new byte[FILE_SIZE / 2]);
                        data.getOutputStream().flush();
                        switch (fault) {
                            case RESET_MID_DOWNLOAD -> {
                                reset(data);
                                send(out, "426 connection reset");
                            }
                            case RESET_THEN_226 -> {
                                reset(data);
                                send(out, "226 transfer complete (it was not)");
                            }
                            case STALL_MID_DOWNLOAD -> {
                                // Neither the rest nor a reply: a backend that hung mid-transfer (until the test ends).
                                closed.await(120, TimeUnit.SECONDS);
                            }
                            default -> throw new IllegalStateException();
                        }
                    }
                    case "STOR" -> {
                        passive.setSoTimeout(10_000);
                        Socket data = passive.accept();
                        held.add(data);
                        passive.close();
                        send(out, "150 send it");
                        boolean clean = drainedToTheEnd(data);
                        uploadEnds.add(clean ? "end" : "reset");
                        send(out, clean ? "226 stored" : "426 connection lost");
                    }
                    case "QUIT" -> {
                        send(out, "221 bye");
                        return;
                    }
                    default -> send(out, "200 ok");
                }
            }
        } catch (IOException | InterruptedException ignored) {
            // the balancer hung up, or the test ended
        } finally {
            close(passive);
        }
    }

    /** Reads until the end of stream (true) or an error such as a reset (false). */
    private static boolean drainedToTheEnd(Socket data) {
        byte[] b = new byte[64 * 1024];
        try (data) {
            data.setSoTimeout(30_000);
            while (data.getInputStream().read(b) >= 0) {
                // discard
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    private static void send(OutputStream out, String reply) throws IOException {
        out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void close(ServerSocket s) {
        try {
            if (s != null) {
                s.close();
            }
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        server.close();
        for (Socket s : held) {
            s.close();
        }
    }
}
