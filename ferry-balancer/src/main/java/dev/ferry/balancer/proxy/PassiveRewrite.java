package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.BackendReply;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The two halves of rewriting a backend's passive reply for the client, pure: where the backend's data port
 * is (its 227, RFC 959 §4.1.2, or 229, RFC 2428 §3, always on the backend's own host: backends need no public
 * address and a 227 naming another host is not followed), and what the client is told instead (the
 * balancer's advertised address and a port of its own range).
 */
final class PassiveRewrite {

    private PassiveRewrite() {}

    /**
     * The backend's passive port from a 227 or 229 reply ({@code lines} as sent, codes included), on
     * {@code backendHost}; null for any other reply.
     *
     * @throws BackendReply.Hostile a 227/229 that cannot be read: the backend is broken or hostile
     */
    static InetSocketAddress backendPort(int code, List<String> lines, InetAddress backendHost) throws BackendReply.Hostile {
        int port;
        if (code == 229) {
            port = HostPort.parse229(String.join(" ", lines));
        } else if (code == 227) {
            String text = String.join(" ", lines);
            HostPort hp = HostPort.parse227(text.length() > 4 ? text.substring(4) : text);
            port = hp == null ? -1 : hp.port();
        } else {
            return null;
        }
        if (port <= 0) {
            throw new BackendReply.Hostile("malformed " + code + " reply");
        }
        return new InetSocketAddress(backendHost, port);
    }

    /** The client's reply: 229 with the balancer's port for EPSV, else 227 with {@code advertised} and it. */
    static Reply toClient(boolean extended, Inet4Address advertised, int port) {
        return extended ? Reply.of(229, HostPort.format229(port)) : Reply.of(227, HostPort.format227(advertised, port));
    }
}
