package dev.ferry.protocol;

/**
 * Client-supplied text made safe to echo in a reply or a log line: bounded in length, with control
 * characters replaced by '?'. SECURITY: a raw CR/LF would forge replies or log lines, and escape
 * sequences (C0 ESC, C1 CSI) would reach an operator's terminal.
 */
public final class Printable {

    private Printable() {}

    /** At most {@code max} characters of {@code s} (UTF-8 text kept), "-" for null. */
    public static String of(String s, int max) {
        return s == null ? "-" : filter(s, max, false);
    }

    /** At most {@code max} characters, printable ASCII only (for what must be ASCII, such as a verb). */
    public static String ascii(String s, int max) {
        return s == null ? "-" : filter(s, max, true);
    }

    private static String filter(String s, int max, boolean asciiOnly) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length() && out.length() < max; i++) {
            char c = s.charAt(i);
            boolean bad = Character.isISOControl(c) || (asciiOnly && c > 0x7E);
            out.append(bad ? '?' : c);
        }
        return out.toString();
    }
}
