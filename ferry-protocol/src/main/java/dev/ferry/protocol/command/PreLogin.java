package dev.ferry.protocol.command;

import dev.ferry.protocol.Reply;
import dev.ferry.protocol.reply.Replies;
import java.util.Locale;

/**
 * The pre-login grammar: what a daemon answers before a login succeeded, once for the server's gate and for a
 * balancer, which answers this phase itself and meets the backend only at USER. Like vsftpd's, it is small:
 * the verbs the table marks {@link Verb.Login#NOT_NEEDED}, and a 530 for the rest.
 *
 * <p>Pure: {@link #step} says what to do; the daemon does it. Fixed answers are given here; what needs the
 * daemon's state (USER, PASS after USER, FEAT, AUTH/PBSZ/PROT/CCC through {@code ftps.ControlProtection}, OPTS
 * other than UTF8) is handed back as {@link Step.Handle}.
 */
public final class PreLogin {

    private PreLogin() {}

    /** What the daemon does with one command before login. */
    public sealed interface Step {
        /** Send the reply; nothing else changes. */
        record Answer(Reply reply) implements Step {}

        /** QUIT (RFC 959 §4.1.1): send the reply, then close the control connection. */
        record Quit(Reply reply) implements Step {}

        /**
         * REIN (RFC 959 §4.1.1): forget the USER given, the HOST (RFC 7151 §3.2.1) and the data protection
         * ({@code ControlProtection.reinitialize}), then send the reply. SECURITY: before login the login
         * timeout keeps running from the connection: a REIN, like a NOOP, must not let an unauthenticated
         * client stay connected for ever.
         */
        record Reinitialize(Reply reply) implements Step {}

        /** HOST accepted (RFC 7151 §3): remember the name (a balancer replays it to the backend it picks). */
        record Host(String name, Reply reply) implements Step {}

        /** The daemon's own handler. */
        record Handle(Command command) implements Step {}
    }

    /**
     * The step for {@code command} before login.
     *
     * @param userGiven a USER was accepted and waits for its PASS
     */
    public static Step step(Command command, boolean userGiven) {
        Verb verb = command.verb();
        // SECURITY: before login only the verbs the table allows run; everything else, file system and data
        // connections included, gets the same 530, so nothing about the site leaks to a client without a login.
        if (verb.needsLogin()) {
            return new Step.Answer(Replies.PLEASE_LOG_IN);
        }
        String arg = command.argument();
        return switch (verb) {
            case ACCT -> new Step.Answer(Replies.ACCT_NOT_NEEDED);
            case SYST -> new Step.Answer(Replies.SYSTEM_TYPE);
            case NOOP -> new Step.Answer(Replies.NOOP_OK);
            case HELP -> new Step.Answer(HelpText.reply(arg));
            case QUIT -> new Step.Quit(Replies.GOODBYE);
            case REIN -> new Step.Reinitialize(Replies.READY_FOR_NEW_USER);
            case PASS -> userGiven ? new Step.Handle(command) : new Step.Answer(Replies.LOGIN_WITH_USER_FIRST);
            case HOST -> host(arg, userGiven);
            case OPTS -> {
                Reply utf8 = utf8Option(arg);
                yield utf8 != null ? new Step.Answer(utf8) : new Step.Handle(command);
            }
            case USER, FEAT, AUTH, PBSZ, PROT, CCC -> new Step.Handle(command);
            default -> throw new IllegalStateException(verb + " needs no login but has no pre-login rule");
        };
    }

    /** HOST (RFC 7151 §3): before USER only, a domain name or a bracketed address literal. */
    static Step host(String name, boolean userGiven) {
        if (userGiven) {
            return new Step.Answer(Replies.HOST_AFTER_USER);
        }
        if (!name.matches("[A-Za-z0-9.\\-]{1,253}|\\[[0-9A-Fa-f:.]{2,45}\\]")) {
            return new Step.Answer(Replies.HOST_SYNTAX);
        }
        return new Step.Host(name, Replies.HOST_ACCEPTED);
    }

    /**
     * OPTS UTF8 (RFC 2640 §3.1; "UTF-8" as some clients spell it), before login and after: path names are
     * always UTF-8 here, so ON (or nothing) is 200, OFF 504. Null when the OPTS is about another command.
     */
    public static Reply utf8Option(String optsArgument) {
        String[] parts = optsArgument.trim().split(" +", 2);
        String command = parts[0].toUpperCase(Locale.ROOT);
        if (!command.equals("UTF8") && !command.equals("UTF-8")) {
            return null;
        }
        String value = parts.length > 1 ? parts[1] : "";
        return value.equalsIgnoreCase("ON") || value.isEmpty() ? Replies.UTF8_ALWAYS_ON
                : value.equalsIgnoreCase("OFF") ? Replies.UTF8_CANNOT_BE_OFF
                : Replies.UTF8_SYNTAX;
    }
}
