package dev.ferry.config;

/**
 * A configuration error, reported once at start-up as {@code FILE:LINE:COL: message}, where the
 * message says what was found and what is expected. Line and column count from 1; an error about
 * the file as a whole (missing, unreadable) has line 0 and prints as {@code FILE: message}.
 * Messages never contain a password or a password hash.
 */
public final class ConfigException extends Exception {

    private final String file;
    private final int line;
    private final int column;
    private final String problem;

    public ConfigException(String file, int line, int column, String problem) {
        super(format(file, line, column, problem));
        this.file = file;
        this.line = line;
        this.column = column;
        this.problem = problem;
    }

    private static String format(String file, int line, int column, String problem) {
        return line > 0 ? file + ":" + line + ":" + column + ": " + problem : file + ": " + problem;
    }

    /** The file as the operator named it (or as resolved from the file that referenced it). */
    public String file() {
        return file;
    }

    /** 1-based line, or 0 when the error concerns the whole file. */
    public int line() {
        return line;
    }

    /** 1-based column, or 0 when the error concerns the whole file. */
    public int column() {
        return column;
    }

    /** The message without the {@code FILE:LINE:COL: } prefix. */
    public String problem() {
        return problem;
    }
}
