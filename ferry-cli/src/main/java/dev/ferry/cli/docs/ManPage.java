package dev.ferry.cli.docs;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * A man page in troff ({@code man(7)} macros) for one command, written from picocli's model of it, the
 * same model {@code --help} prints, so the page cannot drift from the options.
 *
 * <p>Why not picocli-codegen's ManPageGenerator: it writes AsciiDoc, which needs Asciidoctor (Ruby, or
 * AsciidoctorJ with JRuby, tens of megabytes) to become troff, and neither is in the offline build's
 * repository. The man macros needed here are few: a title, sections, tagged paragraphs.
 */
public final class ManPage {

    private ManPage() {}

    /** The page's file name: "ferry.1", "ferry-server.1", "ferry-users-add.1". */
    public static String fileName(CommandSpec spec) {
        return pageName(spec) + ".1";
    }

    static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    /** The page of {@code spec}; {@code version} goes in the footer ("ferry 0.1.0"). */
    public static String troff(CommandSpec spec, String version) {
        StringBuilder out = new StringBuilder();
        String name = pageName(spec);
        out.append(".\\\" Generated from the ferry command line by dev.ferry.cli.docs.ManPage; do not edit.\n");
        out.append(".TH \"").append(name.toUpperCase(Locale.ROOT)).append("\" 1 \"\" \"")
                .append(escape(version)).append("\" \"Ferry Manual\"\n");
        out.append(".SH NAME\n").append(escape(name)).append(" \\- ")
                .append(escape(firstLine(spec))).append('\n');

        out.append(".SH SYNOPSIS\n.nf\n");
        CommandLine.Help help = new CommandLine.Help(spec,
                CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        for (String line : help.synopsis(0).stripTrailing().split("\n")) {
            out.append(literal(line)).append('\n');
        }
        out.append(".fi\n");

        out.append(".SH DESCRIPTION\n");
        for (String line : expand(spec.usageMessage().description())) {
            out.append(line.isBlank() ? ".PP\n" : escape(line) + "\n");
        }

        List<OptionSpec> options = spec.options().stream().filter(o -> !o.hidden()).toList();
        List<PositionalParamSpec> positionals = spec.positionalParameters().stream().filter(p -> !p.hidden()).toList();
        if (!options.isEmpty() || !positionals.isEmpty()) {
            out.append(".SH OPTIONS\n");
            for (PositionalParamSpec p : positionals) {
                out.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n");
                paragraph(out, p.description(), p.defaultValueString(), p.completionCandidates());
            }
            for (OptionSpec o : options) {
                out.append(".TP\n").append(optionTag(o)).append('\n');
                paragraph(out, o.description(), o.defaultValueString(), o.completionCandidates());
            }
        }

        List<CommandLine> subcommands = visibleSubcommands(spec);
        if (!subcommands.isEmpty()) {
            out.append(".SH COMMANDS\n");
            for (CommandLine sub : subcommands) {
                out.append(".TP\n\\fB").append(escape(sub.getCommandName())).append("\\fR\n")
                        .append(escape(firstLine(sub.getCommandSpec()))).append(" See \\fB")
                        .append(escape(pageName(sub.getCommandSpec()))).append("\\fR(1).\n");
            }
        }

        String[] footer = spec.usageMessage().footer();
        if (footer.length > 0) {
            String heading = expand(new String[] {spec.usageMessage().footerHeading()}).stream()
                    .filter(l -> !l.isBlank()).findFirst().orElse("Notes").replaceAll(":$", "");
            out.append(".SH ").append(escape(heading.toUpperCase(Locale.ROOT))).append("\n.nf\n");
            for (String line : expand(footer)) {
                out.append(literal(line)).append('\n');
            }
            out.append(".fi\n");
        }

        out.append(".SH SEE ALSO\n");
        List<String> related = new ArrayList<>();
        if (spec.parent() != null) {
            related.add("\\fB" + escape(pageName(spec.parent())) + "\\fR(1)");
        }
        for (CommandLine sub : subcommands) {
            related.add("\\fB" + escape(pageName(sub.getCommandSpec())) + "\\fR(1)");
        }
        related.add("docs/configuration.md in the distribution");
        out.append(String.join(", ", related)).append('\n');
        return out.toString();
    }

    /** The subcommands with a page of their own: not hidden, and not picocli's "help". */
    public static List<CommandLine> visibleSubcommands(CommandSpec spec) {
        List<CommandLine> result = new ArrayList<>();
        for (CommandLine sub : new LinkedHashSet<>(spec.subcommands().values())) {
            if (!sub.getCommandSpec().usageMessage().hidden() && !sub.getCommandSpec().helpCommand()) {
                result.add(sub);
            }
        }
        return result;
    }

    private static String optionTag(OptionSpec o) {
        List<String> names = new ArrayList<>();
        for (String n : o.names()) {
            names.add("\\fB" + escape(n) + "\\fR");
        }
        String tag = String.join(", ", names);
        if (o.arity().max() > 0) {
            tag += " \\fI" + escape(o.paramLabel()) + "\\fR";
        }
        return tag;
    }

    private static void paragraph(StringBuilder out, String[] description, String defaultValue,
                                  Iterable<String> candidates) {
        List<String> lines = new ArrayList<>();
        String joinedCandidates = candidates == null ? "" : String.join(", ", candidates);
        for (String line : expand(description)) {
            lines.add(line.replace("${DEFAULT-VALUE}", String.valueOf(defaultValue))
                    .replace("${COMPLETION-CANDIDATES}", joinedCandidates));
        }
        for (String line : lines) {
            out.append(line.isBlank() ? ".br\n" : escape(line) + "\n");
        }
    }

    /** The first description line, the one-line summary of NAME. */
    private static String firstLine(CommandSpec spec) {
        List<String> lines = expand(spec.usageMessage().description());
        return lines.isEmpty() ? "" : lines.getFirst();
    }

    /** picocli's format strings: "%n" is a line break, "%%" a percent sign. */
    static List<String> expand(String[] texts) {
        List<String> lines = new ArrayList<>();
        for (String text : texts) {
            for (String line : text.split("%n", -1)) {
                lines.add(line.replace("%%", "%"));
            }
        }
        while (!lines.isEmpty() && lines.getFirst().isBlank()) {
            lines.removeFirst();
        }
        return lines;
    }

    /** Text in a filled paragraph: backslashes escaped, and a line may not start a request. */
    static String escape(String text) {
        String s = text.replace("\\", "\\e").replace("-", "\\-");
        return s.startsWith(".") || s.startsWith("'") ? "\\&" + s : s;
    }

    /** A line in a no-fill block: the same, and blank lines kept. */
    private static String literal(String line) {
        return line.isEmpty() ? "" : escape(line);
    }
}
