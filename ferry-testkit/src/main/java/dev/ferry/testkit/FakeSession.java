package dev.ferry.testkit;

import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.proxy.ProxyProtocol;
import dev.ferry.protocol.proxy.ProxyProtocolException;
import dev.ferry.runtime.net.Closing;
import dev.ferry.testkit.FakeBackend.Fault;
import dev.ferry.testkit.FakeBackend.Session;
import dev.ferry.testkit.FakeBackend.UploadEnd;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * One control connection of a {@link FakeBackend}: the script every connection follows, the step the
 * backend's fault breaks, and the record of every byte the peer sent.
 */
final class FakeSession {

    /** RETR's file: zeros, half of them sent before a download fault strikes. */
    private static final int DOWNLOAD_SIZE = 4 << 20;
    private static final int CONTROL_TIMEOUT_MILLIS = 60_000;
    private static final int DATA_ACCEPT_TIMEOUT_MILLIS = 10_000;
    private static final int DATA_READ_TIMEOUT_MILLIS = 30_000;
    /** The longest first line that can be put back after looking for a PROXY v1 header in it. */
    private static final int PUSHBACK = 8192;
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);

    private final FakeBackend backend;
    private final Fault fault;
    private final Socket control;
    private final InetSocketAddress peer;
    private final InetSocketAddress local;
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private PushbackInputStream in;
    private OutputStream out;
    private ProxyHeader proxyHeader;
    /** The port the last PASV/EPSV opened, until a transfer takes its connection. */
    private ServerSocket passive;

    FakeSession(FakeBackend backend, Socket control) {
        this.backend = backend;
        this.fault = backend.fault();
        this.control = control;
        this.peer = (InetSocketAddress) control.getRemoteSocketAddress();
        this.local = (InetSocketAddress) control.getLocalSocketAddress();
    }

    /** Runs the script until either side ends it; then what the peer sent. */
    Session run() {
        try {
            control.setSoTimeout(CONTROL_TIMEOUT_MILLIS);
            in = new PushbackInputStream(new BufferedInputStream(new Recording(control.getInputStream(), sent)), PUSHBACK);
            out = control.getOutputStream();
            converse();
            // The backend's FIN, then whatever the peer still sends until it closes: the record is all it sent.
            control.shutdownOutput();
            drain();
        } catch (IOException | InterruptedException ignored) {
            // The peer hung up or timed out, or the test closed the backend: normal ends for a fake.
        } finally {
            Closing.quietly(passive);
            Closing.quietly(control);
        }
        synchronized (sent) {
            return new Session(sent.toByteArray(), proxyHeader, peer, local);
        }
    }

    private void converse() throws IOException, InterruptedException {
        switch (fault) {
            case NEVER_GREETS -> {
                drain();
                return;
            }
            case ANSWERS_421 -> {
                reply("421 Too many connections, try later.");
                return;
            }
            case MULTILINE_GREETING -> reply("220-Welcome\r\n 220 this middle line is not the end\r\n220 Ready.");
            default -> reply("220 Fake backend ready.");
        }
        if (!readProxyHeader()) {
            return;
        }
        if (fault == Fault.GREETS_THEN_SILENT) {
            drain();
            return;
        }
        String line;
        while ((line = readLine()) != null && answer(line)) {
            // one reply per command
        }
    }

    /** Answers one command; false when the session ends with it. */
    private boolean answer(String line) throws IOException, InterruptedException {
        if (fault == Fault.GREETS_THEN_421) {
            reply("421 Service shutting down.");
            return false;
        }
        String[] words = line.split(" ", 2);
        String argument = words.length > 1 ? words[1] : "";
        switch (words[0].toUpperCase(Locale.ROOT)) {
            case "USER" -> reply("331 Password please.");
            case "PASS" -> reply(fault == Fault.ECHOES_PASSWORD ? "530 Wrong password: " + argument : "230 Logged in.");
            case "FEAT" -> reply(fault == Fault.MULTILINE_GREETING ? "211-Extensions:\r\n MDTM\r\n SIZE\r\n211 End" : "211 No features.");
            case "PASV", "EPSV" -> passive(words[0].toUpperCase(Locale.ROOT));
            case "RETR" -> {
                return retr();
            }
            case "STOR" -> stor();
            case "QUIT" -> {
                reply("221 Bye.");
                return false;
            }
            default -> reply("200 OK.");
        }
        return true;
    }

    // ---- the PROXY header -------------------------------------------------------------------------

    /**
     * Reads the PROXY header the connection begins with, if it does (spec §2.2: v2 by its signature, which
     * starts with CR, v1 by "PROXY "). False when the connection ended or its header is broken, which a
     * backend that reads headers drops.
     */
    private boolean readProxyHeader() throws IOException {
        int first = in.read();
        if (first < 0) {
            return false;
        }
        in.unread(first);
        try {
            if (first == '\r') {
                proxyHeader = ProxyProtocol.read(Channels.newChannel(in));
            } else if (first == 'P') {
                byte[] line = readRawLine();
                if (Arrays.equals(line, 0, Math.min(line.length, V1_PREFIX.length), V1_PREFIX, 0, V1_PREFIX.length)) {
                    proxyHeader = ProxyProtocol.read(Channels.newChannel(new ByteArrayInputStream(line)));
                } else {
                    in.unread(line);   // a command such as PWD
                }
            }
            return true;
        } catch (ProxyProtocolException broken) {
            return false;
        }
    }

    // ---- data connections -------------------------------------------------------------------------

    private void passive(String verb) throws IOException {
        switch (fault) {
            case BAD_227_NO_NUMBERS -> reply("227 Entering Passive Mode (no numbers here).");
            case BAD_227_OVERLONG_LINE -> reply("227 " + "9".repeat(20_000));
            default -> {
                Closing.quietly(passive);
                passive = new ServerSocket(0, 1, backend.host());
                backend.hold(passive);
                int port = passive.getLocalPort();
                if (verb.equals("EPSV")) {
                    reply("229 Entering Extended Passive Mode (|||" + port + "|)");
                } else {
                    byte[] a = backend.host().getAddress();
                    reply("227 Entering Passive Mode (" + (a[0] & 255) + "," + (a[1] & 255) + "," + (a[2] & 255) + ","
                            + (a[3] & 255) + "," + (port >> 8) + "," + (port & 255) + ")");
                }
            }
        }
    }

    /** Sends the download, or half of it and then the fault; false when the session stalls for good. */
    private boolean retr() throws IOException, InterruptedException {
        Socket data = acceptData("150 Here it comes.");
        if (data == null) {
            return true;
        }
        OutputStream bytes = data.getOutputStream();
        bytes.write(new byte[DOWNLOAD_SIZE / 2]);
        bytes.flush();
        switch (fault) {
            case RESET_MID_DOWNLOAD -> {
                reset(data);
                reply("426 Connection reset.");
            }
            case RESET_THEN_226 -> {
                reset(data);
                reply("226 Transfer complete (it was not).");
            }
            case STALL_MID_DOWNLOAD -> {
                // Neither the rest nor a reply: a backend that hung mid-transfer, until the test ends.
                backend.awaitClose();
                return false;
            }
            default -> {
                bytes.write(new byte[DOWNLOAD_SIZE - DOWNLOAD_SIZE / 2]);
                data.close();
                reply("226 Transfer complete.");
            }
        }
        return true;
    }

    /** Takes the upload to its end and records how it ended: 226 for a clean end, 426 for a reset. */
    private void stor() throws IOException {
        Socket data = acceptData("150 Send it.");
        if (data == null) {
            return;
        }
        UploadEnd end = drain(data);
        backend.recordUpload(end);
        reply(end == UploadEnd.END ? "226 Stored." : "426 Connection lost.");
    }

    /** The data connection to the last passive port, announced with {@code preliminary}; null: 425 sent. */
    private Socket acceptData(String preliminary) throws IOException {
        if (passive == null) {
            reply("425 Use PASV or EPSV first.");
            return null;
        }
        passive.setSoTimeout(DATA_ACCEPT_TIMEOUT_MILLIS);
        Socket data = passive.accept();
        backend.hold(data);
        passive.close();
        passive = null;
        reply(preliminary);
        return data;
    }

    /** Reads until the end of stream (END) or an error such as a reset (RESET). */
    private static UploadEnd drain(Socket data) {
        byte[] b = new byte[64 * 1024];
        try (data) {
            data.setSoTimeout(DATA_READ_TIMEOUT_MILLIS);
            while (data.getInputStream().read(b) >= 0) {
                // discard
            }
            return UploadEnd.END;
        } catch (IOException e) {
            return UploadEnd.RESET;
        }
    }

    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    // ---- control connection I/O -------------------------------------------------------------------

    private void reply(String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The next command line without its CRLF (or bare LF); null at the end of stream. */
    private String readLine() throws IOException {
        byte[] raw = readRawLine();
        if (raw.length == 0) {
            return null;
        }
        int end = raw.length;
        if (end > 0 && raw[end - 1] == '\n') {
            end--;
        }
        if (end > 0 && raw[end - 1] == '\r') {
            end--;
        }
        return new String(raw, 0, end, StandardCharsets.UTF_8);
    }

    /** The bytes up to and including the next LF, or to the end of stream. */
    private byte[] readRawLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0; b = in.read()) {
            line.write(b);
            if (b == '\n') {
                break;
            }
        }
        return line.toByteArray();
    }

    /** Reads (and so records) until the peer gives up and closes. */
    private void drain() throws IOException {
        while (in.read() >= 0) {
            // read, never answered
        }
    }


    /** Copies every byte read from the socket into the session's record. */
    private static final class Recording extends FilterInputStream {
        private final ByteArrayOutputStream copy;

        Recording(InputStream in, ByteArrayOutputStream copy) {
            super(in);
            this.copy = copy;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                synchronized (copy) {
                    copy.write(b);
                }
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                synchronized (copy) {
                    copy.write(b, off, n);
                }
            }
            return n;
        }
    }
}
