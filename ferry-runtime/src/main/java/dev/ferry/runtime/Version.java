package dev.ferry.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Ferry's version, as the build wrote it into {@code ferry-version.properties} (Maven resource filtering):
 * what {@code ferry --version}, the start banners and the balancer's stats page show.
 */
public final class Version {

    private static final String UNKNOWN = "unknown";
    private static final String TEXT = read();

    private Version() {}

    /** For example {@code 0.1.0-SNAPSHOT}; {@code unknown} when the file is missing (a build that skipped resources). */
    public static String text() {
        return TEXT;
    }

    private static String read() {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("ferry-version.properties")) {
            if (in == null) {
                return UNKNOWN;
            }
            p.load(in);
        } catch (IOException e) {
            return UNKNOWN;
        }
        String v = p.getProperty("version", UNKNOWN);
        // An unfiltered copy (an IDE's) still says ${project.version}: that is no version.
        return v.startsWith("${") ? UNKNOWN : v;
    }
}
