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

    /**
     * What a login as {@code name} gets before any source is asked: the anonymous login, or the refusal of
     * "anonymous"/"ftp" while anonymous access is off (everybody knows these names: a robot trying them costs the
     * directory or hook nothing); null for every other name.
     */
    public LoginResult answerFirst(String name) {
        if (matches(name)) {
            return success();
        }
        return isAnonymousWord(name) ? new LoginResult.Failure(name, LoginResult.Reason.ANONYMOUS_DISABLED) : null;
    }

    /** "anonymous" or "ftp" while anonymous access is off: refused without asking anyone. */
    public static boolean isAnonymousWord(String user) {
        String lower = user == null ? "" : user.toLowerCase(Locale.ROOT);
        return lower.equals("anonymous") || lower.equals("ftp");
    }
}
