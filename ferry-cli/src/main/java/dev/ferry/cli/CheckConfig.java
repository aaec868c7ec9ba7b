package dev.ferry.cli;

import java.nio.file.Path;

/**
 * {@code --check-config} of {@code ferry server} and {@code ferry balancer}, as {@code haproxy -c} and
 * {@code nginx -t}: everything the start reads and checks before it binds, then exit 0 with one line on
 * stdout, or the start's own message on stderr and exit 2. Nothing is bound, no thread started, no
 * certificate generated. The systemd units run it in {@code ExecReload} before the SIGHUP, so that
 * {@code systemctl reload} shows a broken file instead of only logging it.
 */
final class CheckConfig {

    static final String FLAG = "--check-config";
    static final String DESCRIPTION = "Check the configuration (file, users file, options, certificate and key, state directory) "
            + "as the start would, bind nothing, print 'configuration OK' and exit 0, or the error and exit 2.";
    /** The exit code of an invalid configuration, which a failed check always is (even where the start says 1). */
    static final int INVALID = 2;

    private CheckConfig() {
    }

    /** Prints the OK line and returns the exit code 0 (no service runs). */
    static Started ok(String command, Path config) {
        System.out.println("configuration OK: " + (config != null ? config : "(" + command + " options only, no --config)"));
        return new Started(0, false);
    }
}
