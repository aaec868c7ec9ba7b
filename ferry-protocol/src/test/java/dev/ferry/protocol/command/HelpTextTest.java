package dev.ferry.protocol.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HelpTextTest {

    @Test
    void helpWithoutArgumentListsEveryVerbOfTheTableTenToARow() {
        List<String> lines = HelpText.reply(null).lines();

        assertThat(HelpText.reply(null).code()).isEqualTo(214);
        assertThat(lines.getFirst()).isEqualTo("The following commands are recognized:");
        assertThat(lines.getLast()).isEqualTo("HELP <command> tells more.");
        assertThat(lines.get(1)).isEqualTo("USER PASS ACCT CWD  CDUP REIN QUIT PORT PASV EPRT");
        List<String> names = new ArrayList<>();
        for (String row : lines.subList(1, lines.size() - 1)) {
            assertThat(row.split(" +")).hasSizeLessThanOrEqualTo(10);
            names.addAll(Arrays.asList(row.split(" +")));
        }
        assertThat(names).containsExactly(Arrays.stream(Verb.values()).map(Verb::name).toArray(String[]::new));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "CWD        | 214 CWD <dir>: change working directory",
            "cwd        | 214 CWD <dir>: change working directory",
            "' XPWD '   | 214 PWD: print working directory",
            "BOGUS      | 501 Unknown command 'BOGUS'.",
    })
    void helpWithAVerbGivesThatVerbsRow(String argument, String reply) {
        assertThat(HelpText.reply(argument)).hasToString(reply);
    }
}
