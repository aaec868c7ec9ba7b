package dev.ferry.cli;

import dev.ferry.config.Setting;
import dev.ferry.config.Values;
import java.util.Locale;
import java.util.function.Function;

/**
 * A flag's value through the {@link Values} parser of its setting, the one the config file uses, so both
 * refuse the same values in the same words; the message names the flag as the file's names FILE:LINE:COL
 * and the key.
 *
 * <p>A step after picocli's parsing rather than picocli type converters: a converter's error comes out as
 * picocli's own "Invalid value for option" text followed by the whole usage, whereas these say
 * "--flag: what is expected, got what" (exit code 2), the form the file's errors and the tests use; and
 * flags are read again at each reload, after the file, where the same checks must run.
 */
final class Flags {

    private Flags() {
    }

    /** The parsed value, or null when the flag was not given. */
    static <T> T parse(String flag, String value, Function<String, T> parser) {
        if (value == null) {
            return null;
        }
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }

    /**
     * The value of a flag that stands for a {@link Setting} (its row names the flag), through the rule the file
     * applies to the setting's key; null when the flag was not given.
     */
    static <T> T value(Setting<T> setting, String text) {
        return parse(setting.flag(), text, setting::parse);
    }

    /**
     * One of an enum's spellings ({@link Values#choice}). Flags have always taken any case and '_' for '-'
     * ("--check FTP_LOGIN"); the file takes the exact spelling only.
     */
    static <E extends Enum<E>> E choice(String flag, String value, E[] values) {
        return parse(flag, value, v -> Values.choice(values, v.toLowerCase(Locale.ROOT).replace('_', '-')));
    }
}
