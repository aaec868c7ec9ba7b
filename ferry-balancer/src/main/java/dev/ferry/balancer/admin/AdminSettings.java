package dev.ferry.balancer.admin;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The balancer's admin listener (stats page and JSON API): off unless configured, and never
 * without a user, because there is no default password.
 *
 * @param listen address of the admin listener; null: off
 * @param users  who may log in; at least one when {@code listen} is set
 */
@RecordBuilder
public record AdminSettings(InetSocketAddress listen, List<User> users) implements AdminSettingsBuilder.With {

    public static final InetSocketAddress DEFAULT_LISTEN = new InetSocketAddress("127.0.0.1", 8080);
    public static final AdminSettings OFF = new AdminSettings(null, List.of());

    public AdminSettings {
        users = List.copyOf(users);
    }

    public boolean enabled() {
        return listen != null;
    }


    /** What a user may do: everyone sees everything; only {@code ADMIN} changes anything. */
    public enum Role {
        ADMIN, READ_ONLY;

        /** "admin" or "read-only", as in the configuration file and the API. */
        public String spelling() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** The role spelt {@code s}, or null. */
        public static Role of(String s) {
            for (Role r : values()) {
                if (r.spelling().equals(s)) {
                    return r;
                }
            }
            return null;
        }
    }

    /**
     * One admin account. {@code passwordHash}: a PHC string made by {@code ferry passwd}, verified
     * with {@link dev.ferry.runtime.password.PasswordHasher}; the plain password is never kept.
     */
    public record User(String name, String passwordHash, Role role) {
        public User {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(passwordHash, "passwordHash");
            Objects.requireNonNull(role, "role");
        }

        @Override
        public String toString() {
            return "User[" + name + " " + role.spelling() + "]";   // never the hash
        }
    }
}
