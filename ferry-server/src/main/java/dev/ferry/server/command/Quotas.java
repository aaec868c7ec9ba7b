package dev.ferry.server.command;

import dev.ferry.protocol.Reply;
import dev.ferry.server.ServerContext;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.policy.AccountQuota;

/**
 * The logged-in account's {@link AccountQuota}, made once per login and shared by the session's commands
 * (uploads reserve, DELE and RNTO adjust, SITE QUOTA reads); null for an account without a quota. Control
 * thread only, like {@link SessionState}.
 */
public final class Quotas {

    private final ServerContext ctx;
    private final SessionState state;
    private final String session;
    private LoginResult.Success madeFor;
    private AccountQuota current;
    /** ALLO's size for the next upload (0: none given). */
    private long allocation;

    public Quotas(ServerContext ctx, SessionState state, String session) {
        this.ctx = ctx;
        this.state = state;
        this.session = session;
    }

    /** The handle of the account logged in now, or null (no account, or one without a quota). */
    AccountQuota current() {
        LoginResult.Success account = state.account();
        if (account != madeFor) {
            madeFor = account;
            allocation = 0;
            current = account == null ? null : AccountQuota.of(ctx.quotaLedger(), ctx.quotaOwner(session),
                    account.user(), account.policy().quota(), state.storage());
        }
        return current;
    }

    /**
     * ALLO n [R m] (RFC 959 §4.1.3): under a quota the next upload reserves its n bytes before its 150, so that
     * of two uploads that do not fit together the second is refused before it sends a byte; null for an account
     * without a quota (nothing to allocate).
     */
    public Reply allocate(String arg) {
        if (current() == null) {
            return null;
        }
        String[] parts = arg.trim().split(" +");
        long size;
        try {
            size = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
            size = -1;
        }
        boolean recordForm = parts.length == 1 || parts.length == 3 && parts[1].equalsIgnoreCase("R");
        if (size < 0 || !recordForm) {
            return Reply.of(501, "Syntax: ALLO <bytes> [R <record size>].");
        }
        allocation = size;
        return Reply.of(200, "ALLO: " + size + " bytes will be reserved by the next upload.");
    }

    /** ALLO's size for the upload starting now (0: none), used once. */
    long takeAllocation() {
        long a = allocation;
        allocation = 0;
        return a;
    }
}
