package dev.ferry.server.auth.ldap;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The tests' in-memory directory for tests outside this package (a server started with users: ldap). */
public final class LdapTestDirectory implements AutoCloseable {

    private final MemoryDirectory directory;
    private final Path state;

    private LdapTestDirectory(MemoryDirectory directory, Path state) {
        this.directory = directory;
        this.state = state;
    }

    /** alice (read-write, home /home/alice), bob (read-only), carol (no group); passwords NAME-pw. */
    public static LdapTestDirectory start(Path state) throws Exception {
        Files.createDirectories(state);
        return new LdapTestDirectory(new MemoryDirectory(InetAddress.getLoopbackAddress(), null), state);
    }

    public LdapSettings settings(Duration cacheTtl) throws Exception {
        Path secret = state.resolve("bind.secret");
        Files.writeString(secret, MemoryDirectory.SERVICE_PASSWORD + "\n");
        return new LdapSettings(List.of(java.net.URI.create(directory.url())), false, null, MemoryDirectory.SERVICE,
                secret, MemoryDirectory.PEOPLE, LdapSettings.DEFAULT_USER_FILTER, null, LdapSettings.DEFAULT_GROUP_FILTER,
                LdapSettings.DEFAULT_GROUP_ATTRIBUTE,
                Map.of(MemoryDirectory.WRITE, LdapSettings.Access.READ_WRITE, MemoryDirectory.READ, LdapSettings.Access.READ_ONLY),
                null, "homeDirectory", null, Duration.ofSeconds(2), Duration.ofSeconds(2), 4, cacheTtl);
    }

    @Override
    public void close() {
        directory.close();
    }
}
