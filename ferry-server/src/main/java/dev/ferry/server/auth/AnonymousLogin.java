package dev.ferry.server.auth;

import dev.ferry.server.ServerSettings.Anonymous;
import java.util.Locale;

/**
 * Anonymous access for account sources other than the users file: the same names ("anonymous", "ftp", any case)
 * and the same read-only login as {@link Authenticator}, decided before the directory or hook is asked, so that an
 * anonymous login never reaches them (nor waits for them).
 */
public record AnonymousLogin(Anonymous settings) {

    public AnonymousLogin {
        settings = settings == null ? Anonymous.OFF : settings;
    }

    /** True when USER alone identifies an anonymous login. */
    public boolean matches(String user) {
        return settings.enabled() && isAnonymousWord(user);
    }

    /** The anonymous login ({@link #matches} must have said yes). */
    public LoginResult.Success success() {
        return new LoginResult.Success("anonymous", settings.home(), false, true,
                settings.uploadDirectory() == null ? null : new UploadDirectory(settings.uploadDirectory()));
    }

    /** "anonymous" or "ftp" while anonymous access is off: refused without asking anyone. */
    public static boolean isAnonymousWord(String user) {
        String lower = user == null ? "" : user.toLowerCase(Locale.ROOT);
        return lower.equals("anonymous") || lower.equals("ftp");
    }
}
