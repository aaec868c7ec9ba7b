package dev.ferry.database;

import java.time.Instant;
import java.util.Objects;

/**
 * One row of {@code ferry_users}: an account as the database keeps it. Text where the server has richer types (tls,
 * rights): the server parses them, so this module needs none of its classes.
 *
 * @param home         relative to the server root, as in the users file; null: the root
 * @param writable     access read-write (true) or read-only (false)
 * @param tls          optional, login or required; null: the server's policy
 * @param quotaBytes   0: no limit (likewise the files, rates and sessions)
 * @param uploadRate   bytes per second
 * @param rights       per-folder rights in their compact text form; null: none
 * @param created      set by the database (null in a row not yet added)
 */
public record UserRow(String name, String passwordHash, String home, boolean writable, boolean enabled, String tls,
                      long quotaBytes, long quotaFiles, long uploadRate, long downloadRate, int maxSessions,
                      String rights, Instant created, Instant updated) {

    public UserRow {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(passwordHash, "passwordHash");
    }

    /** A new account with only what `ferry users add` asks for: no limits, no rights, the server's TLS policy. */
    public static UserRow of(String name, String passwordHash, String home, boolean writable) {
        return new UserRow(name, passwordHash, home, writable, true, null, 0, 0, 0, 0, 0, null, null, null);
    }

    /** The access word of the users file and the table. */
    public String access() {
        return writable ? "read-write" : "read-only";
    }

    public UserRow withTls(String t) {
        return new UserRow(name, passwordHash, home, writable, enabled, t, quotaBytes, quotaFiles, uploadRate,
                downloadRate, maxSessions, rights, created, updated);
    }

    public UserRow withLimits(long qBytes, long qFiles, long up, long down, int sessions) {
        return new UserRow(name, passwordHash, home, writable, enabled, tls, qBytes, qFiles, up, down, sessions,
                rights, created, updated);
    }

    public UserRow withRights(String r) {
        return new UserRow(name, passwordHash, home, writable, enabled, tls, quotaBytes, quotaFiles, uploadRate,
                downloadRate, maxSessions, r, created, updated);
    }

    public UserRow withEnabled(boolean e) {
        return new UserRow(name, passwordHash, home, writable, e, tls, quotaBytes, quotaFiles, uploadRate,
                downloadRate, maxSessions, rights, created, updated);
    }

    /** Never the hash: a row's text may reach a log or a test report. */
    @Override
    public String toString() {
        return "UserRow[name=" + name + ", home=" + home + ", access=" + access() + ", enabled=" + enabled
                + ", tls=" + tls + ", quota=" + quotaBytes + "/" + quotaFiles + ", rates=" + uploadRate + "/"
                + downloadRate + ", maxSessions=" + maxSessions + ", rights=" + rights + "]";
    }
}
