package dev.ferry.server.session;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.auth.Authenticator;
import dev.ferry.server.auth.LoginGuard;
import dev.ferry.server.data.BufferPool;
import dev.ferry.server.data.PassivePorts;
import dev.ferry.server.metrics.ServerMetrics;
import dev.ferry.server.net.IdleParker;
import dev.ferry.server.net.PassiveAddressing;
import dev.ferry.server.net.Watchdog;
import dev.ferry.server.tls.ServerTls;

/**
 * What every session of one server shares. {@code idleParker} may be null (sessions then keep their thread
 * while idle); {@code tls} is null when FTPS is off (AUTH TLS is then answered 502).
 */
public record ServerContext(
        ServerSettings settings,
        Authenticator authenticator,
        LoginGuard loginGuard,
        Watchdog watchdog,
        PassivePorts passivePorts,
        PassiveAddressing passiveAddressing,
        BufferPool buffers,
        SessionRegistry sessions,
        HomeStorage homes,
        IdleParker idleParker,
        ServerMetrics metrics,
        ServerTls tls) {
}
