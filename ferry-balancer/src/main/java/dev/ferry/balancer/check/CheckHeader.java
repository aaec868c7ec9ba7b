package dev.ferry.balancer.check;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.proxy.ProxyProtocol;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * The PROXY protocol header a check sends first when the balancer sends one to backends (HAProxy's
 * {@code check-send-proxy}): a backend that requires the header from the balancer would otherwise drop
 * every check. The header says the connection is the balancer's own, so the backend keeps the real
 * endpoints: v2 has a command for that, LOCAL (spec §2.2: "Such connections exist when the proxy sends
 * health-checks to the server"). v1 has none, and the spec (§2.1) advises against its UNKNOWN for a
 * connection meant to be accepted, since some receivers reject it; it asks instead for a line holding
 * the check connection's own endpoints, which means the same to the backend.
 */
enum CheckHeader {

    NONE {
        @Override
        byte[] bytes(Socket socket) {
            return new byte[0];
        }
    },
    V1 {
        @Override
        byte[] bytes(Socket socket) {
            return ProxyProtocol.encodeV1(new ProxyHeader((InetSocketAddress) socket.getLocalSocketAddress(),
                    (InetSocketAddress) socket.getRemoteSocketAddress()));
        }
    },
    V2 {
        @Override
        byte[] bytes(Socket socket) {
            return ProxyProtocol.encodeV2(ProxyHeader.local());
        }
    };

    static CheckHeader of(BalancerSettings.ProxyProtocol version) {
        return switch (version) {
            case OFF -> NONE;
            case V1 -> V1;
            case V2 -> V2;
        };
    }

    /** The header for a check connection, given its socket (v1 names its endpoints). */
    abstract byte[] bytes(Socket socket);

    /** Sends the header on a just-connected check socket; small enough for the socket buffer, so no deadline is needed. */
    void sendOn(Socket socket) throws IOException {
        byte[] header = bytes(socket);
        if (header.length > 0) {
            socket.getOutputStream().write(header);
            socket.getOutputStream().flush();
        }
    }
}
