package dev.ferry.server.auth;

import dev.ferry.protocol.command.Verb.Permission;
import dev.ferry.server.fs.StorageOverride;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.FolderRights;
import dev.ferry.server.policy.Right;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * What a USER/PASS pair amounts to. The failure reason is for the log only: every failure gets
 * the same 530 reply, so a client cannot tell an unknown name from a wrong password (RFC 2577 §7).
 */
public sealed interface LoginResult {

    /**
     * Logged in.
     *
     * @param user      the account name (for anonymous logins: "anonymous", whatever was typed)
     * @param home      the local directory the user sees as "/"; null means the server root
     * @param writable  whether the user may change files
     * @param anonymous whether this is an anonymous login
     * @param uploads   the write-only upload directory of an anonymous login, or null
     * @param storage   the account's own storage, or null: the server's
     * @param policy    the account's quota, bandwidth, session limit and per-folder rights
     */
    record Success(String user, Path home, boolean writable, boolean anonymous, UploadDirectory uploads,
                   StorageOverride storage, AccountPolicy policy) implements LoginResult {

        public Success {
            Objects.requireNonNull(policy, "policy");
        }

        /** Without limits or per-folder rights. */
        public Success(String user, Path home, boolean writable, boolean anonymous, UploadDirectory uploads,
                       StorageOverride storage) {
            this(user, home, writable, anonymous, uploads, storage, AccountPolicy.NONE);
        }

        /** On the server's storage. */
        public Success(String user, Path home, boolean writable, boolean anonymous, UploadDirectory uploads) {
            this(user, home, writable, anonymous, uploads, null);
        }

        /** Without an upload directory, on the server's storage. */
        public Success(String user, Path home, boolean writable, boolean anonymous) {
            this(user, home, writable, anonymous, null, null);
        }

        /**
         * Whether this account may do what {@code permission} names at {@code where} (null: a path that did not
         * resolve, or none; the account-wide answer). Every account reads its whole home; writing is the
         * account's {@link #writable} flag. An account with per-folder rights is asked by {@link #may} instead
         * (the gate does so).
         */
        public boolean allows(Permission permission, VirtualPath where) {
            return switch (permission) {
                case NONE, READ -> true;
                case WRITE -> writable;
            };
        }

        /** Whether per-folder rights govern this account ({@link FolderRights}); otherwise {@link #allows} does. */
        public boolean hasFolderRights() {
            return !policy.rights().isEmpty();
        }

        /**
         * Whether {@code right} holds at {@code where} under the account's per-folder rights, its access where no
         * grant applies; {@code entry}: the path is created, removed or renamed ({@link FolderRights#allowsOnEntry}).
         */
        public boolean may(Right right, VirtualPath where, boolean entry) {
            return rightsAt(where, entry).contains(right);
        }

        /** Every right that holds at {@code where} ({@code entry}: over the entry itself), as {@link #may} asks. */
        public Set<Right> rightsAt(VirtualPath where, boolean entry) {
            FolderRights rights = policy.rights();
            Set<Right> outside = FolderRights.access(writable);
            return entry ? rights.atEntry(where, outside) : rights.at(where, outside);
        }
    }

    /** Not logged in; {@code user} is the name the client sent. */
    record Failure(String user, Reason reason) implements LoginResult {}

    /**
     * Why a login failed. {@link #UNAVAILABLE}: the accounts could not be asked (the database, the directory or the
     * auth hook did not answer); the client gets 421, nothing counts as a guess, and sessions logged in go on.
     */
    enum Reason { UNKNOWN_USER, BAD_PASSWORD, DISABLED, ANONYMOUS_DISABLED, UNAVAILABLE }
}
