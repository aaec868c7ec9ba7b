package dev.ferry.server.command;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.FeatureList;
import dev.ferry.protocol.command.PreLogin;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.server.data.TransferProgress;
import dev.ferry.server.listing.MlsxFormat;
import dev.ferry.server.policy.AccountQuota;
import dev.ferry.server.policy.QuotaLedger;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * FEAT, OPTS, STAT (no argument) and SITE: what the server says about itself. FEAT and HELP come from the
 * verb table (FeatureList, HelpText), so the balancer in front of a server says the same.
 */
public final class InfoCommands {

    private static final Reply SITE_HELP = Reply.multiLine(214, "SITE commands:", List.of("HELP", "QUOTA"), "End.");

    private final SessionState state;
    private final String serverName;
    private final boolean tlsOffered;
    /** The verbs FEAT speaks for, fixed for the session: every one, less MFMT when the storage cannot honour it. */
    private final Set<Verb> served;
    /** What FEAT names; shared by every session (read only), so an idle session does not hold a set of its own. */
    private static final Set<Verb> ALL_VERBS = Collections.unmodifiableSet(EnumSet.allOf(Verb.class));
    private static final Set<Verb> ALL_BUT_MFMT = Collections.unmodifiableSet(EnumSet.complementOf(EnumSet.of(Verb.MFMT)));

    /** @param modificationTimesKept the storage can honour MFMT (an object store cannot) */
    public InfoCommands(SessionState state, String serverName, boolean tlsOffered, boolean modificationTimesKept) {
        this.state = state;
        this.serverName = serverName;
        this.tlsOffered = tlsOffered;
        this.served = modificationTimesKept ? ALL_VERBS : ALL_BUT_MFMT;
    }

    /** RFC 2389 §3.2: one feature per line, each starting with a space; HASH and MLST show the OPTS choices. */
    public Reply features() {
        return FeatureList.reply(FeatureList.server(served, tlsOffered, state.hashAlgorithm(), state.mlstFacts()));
    }

    public Reply options(String arg) {
        Reply utf8 = PreLogin.utf8Option(arg);
        if (utf8 != null) {
            return utf8;
        }
        String[] parts = arg.trim().split(" +", 2);
        String value = parts.length > 1 ? parts[1] : "";
        return switch (parts[0].toUpperCase(Locale.ROOT)) {
            case "MLST" -> mlstOptions(value);
            case "HASH" -> hashOptions(value);
            default -> Reply.of(501, "OPTS for '" + Printable.of(parts[0], Replies.ECHO_LIMIT) + "' is not supported.");
        };
    }

    /** RFC 3659 §7.9: "OPTS MLST type;size;" selects facts; unknown facts are ignored. */
    private Reply mlstOptions(String value) {
        Set<String> chosen = MlsxFormat.selectFacts(value);
        state.mlstFacts(Set.copyOf(chosen));
        return Reply.of(200, "MLST OPTS " + MlsxFormat.factList(chosen));
    }

    private Reply hashOptions(String value) {
        if (value.isEmpty()) {
            return Reply.of(200, state.hashAlgorithm());
        }
        for (String a : FeatureList.HASH_ALGORITHMS) {
            if (a.equalsIgnoreCase(value.trim())) {
                state.hashAlgorithm(a);
                return Reply.of(200, a);
            }
        }
        return Reply.of(501, "Unknown algorithm; supported: " + String.join(", ", FeatureList.HASH_ALGORITHMS) + ".");
    }

    /**
     * STAT without argument (RFC 959 §4.1.3): the session's status, or the running transfer's.
     *
     * @param running  the running transfer's progress, or null
     * @param endpoint the lines describing the data endpoint (used when nothing runs)
     */
    public Reply status(InetAddress client, TransferProgress running, List<String> endpoint) {
        List<String> lines = new ArrayList<>();
        lines.add("Connected from " + client.getHostAddress());
        lines.add(state.loggedIn() ? "Logged in as " + state.user() : "Not logged in");
        lines.add("TYPE: " + (state.ascii() ? "ASCII" : "BINARY") + ", STRU: File, MODE: Stream");
        if (running != null) {
            lines.add("Transfer in progress: " + running.description() + ", " + running.bytes() + " bytes in "
                    + running.elapsedMillis() + " ms");
        } else {
            lines.addAll(endpoint);
        }
        return Reply.multiLine(211, serverName + " status:", lines, "End of status.");
    }

    public static Reply site(String arg, Quotas quotas) {
        String sub = arg.trim().split(" +", 2)[0].toUpperCase(Locale.ROOT);
        if (sub.equals("HELP")) {
            return SITE_HELP;
        }
        if (sub.equals("QUOTA")) {
            return quota(quotas.current());
        }
        return Reply.of(504, "SITE " + Printable.of(sub, Replies.ECHO_LIMIT) + " is not supported.");
    }

    /**
     * SITE QUOTA: the account's usage against its limits, one line each for bytes and files, in the words of
     * Pure-FTPd's SITE QUOTA ("N used (P%) - authorized: M"), and what running uploads hold.
     */
    static Reply quota(AccountQuota quota) {
        if (quota == null) {
            return Reply.of(200, "No quota applies to this account.");
        }
        QuotaLedger.Usage u;
        try {
            u = quota.usage();
        } catch (IOException e) {
            return Reply.of(451, "Quota usage cannot be read now.");
        }
        return Reply.multiLine(200, "Quota information:", List.of(
                usageLine(u.bytesUsed(), u.quota().bytes(), "bytes"),
                usageLine(u.filesUsed(), u.quota().files(), "files"),
                "Reserved by uploads in progress: " + u.bytesReserved() + " bytes, " + u.filesReserved() + " files"),
                "End of quota information.");
    }

    private static String usageLine(long used, long limit, String unit) {
        if (limit == 0) {
            return used + " " + unit + " used - authorized: unlimited";
        }
        return used + " " + unit + " used (" + (used * 100 / limit) + "%) - authorized: " + limit + " " + unit;
    }
}
