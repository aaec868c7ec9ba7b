package dev.ferry.protocol.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.command.CommandParser.Result;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class CommandParserTest {

    private static Command parsed(String line) {
        Result result = CommandParser.parse(line);
        assertThat(result).as(line).isInstanceOf(Result.Parsed.class);
        return ((Result.Parsed) result).command();
    }

    // Columns: line | verb | argument ("<null>" for none). Quotes keep spaces significant.
    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', nullValues = "<null>", ignoreLeadingAndTrailingWhitespace = false, value = {
            "NOOP|NOOP|<null>",
            "noop|NOOP|<null>",
            "NoOp|NOOP|<null>",
            "USER alice|USER|alice",
            "user alice|USER|alice",
            "CWD /a dir/with spaces|CWD|/a dir/with spaces",
            "CWD  leading space|CWD| leading space",
            "CWD trailing   |CWD|trailing",
            "CWD a b  |CWD|a b",
            "'   NOOP'|NOOP|<null>",
            "'  USER bob'|USER|bob",
            "'NOOP '|NOOP|<null>",
            "'NOOP    '|NOOP|<null>",
            "PASS secret|PASS|secret",
            "'PASS ends in spaces  '|PASS|'ends in spaces  '",
            "'PASS  '|PASS|' '",
            "'PASS '|PASS|<null>",
            "PASS|PASS|<null>",
            "LIST|LIST|<null>",
            "'LIST '|LIST|<null>",
            "LIST -la|LIST|-la",
            "EPSV|EPSV|<null>",
            "EPSV ALL|EPSV|ALL",
            "TYPE A N|TYPE|A N",
            "STOR café.txt|STOR|café.txt",
            "MKD 日本語|MKD|日本語",
            "XPWD|PWD|<null>",
            "xpwd|PWD|<null>",
            "XCWD /a|CWD|/a",
            "XCUP|CDUP|<null>",
            "XMKD d|MKD|d",
            "XRMD d|RMD|d",
            "HELP|HELP|<null>",
            "HELP cwd|HELP|cwd",
    })
    void parsesVerbAndArgument(String line, Verb verb, String argument) {
        Command command = parsed(line);

        assertThat(command.verb()).isEqualTo(verb);
        assertThat(command.argument()).isEqualTo(argument);
    }

    @ParameterizedTest
    @EnumSource(Verb.class)
    void everyVerbIsFoundInUpperAndLowerCase(Verb verb) {
        String arg = verb.argument() == Verb.Argument.REQUIRED ? " x" : "";

        assertThat(parsed(verb.name() + arg).verb()).isEqualTo(verb);
        assertThat(parsed(verb.name().toLowerCase(Locale.ROOT) + arg).verb()).isEqualTo(verb);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', ignoreLeadingAndTrailingWhitespace = false, value = {
            "FOO|FOO",
            "foo bar|foo",
            "NOOPS|NOOPS",
            "SITEX HELP|SITEX",
            "XXXX|XXXX",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ|ABCDEFGHIJKLMNOP",
            "CAFÉ|CAF?",
            "日本|??",
            "\tNOOP|?NOOP",
            "NOOP\t|NOOP?",
            "N\u0000OP|N?OP",
            "NO\u001bOP|NO?OP",
            "NO\u007fOP|NO?OP",
    })
    void unknownVerbsAreReportedWithASanitizedBoundedName(String line, String shown) {
        assertThat(CommandParser.parse(line)).isEqualTo(new Result.Unknown(shown));
    }

    // RFC 959 §5.3: command codes are ASCII letters. A Unicode letter whose upper case happens to be
    // ASCII ("ſ" -> "S", "ﬆ" -> "ST", "ı" -> "I") must not make a verb: a backend that compares ASCII
    // only would then see a different command than the balancer that parsed it.
    @ParameterizedTest
    @ValueSource(strings = {"uſer bob", "ſyst", "ﬆor f", "ﬆou", "lıst", "ſıte help", "pаsv"})
    void nonAsciiLettersNeverMatchAVerb(String line) {
        assertThat(CommandParser.parse(line)).isInstanceOf(Result.Unknown.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "    "})
    void blankLinesAreEmpty(String line) {
        assertThat(CommandParser.parse(line)).isEqualTo(new Result.Empty());
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', ignoreLeadingAndTrailingWhitespace = false, value = {
            "USER|USER",
            "'USER '|USER",
            "'USER    '|USER",
            "cwd|CWD",
            "RETR|RETR",
            "PORT|PORT",
            "TYPE|TYPE",
            "XMKD|MKD",
    })
    void missingRequiredArgumentIsBadArguments(String line, Verb verb) {
        Result result = CommandParser.parse(line);

        assertThat(result).isInstanceOf(Result.BadArguments.class);
        Result.BadArguments bad = (Result.BadArguments) result;
        assertThat(bad.verb()).isEqualTo(verb);
        assertThat(bad.message()).isEqualTo(verb.name() + " needs an argument: " + verb.help());
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', value = {
            "PWD /|PWD",
            "CDUP ..|CDUP",
            "QUIT now|QUIT",
            "NOOP x|NOOP",
            "PASV 1|PASV",
            "FEAT all|FEAT",
            "XPWD x|PWD",
    })
    void argumentWhereNoneIsAllowedIsBadArguments(String line, Verb verb) {
        assertThat(CommandParser.parse(line)).isEqualTo(new Result.BadArguments(verb, verb.name() + " takes no argument"));
    }

    @Test
    void everyArgumentRuleIsCovered() {
        Set<Verb.Argument> rules = EnumSet.noneOf(Verb.Argument.class);
        for (Verb v : Verb.values()) {
            rules.add(v.argument());
        }
        assertThat(rules).containsExactlyInAnyOrder(Verb.Argument.values());
    }

    @Test
    void commandToStringMasksThePassword() {
        assertThat(parsed("PASS hunter2")).hasToString("PASS ****");
        assertThat(parsed("PASS hunter2").toString()).doesNotContain("hunter2");
        assertThat(parsed("PASS")).hasToString("PASS");
        assertThat(parsed("USER alice")).hasToString("USER alice");
        assertThat(parsed("noop")).hasToString("NOOP");
    }

    @Test
    void hasArgumentIsFalseForNullAndEmpty() {
        assertThat(new Command(Verb.LIST, null).hasArgument()).isFalse();
        assertThat(new Command(Verb.LIST, "").hasArgument()).isFalse();
        assertThat(new Command(Verb.LIST, "-l").hasArgument()).isTrue();
    }

    @Test
    void lookupKnowsTheExperimentalAliasesOfRfc1123() {
        assertThat(Verb.lookup("XPWD")).isEqualTo(Verb.PWD);
        assertThat(Verb.lookup("XCUP")).isEqualTo(Verb.CDUP);
        assertThat(Verb.lookup("XCWD")).isEqualTo(Verb.CWD);
        assertThat(Verb.lookup("XMKD")).isEqualTo(Verb.MKD);
        assertThat(Verb.lookup("XRMD")).isEqualTo(Verb.RMD);
        assertThat(Verb.lookup("XSTOR")).isNull();
        assertThat(Verb.lookup("")).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            "''        | 500 Empty command.",
            "'   '     | 500 Empty command.",
            "XYZZ      | 500 'XYZZ': command not understood.",
            "PWD now   | 501 PWD takes no argument",
            "NOOP      | none",
    })
    void aLineThatIsNoCommandIsRefusedWithTheSharedWords(String line, String reply) {
        Reply refusal = CommandParser.refusal(CommandParser.parse(line));

        assertThat(refusal == null ? null : refusal.toString()).isEqualTo(reply);
    }
}
