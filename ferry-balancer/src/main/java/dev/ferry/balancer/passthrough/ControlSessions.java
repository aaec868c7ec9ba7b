package dev.ferry.balancer.passthrough;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The passthrough sessions relaying now, by client address: what a data connection is checked
 * against. Lists are copied on change (sessions start and end far less often than data connections
 * are looked up) and kept oldest first.
 */
final class ControlSessions {

    private final Map<InetAddress, List<PassthroughSession>> byClient = new ConcurrentHashMap<>();

    void add(PassthroughSession s) {
        byClient.compute(s.clientAddress().getAddress(), (a, list) -> {
            List<PassthroughSession> next = list == null ? new ArrayList<>() : new ArrayList<>(list);
            next.add(s);
            return List.copyOf(next);
        });
    }

    void remove(PassthroughSession s) {
        byClient.computeIfPresent(s.clientAddress().getAddress(), (a, list) -> {
            List<PassthroughSession> next = new ArrayList<>(list);
            next.remove(s);
            return next.isEmpty() ? null : List.copyOf(next);
        });
    }

    /**
     * The oldest session of {@code client} whose backend owns {@code port}, or null. Several sessions
     * of one address on one backend (clients behind one NAT, a client with parallel connections) are
     * told apart by nobody in passthrough; the backend checks its own data connections.
     */
    PassthroughSession owning(InetAddress client, int port) {
        List<PassthroughSession> sessions = byClient.get(client);
        if (sessions == null) {
            return null;
        }
        for (PassthroughSession s : sessions) {
            if (s.ownsDataPort(port)) {
                return s;
            }
        }
        return null;
    }
}
