package dev.ferry.server.fs;

import java.util.Comparator;

/**
 * The order of listing entries: by name, in Unicode code-point order. That is the byte order of the
 * names' UTF-8 form, what vsftpd (ls.c sorts with strcmp) and ProFTPD's mod_ls (sorted unless
 * {@code ListOptions -U}) give by default; Apache MINA FtpServer and a bare readdir give directory
 * order, which changes with every file added and makes listings hard to read and diff. Not
 * {@link String#compareTo}: it compares UTF-16 units, which puts U+10000 and above before U+E000.
 */
public final class NameOrder {
    public static final Comparator<String> CODE_POINTS = NameOrder::compare;

    private NameOrder() {
    }

    public static int compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}
