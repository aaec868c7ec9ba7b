package dev.ferry.database;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The accounts table, {@code ferry_users}. Every change sends {@code NOTIFY ferry_users, '<name>'} in its own
 * transaction, so the notification goes out exactly when the change is committed (PostgreSQL delivers NOTIFY at
 * commit, and not at all on rollback): each server then drops that user's cached row.
 *
 * <p>Methods throw {@link SQLException} as the driver gives it; a caller that must tell "unavailable" from "no such
 * user" gets the first as the exception and the second as an empty or false result.
 */
public final class UserTable {

    /** The rule of the name column's CHECK (V1): a name that is safe in a path, a log line and a URL. */
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._@+-]{1,64}");

    /** The LISTEN/NOTIFY channel of account changes; the payload is the user's name. */
    public static final String CHANNEL = "ferry_users";
    private static final String COLUMNS = "name, password_hash, home, access, enabled, tls, quota_bytes, quota_files,"
            + " upload_rate, download_rate, max_sessions, rights, created, updated";

    private final Database database;

    public UserTable(Database database) {
        this.database = database;
    }

    /** Thrown by {@link #add} when the name is taken. */
    public static final class DuplicateUserException extends SQLException {
        private static final long serialVersionUID = 1L;

        DuplicateUserException(String name, SQLException cause) {
            super("user " + name + " already exists", "23505", cause);
        }
    }

    /**
     * What is wrong with {@code home} as a row's home, or null: a home is a directory relative to every server's root
     * (servers read it below the root, and refuse a row that leads out of it), so an absolute path or ".." is refused
     * here, by every writer of the table (`ferry users`, the admin API), before it is stored.
     */
    public static String homeProblem(String home) {
        if (home == null || home.isBlank() || home.length() > 1024 || home.chars().anyMatch(Character::isISOControl)) {
            return "must be a directory name under the server root, without control characters";
        }
        // SECURITY: a home is relative to every server's root; ".." or an absolute path would reach outside it.
        if (home.startsWith("/") || java.util.Arrays.asList(home.split("/")).contains("..")) {
            return "must be relative to the server root, without .. (such as \"alice\" or \"customers/alice\")";
        }
        return null;
    }

    /** Whether {@code name} could be a row's: the table's CHECK admits it. Any other name has no row. */
    public static boolean isPossibleName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** Adds a new account. */
    public void add(UserRow row) throws SQLException {
        change(row.name(), c -> {
            try (PreparedStatement st = c.prepareStatement("INSERT INTO ferry_users (name, password_hash, home, access,"
                    + " enabled, tls, quota_bytes, quota_files, upload_rate, download_rate, max_sessions, rights)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                st.setString(1, row.name());
                st.setString(2, row.passwordHash());
                setText(st, 3, row.home());
                st.setString(4, row.access());
                st.setBoolean(5, row.enabled());
                setText(st, 6, row.tls());
                st.setLong(7, row.quotaBytes());
                st.setLong(8, row.quotaFiles());
                st.setLong(9, row.uploadRate());
                st.setLong(10, row.downloadRate());
                st.setInt(11, row.maxSessions());
                setText(st, 12, row.rights());
                st.executeUpdate();
                return true;
            } catch (SQLException e) {
                if ("23505".equals(e.getSQLState())) {
                    throw new DuplicateUserException(row.name(), e);
                }
                throw e;
            }
        });
    }

    /** Replaces the password hash; false when there is no such user. */
    public boolean setPasswordHash(String name, String hash) throws SQLException {
        return update(name, "password_hash = ?", st -> st.setString(1, hash));
    }

    /** Enables or disables the account (a disabled one cannot log in; its row stays); false when there is no such user. */
    public boolean setEnabled(String name, boolean enabled) throws SQLException {
        return update(name, "enabled = ?", st -> st.setBoolean(1, enabled));
    }

    /** Replaces the per-folder rights text (null: none); false when there is no such user. */
    public boolean setRights(String name, String rights) throws SQLException {
        return update(name, "rights = ?", st -> setText(st, 1, rights));
    }

    /** Replaces the quota, bytes and files (0: no limit on it); false when there is no such user. */
    public boolean setQuota(String name, long bytes, long files) throws SQLException {
        return update(name, "quota_bytes = ?, quota_files = ?", st -> {
            st.setLong(1, bytes);
            st.setLong(2, files);
        }, 2);
    }

    /** Replaces the bandwidth limits in bytes per second (0: no limit); false when there is no such user. */
    public boolean setBandwidth(String name, long uploadRate, long downloadRate) throws SQLException {
        return update(name, "upload_rate = ?, download_rate = ?", st -> {
            st.setLong(1, uploadRate);
            st.setLong(2, downloadRate);
        }, 2);
    }

    /** Replaces both rates and the session limit in one change (0: no limit); false when there is no such user. */
    public boolean setLimits(String name, long uploadRate, long downloadRate, int maxSessions) throws SQLException {
        return update(name, "upload_rate = ?, download_rate = ?, max_sessions = ?", st -> {
            st.setLong(1, uploadRate);
            st.setLong(2, downloadRate);
            st.setInt(3, maxSessions);
        }, 3);
    }

    /** Replaces the limit of sessions at once across every server (0: none); false when there is no such user. */
    public boolean setMaxSessions(String name, int maxSessions) throws SQLException {
        return update(name, "max_sessions = ?", st -> st.setInt(1, maxSessions));
    }

    /** Replaces the home, relative to the server root (null: the root); false when there is no such user. */
    public boolean setHome(String name, String home) throws SQLException {
        return update(name, "home = ?", st -> setText(st, 1, home));
    }

    /** Sets the access, read-write (true) or read-only; false when there is no such user. */
    public boolean setWritable(String name, boolean writable) throws SQLException {
        return update(name, "access = ?", st -> st.setString(1, writable ? "read-write" : "read-only"));
    }

    /** Removes the account; false when there was none. */
    public boolean remove(String name) throws SQLException {
        return change(name, c -> {
            try (PreparedStatement st = c.prepareStatement("DELETE FROM ferry_users WHERE name = ?")) {
                st.setString(1, name);
                return st.executeUpdate() == 1;
            }
        });
    }

    /** One account, or empty when there is none. */
    public Optional<UserRow> find(String name) throws SQLException {
        try (Connection c = database.connection();
             PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM ferry_users WHERE name = ?")) {
            st.setString(1, name);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** Every account, by name. */
    public List<UserRow> list() throws SQLException {
        try (Connection c = database.connection();
             PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM ferry_users ORDER BY name");
             ResultSet rs = st.executeQuery()) {
            List<UserRow> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(row(rs));
            }
            return rows;
        }
    }

    private interface Binder {
        void bind(PreparedStatement st) throws SQLException;
    }

    private interface Work {
        boolean run(Connection c) throws SQLException;
    }

    private boolean update(String name, String set, Binder binder) throws SQLException {
        return update(name, set, binder, 1);
    }

    /** {@code set} binds {@code values} parameters; the name is the one after them. */
    private boolean update(String name, String set, Binder binder, int values) throws SQLException {
        return change(name, c -> {
            try (PreparedStatement st = c.prepareStatement("UPDATE ferry_users SET " + set + ", updated = now()"
                    + " WHERE name = ?")) {
                binder.bind(st);
                st.setString(values + 1, name);
                return st.executeUpdate() == 1;
            }
        });
    }

    /** Runs {@code work} and, when it changed a row, the NOTIFY, in one transaction. */
    private boolean change(String name, Work work) throws SQLException {
        try (Connection c = database.connection()) {
            c.setAutoCommit(false);
            try {
                boolean changed = work.run(c);
                if (changed) {
                    try (PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                        notify.setString(1, CHANNEL);
                        notify.setString(2, name);
                        notify.execute();
                    }
                }
                c.commit();
                return changed;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is gone: nothing was committed
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private static void setText(PreparedStatement st, int index, String value) throws SQLException {
        if (value == null) {
            st.setNull(index, Types.VARCHAR);
        } else {
            st.setString(index, value);
        }
    }

    private static UserRow row(ResultSet rs) throws SQLException {
        Timestamp created = rs.getTimestamp("created");
        Timestamp updated = rs.getTimestamp("updated");
        return new UserRow(rs.getString("name"), rs.getString("password_hash"), rs.getString("home"),
                "read-write".equals(rs.getString("access")), rs.getBoolean("enabled"), rs.getString("tls"),
                rs.getLong("quota_bytes"), rs.getLong("quota_files"), rs.getLong("upload_rate"),
                rs.getLong("download_rate"), rs.getInt("max_sessions"), rs.getString("rights"),
                created == null ? null : created.toInstant(), updated == null ? null : updated.toInstant());
    }
}
