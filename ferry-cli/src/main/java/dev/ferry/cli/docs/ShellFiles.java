package dev.ferry.cli.docs;

import dev.ferry.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Writes what a shell and man(1) need, from the command line itself, at build time (ferry-cli's POM runs
 * it in the package phase): {@code bash-completion/ferry} (picocli's completion script; zsh loads it
 * through bashcompinit) and {@code man/ferry*.1}. ferry-dist ships them under share/.
 */
public final class ShellFiles {

    private ShellFiles() {}

    /** @param args the output directory */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: ShellFiles OUTPUT-DIRECTORY");
        }
        write(Path.of(args[0]));
    }

    public static void write(Path directory) throws IOException {
        CommandLine ferry = Main.commandLine();
        Path completion = Files.createDirectories(directory.resolve("bash-completion")).resolve("ferry");
        Files.writeString(completion, AutoComplete.bash("ferry", ferry), StandardCharsets.UTF_8);
        Path man = Files.createDirectories(directory.resolve("man"));
        String version = "ferry " + Main.version();
        writePages(ferry, man, version);
    }

    private static void writePages(CommandLine command, Path man, String version) throws IOException {
        Files.writeString(man.resolve(ManPage.fileName(command.getCommandSpec())),
                ManPage.troff(command.getCommandSpec(), version), StandardCharsets.UTF_8);
        for (CommandLine sub : ManPage.visibleSubcommands(command.getCommandSpec())) {
            writePages(sub, man, version);
        }
    }
}
