package dev.ferry.server.policy;

/**
 * What a per-folder grant allows (SFTPGo's per-directory permissions, ProFTPD's {@code <Directory>} limits),
 * spelt in YAML as the lower-case name.
 */
public enum Right {
    /** LIST, NLST, MLSD, MLST, STAT of a path, SIZE, MDTM, CWD into it. */
    LIST,
    /** RETR. */
    DOWNLOAD,
    /** STOR, STOU, APPE of a file that does not exist yet. */
    UPLOAD,
    /** STOR, APPE over an existing file; MFMT and SITE CHMOD. */
    OVERWRITE,
    /** DELE, RMD. */
    DELETE,
    /** RNFR, RNTO. */
    RENAME,
    /** MKD. */
    MKDIR
}
