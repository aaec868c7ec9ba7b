package dev.ferry.balancer.admin;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The stats page as the server sends it to a logged-in reader: the heading and title with the node and version,
 * and the backends table already filled in, so that a text browser ({@code w3m}, {@code lynx}) or
 * {@code curl -H 'Accept: text/html'} reads the figures without running any script. The page's script
 * replaces these rows with its own on its first refresh (rows marked {@code data-server}).
 *
 * <p>SECURITY: every value is HTML-escaped ({@link #escape}); backend names are the operator's, but the last
 * check's detail quotes a backend's reply, which is not.
 */
final class StatsPageHtml {

    static final String TITLE = "<title>Ferry balancer</title>";
    static final String NODE = "<span class=\"node\" id=\"node\"></span>";
    static final String VERSION = "<span class=\"version\" id=\"version\"></span>";
    static final String DASHBOARD = "<section id=\"dashboard\" hidden>";
    static final String BACKEND_ROWS = "<!--backend-rows-->";

    private StatsPageHtml() {}

    /** {@code template} (stats.html) with {@code status} ({@link StatusReport#of}) written in. */
    static byte[] render(String template, Map<String, Object> status) {
        Map<?, ?> balancer = (Map<?, ?>) status.get("balancer");
        String node = String.valueOf(balancer.get("node"));
        String version = String.valueOf(balancer.get("version"));
        StringBuilder rows = new StringBuilder();
        for (Object b : (List<?>) status.get("backends")) {
            row((Map<?, ?>) b, rows);
        }
        String html = tiles(template, balancer)
                .replace(TITLE, "<title>" + escape(title(node, version)) + "</title>")
                .replace(NODE, "<span class=\"node\" id=\"node\">" + escape(node) + "</span>")
                .replace(VERSION, "<span class=\"version\" id=\"version\">" + escape(version) + "</span>")
                .replace(DASHBOARD, "<section id=\"dashboard\">")
                .replace(BACKEND_ROWS, rows);
        return html.getBytes(StandardCharsets.UTF_8);
    }

    /** The summary tiles that read without the script's formatting of several figures. */
    private static String tiles(String template, Map<?, ?> b) {
        return template
                .replace(tile("sum-uptime"), filled("sum-uptime", duration(number(b, "uptime_seconds"))))
                .replace(tile("sum-sessions"), filled("sum-sessions",
                        b.get("sessions_now") + " / " + b.get("sessions_peak") + " / " + b.get("sessions_max")))
                .replace(tile("sum-total"), filled("sum-total", String.valueOf(b.get("sessions_total"))))
                .replace(tile("sum-queued"), filled("sum-queued", String.valueOf(b.get("queued"))))
                .replace(tile("sum-bytes"), filled("sum-bytes", bytes(number(b, "bytes_in")) + " / " + bytes(number(b, "bytes_out"))))
                .replace(tile("sum-mode"), filled("sum-mode", b.get("balance") + " · " + b.get("relay_mode")));
    }

    private static String tile(String id) {
        return "id=\"" + id + "\">–</span>";
    }

    private static String filled(String id, String text) {
        return "id=\"" + id + "\">" + escape(text) + "</span>";
    }

    /** The page's title, as the script also writes it: which balancer, which Ferry. */
    static String title(String node, String version) {
        return "Ferry balancer " + node + " · " + version;
    }

    private static void row(Map<?, ?> b, StringBuilder out) {
        String name = String.valueOf(b.get("name"));
        out.append("<tr data-backend=\"").append(escape(name)).append("\" data-server>");
        cell(out, "name", "Name", escape(name));
        String status = String.valueOf(b.get("status"));
        cell(out, "state", "State", "<span class=\"badge backend-state state-" + escape(status) + "\">" + escape(status)
                + "</span> <span class=\"detail\">checks: " + escape(String.valueOf(b.get("state"))) + ", admin: "
                + escape(String.valueOf(b.get("admin_state"))) + "</span>");
        Map<?, ?> check = (Map<?, ?>) b.get("check");
        cell(out, "check", "Last check", check == null ? "not yet"
                : (Boolean.TRUE.equals(check.get("ok")) ? "ok" : "failed") + " · " + check.get("latency_ms") + " ms"
                + " <span class=\"detail\">" + escape(String.valueOf(check.get("detail"))) + "</span>");
        cell(out, "in-state", "In state", duration(number(b, "in_state_seconds")));
        cell(out, "weight", "Weight", String.valueOf(b.get("weight")));
        cell(out, "sessions", "Sessions now / total", b.get("sessions_now") + " / " + b.get("sessions_total"));
        cell(out, "peak", "Peak", String.valueOf(b.get("sessions_peak")));
        cell(out, "checks", "Checks failed · downs", b.get("checks_failed") + " · " + b.get("check_downs"));
        cell(out, "downtime", "Downtime", duration(number(b, "downtime_seconds")));
        cell(out, "transfers", "Transfers", String.valueOf(b.get("transfers")));
        cell(out, "bytes", "Bytes up / down", bytes(number(b, "bytes_up")) + " / " + bytes(number(b, "bytes_down")));
        cell(out, "errors", "Errors", String.valueOf(b.get("errors")));
        cell(out, "retries", "Retries", String.valueOf(b.get("retries")));
        out.append("</tr>\n");
    }

    private static void cell(StringBuilder out, String key, String label, String html) {
        out.append("<td data-cell=\"").append(key).append("\" data-label=\"").append(escape(label)).append("\">")
                .append(html).append("</td>");
    }

    private static long number(Map<?, ?> m, String key) {
        return ((Number) m.get(key)).longValue();
    }

    /** As the script's bytes(): 512 B, 1.5 KiB, 20 MiB. */
    static String bytes(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = n;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        if (unit == 0) {
            return n + " B";
        }
        return String.format(Locale.ROOT, value < 10 ? "%.1f %s" : "%.0f %s", value, units[unit]);
    }

    /** As the script's duration(): 42s, 3m 5s, 2h 10m, 4d 3h. */
    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        long m = seconds / 60;
        if (m < 60) {
            return m + "m " + seconds % 60 + "s";
        }
        long h = m / 60;
        if (h < 24) {
            return h + "h " + m % 60 + "m";
        }
        return h / 24 + "d " + h % 24 + "h";
    }

    /** Text as HTML character data or a quoted attribute value. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
