package dev.ferry.balancer.backend;

import dev.ferry.balancer.tls.BackendTlsClient;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.runtime.net.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Setting up a session's control connection to the backend chosen at USER, before the client's USER goes
 * to it: the greeting, FTPS to the backend when configured, then the HOST and OPTS UTF8 the client gave the
 * balancer before login (RFC 7151, RFC 2640), replayed. Any failure here means "try another backend": the
 * client has heard nothing from this one yet.
 */
public final class BackendLogin {

    /** Longest reply line a backend may send (multi-line FEAT and HELP lines included). */
    public static final int MAX_LINE = 8192;

    /** The backend greeted with 421: it is up but will not take this client now; {@code text} is its reason. */
    public static final class Refused extends IOException {
        private final String text;

        Refused(String text) {
            super("greeting 421");
            this.text = text;
        }

        /** The backend's words, safe and bounded, to pass on if no backend takes the client. */
        public String text() {
            return text;
        }
    }

    private BackendLogin() {}

    /**
     * Runs the set-up on {@code conn} and returns the reader the session goes on with.
     *
     * @param ftps  the balancer's FTPS client to backends, or null for plain backends
     * @param host  the client's HOST, or null
     * @param utf8  the client sent OPTS UTF8 ON
     */
    public static ControlLineReader run(Connection conn, Backend backend, BackendTlsClient ftps, String host, boolean utf8)
            throws IOException {
        ControlLineReader reader = new ControlLineReader(conn, MAX_LINE);
        BackendReply greeting = BackendReply.read(reader);
        if (greeting.code != 220) {
            if (greeting.code == 421) {
                // Its per-address limit, a ban, its session limit: worth trying another backend, and worth telling
                // the client in the backend's words if none takes it.
                throw new Refused(Printable.of(greeting.text(), 200));
            }
            throw new IOException("greeting " + greeting.code);
        }
        if (ftps != null) {
            startTls(conn, reader, ftps, backend);
        }
        if (host != null) {
            exchange(conn, reader, "HOST " + host);
        }
        if (utf8) {
            exchange(conn, reader, "OPTS UTF8 ON");
        }
        return reader;
    }

    /**
     * FTPS to the backend (RFC 4217 §4, §8, §9), right after its greeting: AUTH TLS, the handshake as a TLS
     * client, PBSZ 0 and PROT P, so that the control connection and every data connection to the backend
     * are protected. The session's data connections resume this session (same peer host and port).
     */
    private static void startTls(Connection conn, ControlLineReader reader, BackendTlsClient ftps, Backend b)
            throws IOException {
        BackendReply auth = exchange(conn, reader, "AUTH TLS");
        if (auth.code != 234) {
            throw new IOException("AUTH TLS answered " + auth.code + " (the backend does not offer FTPS)");
        }
        try {
            conn.startTls(ftps.engine(b.address()));
        } catch (IOException e) {
            throw new IOException("TLS handshake failed: " + e.getMessage(), e);
        }
        BackendReply pbsz = exchange(conn, reader, "PBSZ 0");
        BackendReply prot = exchange(conn, reader, "PROT P");
        if (pbsz.code != 200 || prot.code != 200) {
            throw new IOException("PBSZ/PROT answered " + pbsz.code + "/" + prot.code);
        }
    }

    /** A command of the balancer's own to a backend being set up, and its reply. */
    private static BackendReply exchange(Connection conn, ControlLineReader reader, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            conn.write(b);
        }
        return BackendReply.read(reader);
    }
}
