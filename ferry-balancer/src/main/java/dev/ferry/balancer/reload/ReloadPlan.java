package dev.ferry.balancer.reload;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a configuration reload changes, worked out before anything is touched, so that the running
 * balancer either takes the whole plan or (on a broken file) nothing.
 *
 * <p>Backends are matched by name. A new name is added; a missing name is retired: it takes no new
 * session, its sessions finish, and it leaves the list when the last one ends (HAProxy's "drain,
 * then remove"). A name whose address or max-connecting changed is retired and replaced by a new
 * backend of the same name (its sessions stay with the old address). A weight change applies in
 * place. Settings the balancer cannot change while it listens (its own address, its passive range,
 * its public address and networks, its session limit and queue, its admin listener, its TLS mode, implicit-FTPS listener and protocol to
 * the backends) are kept as they are and listed, to be logged: they need a restart.
 *
 * @param added       backends to create
 * @param retired     running backends to drain and remove
 * @param reweighted  running backends whose weight changes, with the new weight
 * @param needRestart names of settings that changed but only apply after a restart
 */
public record ReloadPlan(List<BackendSpec> added, List<Backend> retired, Map<Backend, Integer> reweighted,
                         List<String> needRestart) {

    public ReloadPlan {
        added = List.copyOf(added);
        retired = List.copyOf(retired);
        reweighted = Map.copyOf(reweighted);
        needRestart = List.copyOf(needRestart);
    }

    /**
     * @param running the backends in service now (retired ones excluded)
     * @param before  the settings in force
     * @param after   the settings just read
     */
    public static ReloadPlan between(List<Backend> running, BalancerSettings before, BalancerSettings after) {
        Map<String, Backend> byName = new LinkedHashMap<>();
        for (Backend b : running) {
            byName.put(b.name(), b);
        }
        List<BackendSpec> added = new ArrayList<>();
        List<Backend> retired = new ArrayList<>();
        Map<Backend, Integer> reweighted = new LinkedHashMap<>();
        for (BackendSpec spec : after.backends()) {
            Backend current = byName.remove(spec.name());
            if (current == null) {
                added.add(spec);
            } else if (!current.address().equals(spec.address()) || current.maxConnecting() != spec.maxConnecting()
                    // A new passive range too: TLS passthrough routes a session's data ports by its backend's range.
                    || current.spec().passiveLow() != spec.passiveLow() || current.spec().passiveHigh() != spec.passiveHigh()) {
                retired.add(current);
                added.add(spec);
            } else if (current.weight() != spec.weight()) {
                reweighted.put(current, spec.weight());
            }
        }
        retired.addAll(byName.values());

        List<String> needRestart = new ArrayList<>();
        if (!before.listen().equals(after.listen())) {
            needRestart.add("listen");
        }
        if (before.passiveLow() != after.passiveLow() || before.passiveHigh() != after.passiveHigh()) {
            needRestart.add("passive-ports");
        }
        if (!Objects.equals(before.publicAddress(), after.publicAddress())) {
            needRestart.add("public-address");
        }
        if (!before.networkAddresses().equals(after.networkAddresses())) {
            needRestart.add("networks");
        }
        if (before.maxSessions() != after.maxSessions() || !before.queue().equals(after.queue())) {
            needRestart.add("max-sessions/queue");
        }
        if (!before.admin().equals(after.admin())) {
            needRestart.add("admin");
        }
        if (!before.node().equals(after.node())) {
            needRestart.add("node");
        }
        // The ban list is made once, with its rules; a new list would forget the failures and bans it holds.
        if (!before.bans().equals(after.bans())) {
            needRestart.add("login");
        }
        // TLS: certificates are reloaded; what decides the listeners and every session's shape is not.
        if (before.tls().mode() != after.tls().mode()) {
            needRestart.add("tls.mode");
        }
        if (!Objects.equals(before.tls().implicitListen(), after.tls().implicitListen())) {
            needRestart.add("tls.implicit-listen");
        }
        if (!before.tls().backends().equals(after.tls().backends())) {
            needRestart.add("tls.backends");
        }
        return new ReloadPlan(added, retired, reweighted, needRestart);
    }

    /** True when the plan changes nothing about the backends. */
    public boolean backendsUnchanged() {
        return added.isEmpty() && retired.isEmpty() && reweighted.isEmpty();
    }
}
