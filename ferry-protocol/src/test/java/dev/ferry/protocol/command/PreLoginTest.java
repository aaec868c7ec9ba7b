package dev.ferry.protocol.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.command.PreLogin.Step;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class PreLoginTest {

    private static Step step(String line, boolean userGiven) {
        return PreLogin.step(((CommandParser.Result.Parsed) CommandParser.parse(line)).command(), userGiven);
    }

    private static String outcome(Step step) {
        return switch (step) {
            case Step.Answer a -> a.reply().toString();
            case Step.Quit q -> "quit: " + q.reply();
            case Step.Reinitialize r -> "reinitialize: " + r.reply();
            case Step.Host h -> "host " + h.name() + ": " + h.reply();
            case Step.Handle h -> "handle " + h.command().verb();
        };
    }

    private static String lineFor(Verb verb) {
        return verb.argument() == Verb.Argument.REQUIRED ? verb.name() + " x" : verb.name();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
            // RFC 959 §4.1.1: ACCT is superfluous here (202), REIN starts the session afresh (220).
            "ACCT x                | 202 ACCT not needed at this site.",
            "REIN                  | reinitialize: 220 Service ready for new user.",
            "QUIT                  | quit: 221 Goodbye.",
            "SYST                  | 215 UNIX Type: L8",
            "NOOP                  | 200 NOOP ok.",
            "HELP CWD              | 214 CWD <dir>: change working directory",
            "PASS secret           | 503 Login with USER first.",
            "USER alice            | handle USER",
            "FEAT                  | handle FEAT",
            "AUTH TLS              | handle AUTH",
            "PBSZ 0                | handle PBSZ",
            "PROT P                | handle PROT",
            "CCC                   | handle CCC",
            "OPTS UTF8 ON          | 200 UTF8 mode is always on.",
            "OPTS utf-8            | 200 UTF8 mode is always on.",
            "OPTS UTF8   on        | 200 UTF8 mode is always on.",
            "OPTS UTF8 OFF         | 504 UTF8 mode cannot be turned off.",
            "OPTS UTF8 maybe       | 501 Syntax: OPTS UTF8 ON.",
            "OPTS MLST type;       | handle OPTS",
            "HOST ftp.example.com  | host ftp.example.com: 220 Host accepted.",
            "HOST [2001:db8::1]    | host [2001:db8::1]: 220 Host accepted.",
            "HOST bad_name!        | 501 HOST needs a domain name or an address literal.",
            "PWD                   | 530 Please log in with USER and PASS first.",
            "RETR a.txt            | 530 Please log in with USER and PASS first.",
            "PASV                  | 530 Please log in with USER and PASS first.",
    })
    void beforeAnyUser(String line, String outcome) {
        assertThat(outcome(step(line, false))).isEqualTo(outcome);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
            "PASS secret           | handle PASS",
            // RFC 7151 §3: HOST comes before USER.
            "HOST ftp.example.com  | 503 HOST must come before USER.",
            "USER bob              | handle USER",
            "ACCT x                | 202 ACCT not needed at this site.",
    })
    void afterUser(String line, String outcome) {
        assertThat(outcome(step(line, true))).isEqualTo(outcome);
    }

    @ParameterizedTest
    @EnumSource(Verb.class)
    void everyVerbHasAPreLoginStepAndOnlyTheTablesNoLoginVerbsPass(Verb verb) {
        Step s = step(lineFor(verb), false);

        assertThat(s instanceof Step.Answer a && a.reply().code() == 530).isEqualTo(verb.needsLogin());
    }
}
