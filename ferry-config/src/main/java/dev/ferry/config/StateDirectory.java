package dev.ferry.config;

import dev.ferry.runtime.tls.SelfSigned;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a daemon keeps what it generates (today the self-signed certificate and key, when no certificate is
 * configured), and which setting chose it, so that a directory it cannot write is reported with the setting to
 * change.
 *
 * <p>Chosen in this order: the flag ({@code --state-dir}), the file's {@code state-directory} key, systemd's
 * {@code $STATE_DIRECTORY} (set by {@code StateDirectory=ferry} in the shipped units: /var/lib/ferry, owned by
 * the service account), then the place a run by hand has always used (beside the config file, ...). The
 * configuration directory is the wrong place for a service: it is root's, and read-only under
 * {@code ProtectSystem=strict}.
 *
 * @param path     the directory (absolute)
 * @param chosenBy the setting (or default) that chose it, for messages: "--state-dir", "server.state-directory", ...
 */
public record StateDirectory(Path path, String chosenBy) {

    /** Set by systemd for a unit with {@code StateDirectory=} (systemd.exec(5)): absolute paths, ':'-separated. */
    public static final String VARIABLE = "STATE_DIRECTORY";
    public static final String FLAG = "--state-dir";

    /**
     * @param section  "server" or "balancer": the file's key is {@code SECTION.state-directory}
     * @param systemd  the value of {@value #VARIABLE}, or null
     */
    public static StateDirectory choose(String section, Path flag, Path fromFile, String systemd, Path fallback,
                                        String fallbackWhy) {
        if (flag != null) {
            return new StateDirectory(flag.toAbsolutePath().normalize(), FLAG);
        }
        if (fromFile != null) {
            return new StateDirectory(fromFile.toAbsolutePath().normalize(), section + ".state-directory");
        }
        Path fromSystemd = fromSystemd(systemd);
        if (fromSystemd != null) {
            return new StateDirectory(fromSystemd, "$" + VARIABLE + " (systemd's StateDirectory=)");
        }
        return new StateDirectory(fallback.toAbsolutePath().normalize(), "the default without a state directory setting: "
                + fallbackWhy);
    }

    /** The first directory of {@code $STATE_DIRECTORY}; systemd lists one per StateDirectory= entry. */
    public static Path fromSystemd(String variable) {
        if (variable == null || variable.isBlank()) {
            return null;
        }
        Path first = Path.of(variable.split(":", 2)[0]);
        return first.isAbsolute() ? first.normalize() : null;
    }

    /**
     * Stops the start, before anything listens, when the self-signed certificate cannot be kept in
     * {@code directory}: it is made (with its parents) if missing and must be writable, unless it already holds
     * a certificate and key to reuse (an expired pair is then refused by the TLS loader, naming the directory).
     *
     * @param directory where the certificate goes: this state directory, or the {@code tls.self-signed-directory}
     *                  that overrides it
     * @param setting   what chose {@code directory}, when it is not this state directory
     * @param section   "server" or "balancer", for the key names in the message
     * @param certificateKey the file's key for a real certificate: "server.tls.cert", "balancer.tls.certificate"
     */
    public void requireWritableForSelfSigned(Path directory, String setting, String section, String certificateKey)
            throws IOException {
        String chooser = directory.equals(path) ? chosenBy : setting;
        String reason = null;
        try {
            Files.createDirectories(directory);
            if (!Files.isWritable(directory) && !(Files.isReadable(directory.resolve(SelfSigned.CERTIFICATE_FILE))
                    && Files.isReadable(directory.resolve(SelfSigned.KEY_FILE)))) {
                reason = "not writable by this account";
            }
        } catch (AccessDeniedException e) {
            reason = "permission denied at " + e.getFile();
        } catch (FileSystemException e) {
            reason = (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()) + " at " + e.getFile();
        }
        if (reason != null) {
            throw new Unusable("cannot keep the self-signed certificate in " + directory + " (" + reason
                    + "; chosen by " + chooser + "). Set " + section + ".state-directory or " + FLAG
                    + " to a directory this account can write (the systemd unit's StateDirectory=ferry gives /var/lib/ferry), "
                    + "or give a certificate (" + certificateKey + ", --tls-cert)");
        }
    }

    /**
     * The state directory cannot be used: a configuration problem (a setting or the unit names the wrong
     * directory, or its owner is wrong), which the CLI answers with exit code 2 like any other, so that the
     * units' {@code RestartPreventExitStatus=2} stops systemd from restarting into the same error every 2 s.
     */
    public static final class Unusable extends IOException {
        Unusable(String message) {
            super(message);
        }
    }
}
