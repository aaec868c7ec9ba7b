package dev.ferry.cli;

import dev.ferry.config.UsersFileText;
import dev.ferry.config.Values;
import dev.ferry.database.UserRow;
import dev.ferry.database.UserTable;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Right;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The policy options of {@code ferry users add} and {@code ferry users set}: quota, bandwidth, sessions and per-folder
 * rights, written as the users file's keys (docs/policy.md) or the database's columns. An option left out leaves
 * that limit as it is (with {@code add}: none); 0 removes a limit.
 */
final class UserPolicyOptions {

    @Option(names = "--quota-bytes", paramLabel = "SIZE",
            description = "Most bytes the account may keep: 10GiB, 500MiB or bytes; 0: no limit.")
    String quotaBytes;

    @Option(names = "--quota-files", paramLabel = "N", description = "Most files the account may keep; 0: no limit.")
    String quotaFiles;

    @Option(names = "--upload-rate", paramLabel = "SIZE",
            description = "Upload bandwidth per second, such as 1MiB; 0: no limit.")
    String uploadRate;

    @Option(names = "--download-rate", paramLabel = "SIZE",
            description = "Download bandwidth per second, such as 4MiB; 0: no limit.")
    String downloadRate;

    @Option(names = "--max-sessions", paramLabel = "N",
            description = "Most sessions at once, across every server sharing the accounts; 0: no limit.")
    String maxSessions;

    @Option(names = "--rights", paramLabel = "TEXT",
            description = "Per-folder rights such as '/=list,download;/incoming=list,upload' (rights: list, download,"
                    + " upload, overwrite, delete, rename, mkdir); '' removes them.")
    String rights;

    boolean any() {
        return quotaBytes != null || quotaFiles != null || uploadRate != null || downloadRate != null
                || maxSessions != null || rights != null;
    }

    /** The policy with the options given applied over {@code current}; IllegalArgumentException names the bad option. */
    Checked over(long qBytes, long qFiles, long up, long down, int sessions, String rightsText) {
        return new Checked(
                quotaBytes == null ? qBytes : size("--quota-bytes", quotaBytes),
                quotaFiles == null ? qFiles : count("--quota-files", quotaFiles, Long.MAX_VALUE),
                uploadRate == null ? up : size("--upload-rate", uploadRate),
                downloadRate == null ? down : size("--download-rate", downloadRate),
                maxSessions == null ? sessions : (int) count("--max-sessions", maxSessions, Integer.MAX_VALUE),
                rights == null ? rightsText : rightsText(rights));
    }

    Checked over(AccountPolicy p) {
        return over(p.quota().bytes(), p.quota().files(), p.bandwidth().uploadPerSecond(),
                p.bandwidth().downloadPerSecond(), p.maxSessions(), p.rights().isEmpty() ? null : p.rights().format());
    }

    Checked over(UserRow row) {
        return over(row.quotaBytes(), row.quotaFiles(), row.uploadRate(), row.downloadRate(), row.maxSessions(),
                row.rights());
    }

    /** Checked values; {@code rights} in FolderRights' text form, null for none. */
    record Checked(long quotaBytes, long quotaFiles, long uploadRate, long downloadRate, int maxSessions, String rights) {

        /** {@code name}'s entry in {@code text} with the keys of the options that were given (others untouched). */
        String edit(UserPolicyOptions given, UsersFileText text, String name) {
            String out = text.text();
            if (given.quotaBytes != null || given.quotaFiles != null) {
                out = UsersFileText.parse(out).withFlowValue(name, "quota",
                        "{bytes: " + quotaBytes + ", files: " + quotaFiles + "}");
            }
            if (given.uploadRate != null || given.downloadRate != null) {
                out = UsersFileText.parse(out).withFlowValue(name, "bandwidth",
                        "{upload: " + uploadRate + ", download: " + downloadRate + "}");
            }
            if (given.maxSessions != null) {
                out = UsersFileText.parse(out).withFlowValue(name, "max-sessions", Integer.toString(maxSessions));
            }
            if (given.rights != null) {
                out = UsersFileText.parse(out).withFlowValue(name, "rights", yamlRights(rights));
            }
            return out;
        }

        /** The changes in the database, each its own UPDATE and NOTIFY; false when the user is gone. */
        boolean apply(UserPolicyOptions given, UserTable table, String name) throws SQLException {
            boolean found = true;
            if (given.quotaBytes != null || given.quotaFiles != null) {
                found &= table.setQuota(name, quotaBytes, quotaFiles);
            }
            if (given.uploadRate != null || given.downloadRate != null) {
                found &= table.setBandwidth(name, uploadRate, downloadRate);
            }
            if (given.maxSessions != null) {
                found &= table.setMaxSessions(name, maxSessions);
            }
            if (given.rights != null) {
                found &= table.setRights(name, rights);
            }
            return found;
        }

        UserRow onto(UserRow row) {
            return row.withLimits(quotaBytes, quotaFiles, uploadRate, downloadRate, maxSessions).withRights(rights);
        }
    }

    /** The rights text as the users file's mapping, {@code {'/': [list, download]}}; {@code {}} for none. */
    static String yamlRights(String text) {
        FolderRights parsed = text == null ? FolderRights.NONE : FolderRights.parse(text);
        List<String> grants = new ArrayList<>();
        for (FolderRights.Grant g : parsed.grants()) {
            List<String> names = new ArrayList<>();
            for (Right r : Right.values()) {
                if (g.rights().contains(r)) {
                    names.add(r.name().toLowerCase(Locale.ROOT));
                }
            }
            grants.add(UsersFileText.scalar(g.folder().toString()) + ": [" + String.join(", ", names) + "]");
        }
        return "{" + String.join(", ", grants) + "}";
    }

    private static long size(String option, String text) {
        try {
            return Values.size(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
        }
    }

    private static long count(String option, String text, long max) {
        try {
            long n = Long.parseLong(text);
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(option + ": expected a whole number from 0 to " + max + ", got '" + text + "'");
    }

    private static String rightsText(String text) {
        try {
            FolderRights parsed = FolderRights.parse(text);
            return parsed.isEmpty() ? null : parsed.format();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--rights: " + e.getMessage());
        }
    }
}
