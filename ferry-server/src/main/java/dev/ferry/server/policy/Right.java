package dev.ferry.server.policy;

/**
 * What a per-folder grant allows (SFTPGo's per-directory permissions, ProFTPD's {@code <Directory>} limits),
 * spelt in YAML and in {@link FolderRights#parse}'s text as the lower-case name. Which verb asks for which right
 * is the gate's table ({@code command.Gate.asked}); docs/policy.md has it as a table.
 */
public enum Right {
    /** LIST, NLST, MLSD, MLST, STAT of a path, SIZE, MDTM, CWD into it (CWD: or UPLOAD). */
    LIST,
    /** RETR, HASH. */
    DOWNLOAD,
    /** STOR, STOU, APPE of a file that does not exist yet; CWD into a drop folder. */
    UPLOAD,
    /** STOR, APPE, REST+STOR over an existing file, RNTO over one; MFMT (and SITE CHMOD, were it offered). */
    OVERWRITE,
    /** DELE, RMD. */
    DELETE,
    /** RNFR at the source, RNTO at the target. */
    RENAME,
    /** MKD. */
    MKDIR
}
