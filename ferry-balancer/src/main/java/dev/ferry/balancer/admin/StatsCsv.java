package dev.ferry.balancer.admin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code GET /stats;csv}: the balancer's figures in HAProxy's CSV stats format, so that the scripts HAProxy
 * users already have ({@code cut -d, -f5}, monitoring plugins) read Ferry too.
 *
 * <p>Design: the columns are one table, {@link #COLUMNS}, in HAProxy's order (management guide §9.1, CSV
 * format, fields 0 to 76, pxname to algo). A row fills only the columns whose meaning is the same in Ferry
 * and leaves the others empty, so every field keeps its position. As HAProxy writes it, the header line
 * starts with {@code "# "} and every line ends with a comma. Ferry is one HAProxy {@code listen} section:
 * one FRONTEND row, one row per backend server, one BACKEND row, all with the same pxname. Text fields are
 * quoted as RFC 4180 §2 says when they hold a comma, a quote or a line break (HAProxy does not quote; our
 * names cannot hold those characters, a check's detail can).
 *
 * <p>The same rows make the plain-text table {@code curl /stats} gets ({@link #table}).
 */
final class StatsCsv {

    /** HAProxy's CSV columns, in its order. */
    static final List<String> COLUMNS = List.of(
            "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout",
            "dreq", "dresp", "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight", "act",
            "bck", "chkfail", "chkdown", "lastchg", "downtime", "qlimit", "pid", "iid", "sid", "throttle",
            "lbtot", "tracked", "type", "rate", "rate_lim", "rate_max", "check_status", "check_code", "check_duration",
            "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "hanafail", "req_rate",
            "req_rate_max", "req_tot", "cli_abrt", "srv_abrt", "comp_in", "comp_out", "comp_byp", "comp_rsp",
            "lastsess", "last_chk", "last_agt", "qtime", "ctime", "rtime", "ttime", "agent_status", "agent_code",
            "agent_duration", "check_desc", "agent_desc", "check_rise", "check_fall", "check_health", "agent_rise",
            "agent_fall", "agent_health", "addr", "cookie", "mode", "algo");

    private static final Map<String, Integer> INDEX = index();

    /** HAProxy's type column: 0 frontend, 1 backend, 2 server. */
    private static final String FRONTEND_TYPE = "0";
    private static final String BACKEND_TYPE = "1";
    private static final String SERVER_TYPE = "2";

    /** The frontend: Ferry's client listener. */
    record Frontend(String proxy, int sessions, int peakSessions, int sessionLimit, long sessionsTotal, long bytesIn,
                    long bytesOut, double sessionRate) {}

    /**
     * One backend server. {@code status} is UP, DOWN, MAINT or DRAIN; {@code checkMillis} is null before the
     * first check.
     */
    record Server(String name, String address, String status, boolean checkUp, int weight, int sessions,
                  int peakSessions, long sessionsTotal, long bytesIn, long bytesOut, long errors, long checksFailed,
                  long downs, long lastChangeSeconds, long downtimeSeconds, Long checkMillis, String checkDetail,
                  int rise, int fall) {}

    /** The backend as a whole: queued clients, redispatches, the balancing algorithm. */
    record Pool(int queued, int peakSessions, long retries, String algorithm) {}

    private StatsCsv() {}

    /** FRONTEND, the servers in order, BACKEND: each row as many fields as {@link #COLUMNS}, null for empty. */
    static List<String[]> rows(Frontend f, List<Server> servers, Pool pool) {
        List<String[]> rows = new ArrayList<>();
        String[] fe = row(f.proxy(), "FRONTEND");
        put(fe, "scur", f.sessions());
        put(fe, "smax", f.peakSessions());
        put(fe, "slim", f.sessionLimit());
        put(fe, "stot", f.sessionsTotal());
        put(fe, "bin", f.bytesIn());
        put(fe, "bout", f.bytesOut());
        put(fe, "status", "OPEN");
        put(fe, "type", FRONTEND_TYPE);
        put(fe, "rate", Math.round(f.sessionRate()));
        rows.add(fe);

        int sessions = 0;
        long total = 0;
        long in = 0;
        long out = 0;
        long errors = 0;
        int upWeight = 0;
        int up = 0;
        for (Server s : servers) {
            String[] sv = row(f.proxy(), s.name());
            put(sv, "scur", s.sessions());
            put(sv, "smax", s.peakSessions());
            put(sv, "stot", s.sessionsTotal());
            put(sv, "bin", s.bytesIn());
            put(sv, "bout", s.bytesOut());
            put(sv, "econ", s.errors());
            put(sv, "status", s.status());
            put(sv, "weight", s.weight());
            put(sv, "act", 1);
            put(sv, "bck", 0);
            put(sv, "chkfail", s.checksFailed());
            put(sv, "chkdown", s.downs());
            put(sv, "lastchg", s.lastChangeSeconds());
            put(sv, "downtime", s.downtimeSeconds());
            put(sv, "lbtot", s.sessionsTotal());
            put(sv, "type", SERVER_TYPE);
            put(sv, "check_duration", s.checkMillis());
            put(sv, "check_desc", s.checkDetail());
            put(sv, "check_rise", s.rise());
            put(sv, "check_fall", s.fall());
            put(sv, "addr", s.address());
            rows.add(sv);
            sessions += s.sessions();
            total += s.sessionsTotal();
            in += s.bytesIn();
            out += s.bytesOut();
            errors += s.errors();
            // HAProxy's backend counts servers taking traffic: checks up and not in maintenance.
            if (s.checkUp() && !s.status().equals("MAINT")) {
                up++;
                upWeight += s.weight();
            }
        }

        String[] be = row(f.proxy(), "BACKEND");
        put(be, "qcur", pool.queued());
        put(be, "scur", sessions);
        put(be, "smax", pool.peakSessions());
        put(be, "stot", total);
        put(be, "bin", in);
        put(be, "bout", out);
        put(be, "econ", errors);
        put(be, "wredis", pool.retries());
        put(be, "status", up > 0 ? "UP" : "DOWN");
        put(be, "weight", upWeight);
        put(be, "act", up);
        put(be, "bck", 0);
        put(be, "lbtot", total);
        put(be, "type", BACKEND_TYPE);
        put(be, "algo", pool.algorithm());
        rows.add(be);
        return rows;
    }

    /** The CSV text: the header line, then each row; every line ends with a comma and a newline, as HAProxy's. */
    static String csv(List<String[]> rows) {
        StringBuilder b = new StringBuilder("# ");
        for (String c : COLUMNS) {
            b.append(c).append(',');
        }
        b.append('\n');
        for (String[] row : rows) {
            for (String field : row) {
                b.append(field == null ? "" : quoted(field)).append(',');
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** Columns of the plain-text table, with their headings. */
    private static final List<String[]> TABLE = List.of(
            new String[] {"svname", "name"}, new String[] {"status", "status"}, new String[] {"weight", "weight"},
            new String[] {"scur", "sessions"}, new String[] {"smax", "max"}, new String[] {"slim", "limit"},
            new String[] {"stot", "total"}, new String[] {"rate", "rate/s"}, new String[] {"qcur", "queued"},
            new String[] {"bin", "bytes_in"}, new String[] {"bout", "bytes_out"}, new String[] {"econ", "errors"},
            new String[] {"chkfail", "chk_failed"}, new String[] {"chkdown", "chk_down"},
            new String[] {"lastchg", "last_change_s"}, new String[] {"downtime", "downtime_s"},
            new String[] {"addr", "address"});

    /** The same figures as a fixed-width table for people ({@code curl /stats}): '-' for empty. */
    static String table(List<String[]> rows) {
        List<String[]> lines = new ArrayList<>();
        String[] head = new String[TABLE.size()];
        for (int i = 0; i < head.length; i++) {
            head[i] = TABLE.get(i)[1];
        }
        lines.add(head);
        for (String[] row : rows) {
            String[] line = new String[TABLE.size()];
            for (int i = 0; i < line.length; i++) {
                String v = row[INDEX.get(TABLE.get(i)[0])];
                line[i] = v == null || v.isEmpty() ? "-" : v;
            }
            lines.add(line);
        }
        int[] width = new int[TABLE.size()];
        for (String[] line : lines) {
            for (int i = 0; i < line.length; i++) {
                width[i] = Math.max(width[i], line[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] line : lines) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < line.length; i++) {
                // Names and words left, numbers right, as tables of figures are read.
                boolean left = i == 0 || i == 1 || i == line.length - 1;
                String cell = left ? String.format(Locale.ROOT, "%-" + width[i] + "s", line[i])
                        : String.format(Locale.ROOT, "%" + width[i] + "s", line[i]);
                l.append(i == 0 ? "" : "  ").append(cell);
            }
            b.append(l.toString().stripTrailing()).append('\n');
        }
        return b.toString();
    }

    /** RFC 4180 §2.6, §2.7: a field with a comma, quote or line break is quoted, its quotes doubled. */
    static String quoted(String field) {
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0 && field.indexOf('\r') < 0) {
            return field;
        }
        return '"' + field.replace("\"", "\"\"") + '"';
    }

    private static String[] row(String proxy, String service) {
        String[] row = new String[COLUMNS.size()];
        put(row, "pxname", proxy);
        put(row, "svname", service);
        return row;
    }

    private static void put(String[] row, String column, Object value) {
        Integer i = INDEX.get(column);
        if (i == null) {
            throw new IllegalArgumentException("no CSV column " + column);
        }
        row[i] = value == null ? null : value.toString();
    }

    private static Map<String, Integer> index() {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < COLUMNS.size(); i++) {
            m.put(COLUMNS.get(i), i);
        }
        return Map.copyOf(m);
    }
}
