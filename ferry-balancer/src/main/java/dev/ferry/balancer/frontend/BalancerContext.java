package dev.ferry.balancer.frontend;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.balancer.policy.BalancePolicy;
import dev.ferry.server.data.BufferPool;
import dev.ferry.server.net.IdleParker;
import dev.ferry.server.net.PassiveAddressing;
import dev.ferry.server.net.Watchdog;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** What every proxied session of one balancer shares. {@code idleParker} may be null (pumps then keep their threads). */
public record BalancerContext(
        BalancerSettings settings,
        List<Backend> backends,
        BalancePolicy policy,
        Watchdog watchdog,
        DataPorts dataPorts,
        PassiveAddressing addressing,
        BufferPool buffers,
        Admission admission,
        AtomicLong sessionIds,
        java.util.Set<ProxySession> live,
        IdleParker idleParker,
        BalancerMetrics metrics) {
}
