package dev.ferry.server.session;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.Verb;
import dev.ferry.server.data.TransferProgress;
import dev.ferry.server.listing.MlsxFormat;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** FEAT, OPTS, HELP, STAT (no argument) and SITE: what the server says about itself. */
final class InfoCommands {

    static final List<String> HASH_ALGORITHMS = List.of("SHA-256", "SHA-1", "MD5");

    private final Session s;

    InfoCommands(Session session) {
        this.s = session;
    }

    /** RFC 2389 §3.2: one feature per line, each starting with a space. */
    Reply features() {
        List<String> lines = new ArrayList<>();
        boolean tls = s.ctx.tls() != null;
        if (tls) {
            // RFC 4217 §6: a server that offers FEAT must list AUTH (with TLS), PBSZ and PROT.
            lines.add("AUTH TLS");
        }
        lines.add("EPRT");
        lines.add("EPSV");
        lines.add("HASH " + hashFeature());
        lines.add("HOST");
        lines.add("MDTM");
        lines.add("MFMT");
        lines.add(MlsxFormat.featLine(s.mlstFacts));
        lines.add("PASV");
        if (tls) {
            lines.add("PBSZ");
            lines.add("PROT");
        }
        lines.add("REST STREAM");
        lines.add("SIZE");
        lines.add("TVFS");
        lines.add("UTF8");
        return Reply.multiLine(211, "Features:", lines, "End");
    }

    private String hashFeature() {
        StringBuilder b = new StringBuilder();
        for (String a : HASH_ALGORITHMS) {
            b.append(a).append(a.equals(s.hashAlgorithm) ? "*" : "").append(';');
        }
        return b.substring(0, b.length() - 1);
    }

    Reply options(String arg) {
        String[] parts = arg.trim().split(" +", 2);
        String command = parts[0].toUpperCase(Locale.ROOT);
        String value = parts.length > 1 ? parts[1] : "";
        return switch (command) {
            // RFC 2640 §3.1: path names are always UTF-8 here.
            case "UTF8", "UTF-8" -> value.equalsIgnoreCase("ON") || value.isEmpty()
                    ? Reply.of(200, "UTF8 mode is always on.")
                    : value.equalsIgnoreCase("OFF") ? Reply.of(504, "UTF8 mode cannot be turned off.")
                    : Reply.of(501, "Syntax: OPTS UTF8 ON.");
            case "MLST" -> mlstOptions(value);
            case "HASH" -> hashOptions(value);
            default -> Reply.of(501, "OPTS for '" + Session.printable(parts[0]) + "' is not supported.");
        };
    }

    /** RFC 3659 §7.9: "OPTS MLST type;size;" selects facts; unknown facts are ignored. */
    private Reply mlstOptions(String value) {
        Set<String> chosen = new LinkedHashSet<>();
        for (String f : value.split(";")) {
            String fact = f.trim().toLowerCase(Locale.ROOT);
            if (MlsxFormat.ALL_FACTS.contains(fact)) {
                chosen.add(fact);
            }
        }
        s.mlstFacts = Set.copyOf(chosen);
        StringBuilder b = new StringBuilder();
        for (String f : MlsxFormat.ALL_FACTS) {
            if (chosen.contains(f)) {
                b.append(f).append(';');
            }
        }
        return Reply.of(200, "MLST OPTS " + b);
    }

    private Reply hashOptions(String value) {
        if (value.isEmpty()) {
            return Reply.of(200, s.hashAlgorithm);
        }
        for (String a : HASH_ALGORITHMS) {
            if (a.equalsIgnoreCase(value.trim())) {
                s.hashAlgorithm = a;
                return Reply.of(200, a);
            }
        }
        return Reply.of(501, "Unknown algorithm; supported: " + String.join(", ", HASH_ALGORITHMS) + ".");
    }

    Reply help(String arg) {
        if (arg != null) {
            Verb v = Verb.lookup(arg.trim());
            return v == null ? Reply.of(501, "Unknown command '" + Session.printable(arg) + "'.")
                    : Reply.of(214, v.help());
        }
        List<String> rows = new ArrayList<>();
        StringBuilder row = new StringBuilder();
        for (Verb v : Verb.values()) {
            row.append(String.format("%-5s", v.name()));
            if (row.length() >= 8 * 6) {
                rows.add(row.toString().stripTrailing());
                row.setLength(0);
            }
        }
        if (!row.isEmpty()) {
            rows.add(row.toString().stripTrailing());
        }
        return Reply.multiLine(214, "The following commands are recognized:", rows, "HELP <command> tells more.");
    }

    /** STAT without argument (RFC 959 §4.1.3): the session's status, or the running transfer's. */
    Reply status() {
        List<String> lines = new ArrayList<>();
        lines.add("Connected from " + s.client.getHostAddress());
        lines.add(s.account == null ? "Not logged in" : "Logged in as " + s.account.user());
        lines.add("TYPE: " + (s.ascii ? "ASCII" : "BINARY") + ", STRU: File, MODE: Stream");
        TransferProgress p = s.runningProgress();
        if (p != null) {
            lines.add("Transfer in progress: " + p.description() + ", " + p.bytes() + " bytes in "
                    + p.elapsedMillis() + " ms");
        } else {
            lines.addAll(s.describeEndpoint());
        }
        return Reply.multiLine(211, s.ctx.settings().serverName() + " status:", lines, "End of status.");
    }

    Reply site(String arg) {
        String sub = arg.trim().split(" +", 2)[0].toUpperCase(Locale.ROOT);
        if (sub.equals("HELP")) {
            return Reply.multiLine(214, "SITE commands:", List.of("HELP"), "End.");
        }
        return Reply.of(504, "SITE " + Session.printable(sub) + " is not supported.");
    }
}
