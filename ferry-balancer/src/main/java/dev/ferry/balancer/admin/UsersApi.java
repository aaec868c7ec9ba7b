package dev.ferry.balancer.admin;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.database.Database;
import dev.ferry.database.UserRow;
import dev.ferry.database.UserTable;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.password.PasswordHasher;
import java.io.IOException;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /api/users}: the accounts of {@code users: database} in the fleet's PostgreSQL (the balancer's
 * {@code database:}), managed as {@code ferry users} manages them, through {@link UserTable}: every change is one
 * transaction with its NOTIFY, so every server sees it at its next login.
 *
 * <p>Viewers list and show; only the admin role changes (and, with the login cookie, with the CSRF token), as for the
 * other actions of {@link AdminApi}. Each change logs one line {@code event=user-...} naming the admin and the user,
 * never a password or a hash. A password the API makes is in the answer once and nowhere else.
 */
final class UsersApi {

    private static final Pattern USER = Pattern.compile("/api/users/([^/]{1,200})");
    private static final Pattern USER_ACTION = Pattern.compile("/api/users/([^/]{1,200})/(disable|enable|password|quota|limits)");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,18})(B|KiB|MiB|GiB|TiB)?");
    private static final String SIZE_RULE = "bytes as a whole number, or a text such as \"500MiB\" or \"10GiB\"";
    static final String ADD_FORM = "{\"name\": NAME, \"password\": TEXT (optional: one is made), \"home\": DIR (optional),"
            + " \"access\": \"read-write\" | \"read-only\", \"quota_bytes\", \"quota_files\", \"upload_rate\","
            + " \"download_rate\", \"max_sessions\" (optional, 0: no limit)}";
    private static final String QUOTA_FORM = "{\"bytes\": SIZE, \"files\": N} (either may be left out; 0: no limit)";
    private static final String LIMITS_FORM = "{\"upload_rate\": SIZE, \"download_rate\": SIZE, \"max_sessions\": N}"
            + " (per second; any may be left out; 0: no limit)";
    private static final String PASSWORD_FORM = "{\"password\": TEXT} or {} for one made for you";
    /** 18 random bytes: 24 characters of base64url, 144 bits. */
    private static final int GENERATED_BYTES = 18;
    private static final int MAX_PASSWORD_CHARS = 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Supplier<Database> database;
    private final EventLog log;

    UsersApi(Supplier<Database> database, EventLog log) {
        this.database = database;
        this.log = log;
    }

    /** Whether {@code path} is one of ours. */
    static boolean owns(String path) {
        return path.equals("/api/users") || path.startsWith("/api/users/");
    }

    void handle(HttpExchange ex, String path, String method, AdminAuth.Caller caller) throws IOException {
        Database db = database.get();
        if (db == null) {
            Http.error(ex, 409, "this balancer has no database: accounts are managed here only when the balancer's"
                    + " configuration has balancer.database (the servers' PostgreSQL of users: database); a users file"
                    + " is managed with ferry users on each server");
            return;
        }
        UserTable table = new UserTable(db);
        Matcher action = USER_ACTION.matcher(path);
        Matcher user = USER.matcher(path);
        try {
            if (path.equals("/api/users")) {
                if (method.equals("GET") || method.equals("HEAD")) {
                    list(ex, table);
                } else if (method.equals("POST")) {
                    if (AdminApi.changeAllowed(ex, caller)) {
                        add(ex, caller, table);
                    }
                } else {
                    ex.getResponseHeaders().set("Allow", "GET, HEAD, POST");
                    Http.error(ex, 405, "use GET to list accounts, POST to add one");
                }
            } else if (action.matches()) {
                String name = name(ex, action.group(1));
                String verb = action.group(2);
                String expected = verb.equals("quota") || verb.equals("limits") ? "PUT" : "POST";
                if (name != null && AdminApi.allowed(ex, method, expected) && AdminApi.changeAllowed(ex, caller)) {
                    switch (verb) {
                        case "disable" -> enable(ex, caller, table, name, false);
                        case "enable" -> enable(ex, caller, table, name, true);
                        case "password" -> password(ex, caller, table, name);
                        case "quota" -> quota(ex, caller, table, name);
                        default -> limits(ex, caller, table, name);
                    }
                }
            } else if (user.matches()) {
                String name = name(ex, user.group(1));
                if (name == null) {
                    return;
                }
                if (method.equals("GET") || method.equals("HEAD")) {
                    show(ex, table, name);
                } else if (method.equals("DELETE")) {
                    if (AdminApi.changeAllowed(ex, caller)) {
                        remove(ex, caller, table, name);
                    }
                } else {
                    ex.getResponseHeaders().set("Allow", "GET, HEAD, DELETE");
                    Http.error(ex, 405, "use GET to show the account, DELETE to remove it");
                }
            } else {
                Http.error(ex, 404, "no such API endpoint; see docs/admin-api.md");
            }
        } catch (SQLException e) {
            // The message is the driver's (host, port, what failed); never a password, which the driver does not echo.
            log.warn("user-api-failed").with("admin", caller.user()).with("path", path).with("error", e.getMessage()).log();
            Http.error(ex, 503, "the database did not answer: " + e.getMessage());
        }
    }

    // ---- routes -----------------------------------------------------------------------------------

    private static void list(HttpExchange ex, UserTable table) throws IOException, SQLException {
        List<Object> users = new ArrayList<>();
        for (UserRow row : table.list()) {
            users.add(json(row));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("users", users);
        Http.json(ex, 200, m);
    }

    private static void show(HttpExchange ex, UserTable table, String name) throws IOException, SQLException {
        UserRow row = table.find(name).orElse(null);
        if (row == null) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        Http.json(ex, 200, json(row));
    }

    private void add(HttpExchange ex, AdminAuth.Caller caller, UserTable table) throws IOException, SQLException {
        Map<String, Object> body = AdminApi.flatBody(ex, ADD_FORM);
        if (body == null || !onlyKeys(ex, body, ADD_FORM, "name", "password", "home", "access", "quota_bytes",
                "quota_files", "upload_rate", "download_rate", "max_sessions")) {
            return;
        }
        if (!(body.get("name") instanceof String name) || !UserTable.isPossibleName(name)) {
            Http.error(ex, 400, "\"name\" must be 1 to 64 letters, digits and . _ - @ +; expected " + ADD_FORM);
            return;
        }
        String home = body.get("home") == null ? name : body.get("home") instanceof String h ? h : null;
        String homeProblem = homeProblem(home);
        if (homeProblem != null) {
            Http.error(ex, 400, "\"home\" " + homeProblem);
            return;
        }
        Object access = body.getOrDefault("access", "read-write");
        if (!"read-write".equals(access) && !"read-only".equals(access)) {
            Http.error(ex, 400, "\"access\" must be \"read-write\" or \"read-only\"");
            return;
        }
        Long qBytes = size(ex, body, "quota_bytes");
        Long qFiles = qBytes == null ? null : count(ex, body, "quota_files", Long.MAX_VALUE);
        Long up = qFiles == null ? null : size(ex, body, "upload_rate");
        Long down = up == null ? null : size(ex, body, "download_rate");
        Long sessions = down == null ? null : count(ex, body, "max_sessions", Integer.MAX_VALUE);
        if (sessions == null) {
            return;
        }
        Password password = password(ex, body.get("password"));
        if (password == null) {
            return;
        }
        UserRow row = UserRow.of(name, password.hash(), home, access.equals("read-write"))
                .withLimits(qBytes, qFiles, up, down, sessions.intValue());
        try {
            table.add(row);
        } catch (UserTable.DuplicateUserException e) {
            Http.error(ex, 409, "user " + name + " already exists");
            return;
        }
        log.info("user-added").with("admin", caller.user()).with("user", name).with("home", home)
                .with("access", row.access()).with("password", password.generated() ? "generated" : "given")
                .with("client", Http.client(ex)).log();
        Map<String, Object> m = json(table.find(name).orElse(row));
        password.into(m);
        Http.json(ex, 201, m);
    }

    private void enable(HttpExchange ex, AdminAuth.Caller caller, UserTable table, String name, boolean enabled)
            throws IOException, SQLException {
        // SECURITY: a body, even {}, with the JSON type: a cross-site form can POST here with a browser's cached Basic
        // credentials, but cannot send that type (Http.jsonBody), so it cannot disable an account.
        Map<String, Object> body = AdminApi.flatBody(ex, "{}");
        if (body == null || !onlyKeys(ex, body, "{}")) {
            return;
        }
        if (!table.setEnabled(name, enabled)) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        log.info(enabled ? "user-enabled" : "user-disabled").with("admin", caller.user()).with("user", name)
                .with("client", Http.client(ex)).log();
        show(ex, table, name);
    }

    private void password(HttpExchange ex, AdminAuth.Caller caller, UserTable table, String name)
            throws IOException, SQLException {
        Map<String, Object> body = AdminApi.flatBody(ex, PASSWORD_FORM);
        if (body == null || !onlyKeys(ex, body, PASSWORD_FORM, "password")) {
            return;
        }
        if (table.find(name).isEmpty()) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        Password password = password(ex, body.get("password"));
        if (password == null) {
            return;
        }
        if (!table.setPasswordHash(name, password.hash())) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        log.info("user-password-reset").with("admin", caller.user()).with("user", name)
                .with("password", password.generated() ? "generated" : "given").with("client", Http.client(ex)).log();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        password.into(m);
        Http.json(ex, 200, m);
    }

    private void quota(HttpExchange ex, AdminAuth.Caller caller, UserTable table, String name)
            throws IOException, SQLException {
        Map<String, Object> body = AdminApi.flatBody(ex, QUOTA_FORM);
        if (body == null || !onlyKeys(ex, body, QUOTA_FORM, "bytes", "files")) {
            return;
        }
        UserRow row = table.find(name).orElse(null);
        if (row == null) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        Long bytes = body.containsKey("bytes") ? size(ex, body, "bytes") : Long.valueOf(row.quotaBytes());
        Long files = bytes == null ? null : body.containsKey("files") ? count(ex, body, "files", Long.MAX_VALUE)
                : Long.valueOf(row.quotaFiles());
        if (files == null) {
            return;
        }
        if (!table.setQuota(name, bytes, files)) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        log.info("user-quota").with("admin", caller.user()).with("user", name).with("bytes", bytes).with("files", files)
                .with("client", Http.client(ex)).log();
        show(ex, table, name);
    }

    private void limits(HttpExchange ex, AdminAuth.Caller caller, UserTable table, String name)
            throws IOException, SQLException {
        Map<String, Object> body = AdminApi.flatBody(ex, LIMITS_FORM);
        if (body == null || !onlyKeys(ex, body, LIMITS_FORM, "upload_rate", "download_rate", "max_sessions")) {
            return;
        }
        UserRow row = table.find(name).orElse(null);
        if (row == null) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        Long up = body.containsKey("upload_rate") ? size(ex, body, "upload_rate") : Long.valueOf(row.uploadRate());
        Long down = up == null ? null : body.containsKey("download_rate") ? size(ex, body, "download_rate")
                : Long.valueOf(row.downloadRate());
        Long sessions = down == null ? null : body.containsKey("max_sessions")
                ? count(ex, body, "max_sessions", Integer.MAX_VALUE) : Long.valueOf(row.maxSessions());
        if (sessions == null) {
            return;
        }
        if (!table.setLimits(name, up, down, sessions.intValue())) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        log.info("user-limits").with("admin", caller.user()).with("user", name).with("upload_rate", up)
                .with("download_rate", down).with("max_sessions", sessions).with("client", Http.client(ex)).log();
        show(ex, table, name);
    }

    private void remove(HttpExchange ex, AdminAuth.Caller caller, UserTable table, String name)
            throws IOException, SQLException {
        if (!table.remove(name)) {
            Http.error(ex, 404, "no user " + name);
            return;
        }
        log.info("user-removed").with("admin", caller.user()).with("user", name).with("client", Http.client(ex)).log();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("removed", true);
        Http.json(ex, 200, m);
    }

    // ---- values -----------------------------------------------------------------------------------

    /** An account as the API shows it: never the hash. */
    static Map<String, Object> json(UserRow row) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", row.name());
        m.put("enabled", row.enabled());
        m.put("access", row.access());
        m.put("home", row.home());
        m.put("tls", row.tls());
        Map<String, Object> quota = new LinkedHashMap<>();
        quota.put("bytes", row.quotaBytes());
        quota.put("files", row.quotaFiles());
        m.put("quota", quota);
        Map<String, Object> bandwidth = new LinkedHashMap<>();
        bandwidth.put("upload", row.uploadRate());
        bandwidth.put("download", row.downloadRate());
        m.put("bandwidth", bandwidth);
        m.put("max_sessions", row.maxSessions());
        m.put("rights", row.rights());
        m.put("created", row.created() == null ? null : row.created().toString());
        m.put("updated", row.updated() == null ? null : row.updated().toString());
        return m;
    }

    /** The hash to store, and the plain text when it was made here (to be shown once). */
    private record Password(String hash, String made) {
        boolean generated() {
            return made != null;
        }

        void into(Map<String, Object> answer) {
            answer.put("password_generated", generated());
            if (generated()) {
                answer.put("password", made);
            }
        }
    }

    /** The given password hashed, or a new one; null once a 400 has been sent. */
    private static Password password(HttpExchange ex, Object value) throws IOException {
        if (value == null) {
            byte[] bytes = new byte[GENERATED_BYTES];
            RANDOM.nextBytes(bytes);
            String made = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            char[] chars = made.toCharArray();
            try {
                return new Password(PasswordHasher.hash(chars), made);
            } finally {
                Arrays.fill(chars, '\0');
            }
        }
        if (!(value instanceof String given) || given.isEmpty() || given.length() > MAX_PASSWORD_CHARS
                || given.chars().anyMatch(Character::isISOControl)) {
            Http.error(ex, 400, "\"password\" must be a text of 1 to " + MAX_PASSWORD_CHARS
                    + " characters without control characters (FTP sends it on one line); leave it out to have one made");
            return null;
        }
        char[] chars = given.toCharArray();
        try {
            return new Password(PasswordHasher.hash(chars), null);
        } finally {
            Arrays.fill(chars, '\0');
        }
    }

    /** The name in the path, checked; null once a 400 has been sent. */
    private static String name(HttpExchange ex, String raw) throws IOException {
        String name = raw.replace("%40", "@").replace("%2B", "+").replace("%2b", "+");
        // the table's CHECK rule: a name that is safe in a path, a log line and a URL
        if (!UserTable.isPossibleName(name)) {
            Http.error(ex, 400, "not a user name: 1 to 64 letters, digits and . _ - @ +");
            return null;
        }
        return name;
    }

    /** Why a home is refused, or null. */
    static String homeProblem(String home) {
        return UserTable.homeProblem(home);
    }


    private static boolean onlyKeys(HttpExchange ex, Map<String, Object> body, String form, String... keys)
            throws IOException {
        Set<String> allowed = Set.of(keys);
        for (String k : body.keySet()) {
            if (!allowed.contains(k)) {
                Http.error(ex, 400, "unknown key \"" + k + "\"; expected " + form);
                return false;
            }
        }
        return true;
    }

    /** A size in bytes (0 when absent); null once a 400 has been sent. */
    private static Long size(HttpExchange ex, Map<String, Object> body, String key) throws IOException {
        Long n = size(body.get(key));
        if (n == null) {
            Http.error(ex, 400, "\"" + key + "\" must be " + SIZE_RULE + ", 0 for no limit");
        }
        return n;
    }

    /** Bytes from a whole number or a text with a binary unit; 0 for null; null when neither. */
    static Long size(Object value) {
        if (value == null) {
            return 0L;
        }
        if (value instanceof Long n) {
            return n >= 0 ? n : null;
        }
        if (!(value instanceof String text)) {
            return null;
        }
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            return null;
        }
        long amount = Long.parseLong(m.group(1));
        int shift = switch (m.group(2) == null ? "B" : m.group(2)) {
            case "KiB" -> 10;
            case "MiB" -> 20;
            case "GiB" -> 30;
            case "TiB" -> 40;
            default -> 0;
        };
        return amount > (Long.MAX_VALUE >> shift) ? null : amount << shift;
    }

    /** A whole number from 0 to {@code max} (0 when absent); null once a 400 has been sent. */
    private static Long count(HttpExchange ex, Map<String, Object> body, String key, long max) throws IOException {
        Object value = body.get(key);
        if (value == null) {
            return 0L;
        }
        if (value instanceof Long n && n >= 0 && n <= max) {
            return n;
        }
        Http.error(ex, 400, "\"" + key + "\" must be a whole number from 0 to " + max + ", 0 for no limit");
        return null;
    }
}
