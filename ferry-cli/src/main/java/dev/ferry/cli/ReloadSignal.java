package dev.ferry.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP reloads the configuration, as daemons do (systemd's ExecReload sends it). The JDK has no public
 * API for signals; sun.misc.Signal (module jdk.unsupported) is the supported way in practice. The reload
 * runs on its own thread: a signal handler must return quickly.
 */
final class ReloadSignal {

    private ReloadSignal() {
    }

    /**
     * {@code reload} applies the configuration read again and returns the settings that changed but need a
     * restart; it throws, with a message for the operator, when the configuration cannot be used.
     */
    static void install(String loggerName, Callable<List<String>> reload) {
        Logger log = LoggerFactory.getLogger(loggerName);
        Signal.handle(new Signal("HUP"), signal -> Thread.ofVirtual().name("ferry-reload").start(() -> {
            log.info("event=reload-requested by=SIGHUP");
            try {
                List<String> needRestart = reload.call();
                if (!needRestart.isEmpty()) {
                    log.warn("event=reload-partial restart_needed={} (these settings keep their running values)",
                            String.join(",", needRestart));
                }
            } catch (Exception e) {
                log.warn("event=reload-failed error=\"{}\" (the running configuration stays)", e.getMessage());
            }
        }));
    }
}
