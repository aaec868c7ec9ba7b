package dev.ferry.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * The top-level {@code log:} section of a Ferry file, which {@code ferry server} and {@code ferry balancer}
 * both read (the section is optional; a file without it keeps the settings passed in). The file's other
 * sections are left to {@link ServerConfigFile} and {@link BalancerConfigFile}, but the top level is checked
 * with the same list of sections, so a misspelt {@code lgo:} is reported here too, as FILE:LINE:COL.
 */
public final class LogConfigFile {

    private static final List<String> LOG_KEYS = List.of("format", "xferlog");

    private LogConfigFile() {
    }

    /** Reads the {@code log:} section; settings absent from the file keep the values of {@code base}. */
    public static LogSettings load(Path file, LogSettings base) throws ConfigException {
        YamlFile yaml = YamlFile.read(file);
        Node rootNode = yaml.root().orElse(null);
        if (rootNode == null) {
            // The daemon's own loader reports the empty file, naming the section it expects.
            return base;
        }
        YamlMapping top = YamlMapping.of(yaml, rootNode, "", ServerConfigFile.TOP_KEYS, key -> LOG_KEYS.contains(key)
                ? "log settings go inside the `log:` section (indent '" + key + "' under `log:`)." : null);
        if (!top.has("log")) {
            return base;
        }
        return log(YamlMapping.of(yaml, top.value("log"), "log", LOG_KEYS), base);
    }

    private static LogSettings log(YamlMapping log, LogSettings base) throws ConfigException {
        LogSettings s = base.withFormat(log.parsed("format", "one of " + Values.choices(LogSettings.Format.values()),
                v -> Values.choice(LogSettings.Format.values(), v), base.format()));
        Path xferlog = log.path("xferlog", log.file().directory(), null);
        if (xferlog != null) {
            if (Files.isDirectory(xferlog)) {
                throw log.error("xferlog", xferlog + " is a directory; expected the file to append xferlog lines to");
            }
            s = s.withXferlog(xferlog);
        }
        return s;
    }
}
