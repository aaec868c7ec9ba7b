package dev.ferry.config;

import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Bandwidth;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Quota;
import dev.ferry.server.policy.Right;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * An account's policy keys, in a users file entry or the server file's inline {@code users:} (docs/policy.md):
 * <pre>
 *   quota: { bytes: 10GiB, files: 10000 }        # either may be left out: no limit on it
 *   bandwidth: { upload: 1MiB, download: 4MiB }  # per second; either may be left out
 *   max-sessions: 2                              # across every server; 0 or absent: no limit
 *   rights:                                      # per folder, as the account sees its tree; deepest wins
 *     /: [list, download]
 *     /incoming: [list, upload]
 * </pre>
 */
final class AccountPolicySection {

    static final List<String> KEYS = List.of("quota", "bandwidth", "max-sessions", "rights");
    private static final List<String> QUOTA_KEYS = List.of("bytes", "files");
    private static final List<String> BANDWIDTH_KEYS = List.of("upload", "download");
    static final String RIGHTS = "a list of rights: " + String.join(", ", rightNames());
    private static final String FOLDER = "a folder of the account's tree such as / or /incoming";

    private AccountPolicySection() {}

    /** The policy the keys of {@code entry} describe; {@link AccountPolicy#NONE} when it has none of them. */
    static AccountPolicy read(YamlMapping entry) throws ConfigException {
        Quota quota = Quota.NONE;
        var q = entry.mapping("quota", QUOTA_KEYS);
        if (q.isPresent()) {
            quota = new Quota(q.get().parsed("bytes", Values.SIZE, Values::size, 0L),
                    q.get().parsed("files", Values.NON_NEGATIVE.expected(), s -> (long) Values.NON_NEGATIVE.parse(s), 0L));
        }
        Bandwidth bandwidth = Bandwidth.UNLIMITED;
        var b = entry.mapping("bandwidth", BANDWIDTH_KEYS);
        if (b.isPresent()) {
            bandwidth = new Bandwidth(b.get().parsed("upload", Values.SIZE + " per second", Values::size, 0L),
                    b.get().parsed("download", Values.SIZE + " per second", Values::size, 0L));
        }
        int maxSessions = entry.parsed("max-sessions", Values.NON_NEGATIVE.expected(), Values.NON_NEGATIVE::parse, 0);
        FolderRights rights = entry.has("rights") ? rights(entry) : FolderRights.NONE;
        return new AccountPolicy(quota, bandwidth, maxSessions, rights);
    }

    private static FolderRights rights(YamlMapping entry) throws ConfigException {
        if (!(entry.value("rights") instanceof MappingNode mapping)) {
            throw entry.error("rights", "expected a mapping of folders to rights, such as {/: [list, download]}, got "
                    + YamlFile.describe(entry.value("rights")));
        }
        List<FolderRights.Grant> grants = new ArrayList<>();
        Set<VirtualPath> seen = new HashSet<>();
        for (NodeTuple tuple : mapping.getValue()) {
            String where = entry.pathOf("rights");
            if (!(tuple.getKeyNode() instanceof ScalarNode key) || YamlFile.isNull(tuple.getKeyNode())) {
                throw entry.file().error(tuple.getKeyNode(), where + ": expected " + FOLDER + " as key");
            }
            VirtualPath folder;
            try {
                folder = VirtualPath.resolve(VirtualPath.ROOT, key.getValue());
            } catch (InvalidVirtualPathException e) {
                throw entry.file().error(key, where + ": expected " + FOLDER + ", got " + Values.quote(key.getValue())
                        + " (" + e.getMessage() + ")");
            }
            if (!seen.add(folder)) {
                throw entry.file().error(key, where + ": folder " + folder + " is given twice; give each folder once");
            }
            grants.add(new FolderRights.Grant(folder, rightList(entry, where + "." + key.getValue(), tuple.getValueNode())));
        }
        return new FolderRights(grants);
    }

    private static Set<Right> rightList(YamlMapping entry, String where, Node value) throws ConfigException {
        if (!(value instanceof SequenceNode list)) {
            throw entry.file().error(value, where + ": expected " + RIGHTS + ", got " + YamlFile.describe(value));
        }
        Set<Right> rights = EnumSet.noneOf(Right.class);
        for (Node item : list.getValue()) {
            String name = item instanceof ScalarNode s && !YamlFile.isNull(item) ? s.getValue() : null;
            Right right = name == null ? null : rightNamed(name);
            if (right == null) {
                throw entry.file().error(item, where + ": expected " + RIGHTS + ", got "
                        + (name == null ? YamlFile.describe(item) : Values.quote(name)));
            }
            rights.add(right);
        }
        return rights;
    }

    private static Right rightNamed(String name) {
        for (Right r : Right.values()) {
            if (r.name().toLowerCase(Locale.ROOT).equals(name)) {
                return r;
            }
        }
        return null;
    }

    private static List<String> rightNames() {
        return java.util.Arrays.stream(Right.values()).map(r -> r.name().toLowerCase(Locale.ROOT)).toList();
    }
}
