package dev.ferry.server.data;

import dev.ferry.runtime.tls.TlsEndpoint;
import javax.net.ssl.SSLSession;

/**
 * What protected data connections (PROT P, RFC 4217 §9) take from the control connection's handshake: its
 * TLS context, not the server's current one, so that a certificate reload in between neither changes the
 * certificate within a session nor stops data connections from resuming its TLS session; and that session,
 * kept after CCC, which data connections are checked against (RFC 4217 §10.2).
 */
public record DataTls(TlsEndpoint endpoint, SSLSession controlSession) {}
