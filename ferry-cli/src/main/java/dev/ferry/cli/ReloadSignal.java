package dev.ferry.cli;

import dev.ferry.balancer.admin.Reloader;
import dev.ferry.balancer.reload.ReloadPlan;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP reloads the balancer's configuration, as daemons do (systemd's ExecReload sends it). The JDK
 * has no public API for signals; sun.misc.Signal (module jdk.unsupported) is the supported way in
 * practice. The reload runs on its own thread: a signal handler must return quickly.
 */
final class ReloadSignal {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer");

    private ReloadSignal() {
    }

    static void install(Reloader reloader) {
        Signal.handle(new Signal("HUP"), signal -> Thread.ofVirtual().name("ferry-reload").start(() -> {
            LOG.info("event=reload-requested by=SIGHUP");
            try {
                ReloadPlan plan = reloader.reload();
                if (!plan.needRestart().isEmpty()) {
                    LOG.warn("event=reload-partial restart_needed={} (these settings keep their running values)",
                            String.join(",", plan.needRestart()));
                }
            } catch (Exception e) {
                LOG.warn("event=reload-failed error=\"{}\" (the running configuration stays)", e.getMessage());
            }
        }));
    }
}
