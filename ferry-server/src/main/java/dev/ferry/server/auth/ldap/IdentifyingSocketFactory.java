package dev.ferry.server.auth.ldap;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TLS sockets that check the directory's certificate names the host they were opened to, in the handshake itself
 * (JSSE endpoint identification "LDAPS": the host name or IP address against subjectAltName, RFC 6125, as RFC 4513
 * §3.1.3 asks). The SDK's own host name verifier runs for ldaps:// but not on a StartTLS upgrade (a test showed it);
 * here both are covered, and a failed check is a failed handshake.
 */
final class IdentifyingSocketFactory extends SSLSocketFactory {

    private final SSLSocketFactory delegate;

    IdentifyingSocketFactory(SSLSocketFactory delegate) {
        this.delegate = delegate;
    }

    private static Socket identify(Socket socket) {
        if (socket instanceof SSLSocket ssl) {
            SSLParameters p = ssl.getSSLParameters();
            // SECURITY: without it any certificate the CA file trusts would pass for any directory.
            p.setEndpointIdentificationAlgorithm("LDAPS");
            ssl.setSSLParameters(p);
        }
        return socket;
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket() throws IOException {
        return identify(delegate.createSocket());
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
        return identify(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket(Socket s, InputStream consumed, boolean autoClose) throws IOException {
        return identify(delegate.createSocket(s, consumed, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return identify(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return identify(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return identify(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return identify(delegate.createSocket(address, port, localAddress, localPort));
    }
}
