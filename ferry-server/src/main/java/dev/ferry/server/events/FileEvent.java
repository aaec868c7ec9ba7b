package dev.ferry.server.events;

import dev.ferry.server.events.EventSettings.Kind;
import dev.ferry.server.fs.VirtualPath;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One upload, delete or rename, as a hook is told of it. Paths are virtual (as the user sees them, never where
 * the jail is). {@code size} is -1 and {@code sha256} null until the delivery worker has read them from the
 * storage (an upload), or when they are not known (a file gone before it was read).
 *
 * @param target  the new name of a rename; null otherwise
 * @param client  the client's IP:PORT (the PROXY header's behind a trusted balancer), as on the session's log lines
 * @param server  the node name of the server
 * @param session the session id, as on the session's log lines
 */
public record FileEvent(Kind kind, String user, VirtualPath path, VirtualPath target, long size, String sha256,
                        String client, String server, String session, Instant time) {

    public FileEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(time, "time");
    }

    public FileEvent withContent(long bytes, String hex) {
        return new FileEvent(kind, user, path, target, bytes, hex, client, server, session, time);
    }

    /** The JSON body of a webhook and the stdin of a command: one object, members in this order. */
    public String json() {
        StringBuilder b = new StringBuilder(256).append('{');
        member(b, "event", kind.label(), true);
        member(b, "user", user, false);
        member(b, "path", path.toString(), false);
        if (target != null) {
            member(b, "target", target.toString(), false);
        }
        b.append(",\"size\":").append(size < 0 ? "null" : Long.toString(size));
        member(b, "sha256", sha256, false);
        member(b, "client", client, false);
        member(b, "server", server, false);
        member(b, "session", session, false);
        member(b, "time", time.toString(), false);
        return b.append('}').toString();
    }

    /** The command's environment, as pure-uploadscript and SFTPGo's hooks pass them; an unknown value is empty. */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("FERRY_EVENT", kind.label());
        env.put("FERRY_USER", orEmpty(user));
        env.put("FERRY_PATH", path.toString());
        env.put("FERRY_TARGET", target == null ? "" : target.toString());
        env.put("FERRY_SIZE", size < 0 ? "" : Long.toString(size));
        env.put("FERRY_SHA256", orEmpty(sha256));
        env.put("FERRY_CLIENT", orEmpty(client));
        env.put("FERRY_SERVER", orEmpty(server));
        env.put("FERRY_SESSION", orEmpty(session));
        env.put("FERRY_TIME", time.toString());
        return env;
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    private static void member(StringBuilder b, String key, String value, boolean first) {
        if (!first) {
            b.append(',');
        }
        b.append('"').append(key).append("\":");
        if (value == null) {
            b.append("null");
        } else {
            quote(b, value);
        }
    }

    /** RFC 8259 §7: quote, backslash and control characters escaped; everything else as is (UTF-8 on the wire). */
    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
