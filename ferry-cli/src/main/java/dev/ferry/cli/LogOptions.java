package dev.ferry.cli;

import dev.ferry.config.ConfigException;
import dev.ferry.config.LogConfigFile;
import dev.ferry.config.LogSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --log-format} of the commands that run a daemon; the file's {@code log:} section is read under it. */
final class LogOptions {

    @Option(names = "--log-format", paramLabel = "FORMAT",
            description = "Log lines on stderr: logfmt (key=value text, the default) or json (one JSON object per line). "
                    + "See docs/logging.md.")
    String format;

    /** The defaults, then the config file's {@code log:} section (when there is a file), then the flags. */
    LogSettings settings(Path config, Path xferlog) throws ConfigException {
        LogSettings s = LogSettings.DEFAULTS;
        if (config != null) {
            s = LogConfigFile.load(config, s);
        }
        if (format != null) {
            s = s.withFormat(Flags.choice("--log-format", format, LogSettings.Format.values()));
        }
        if (xferlog != null) {
            s = s.withXferlog(xferlog.toAbsolutePath().normalize());
        }
        return s;
    }
}
