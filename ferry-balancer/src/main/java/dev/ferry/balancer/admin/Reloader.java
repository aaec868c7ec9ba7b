package dev.ferry.balancer.admin;

import dev.ferry.balancer.reload.ReloadPlan;

/**
 * Reads the balancer's configuration again and applies it: what {@code POST /api/reload} and SIGHUP
 * do. The command line knows where the settings came from (file and flags), so it provides this.
 */
@FunctionalInterface
public interface Reloader {

    /**
     * @return what changed
     * @throws Exception when the configuration cannot be read or is wrong; its message says why and
     *     the running configuration stays
     */
    ReloadPlan reload() throws Exception;
}
