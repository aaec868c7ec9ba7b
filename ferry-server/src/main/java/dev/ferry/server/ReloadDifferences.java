package dev.ferry.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which settings a reload cannot apply to a running server. A reload replaces the accounts and the TLS
 * certificate; the rest (listeners, passive ports, limits, policies) is bound or cached when the server
 * starts, so a changed value is named for the operator instead of being applied halfway.
 */
final class ReloadDifferences {

    private ReloadDifferences() {
    }

    /** Names, as in the config file, of the settings of {@code next} that differ from {@code running} and need a restart. */
    static List<String> needingRestart(ServerSettings running, ServerSettings next) {
        List<String> names = new ArrayList<>();
        differs(names, "listen", running.listen(), next.listen());
        differs(names, "root", running.root(), next.root());
        differs(names, "storage", running.objectStore(), next.objectStore());
        differs(names, "anonymous", running.anonymous(), next.anonymous());
        differs(names, "passive", running.passive(), next.passive());
        differs(names, "limits", running.limits(), next.limits());
        differs(names, "login", running.loginPolicy(), next.loginPolicy());
        differs(names, "active-mode", running.allowActiveMode(), next.allowActiveMode());
        differs(names, "server-name", running.serverName(), next.serverName());
        differs(names, "proxy-protocol", running.trustedProxies(), next.trustedProxies());
        differs(names, "metrics", running.metricsListen(), next.metricsListen());
        differs(names, "umask", running.umask(), next.umask());
        differs(names, "node", running.node(), next.node());
        differs(names, "events", running.events(), next.events());
        differs(names, "users", running.accountSource(), next.accountSource());
        differs(names, "database", running.database(), next.database());
        ServerSettings.Tls a = running.tls();
        ServerSettings.Tls b = next.tls();
        differs(names, "tls.enabled", a.enabled(), b.enabled());
        differs(names, "tls.require", a.policy(), b.policy());
        differs(names, "tls.session-reuse", a.reuse(), b.reuse());
        differs(names, "tls.implicit-listen", a.implicitListen(), b.implicitListen());
        differs(names, "tls.handshake-timeout", a.handshakeTimeout(), b.handshakeTimeout());
        differs(names, "tls.allow-ccc", a.allowCcc(), b.allowCcc());
        return names;
    }

    private static void differs(List<String> names, String name, Object running, Object next) {
        if (!Objects.equals(running, next)) {
            names.add(name);
        }
    }
}
