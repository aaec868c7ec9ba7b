package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.ServerSettings.UserAccount;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.StorageOverride;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code storage:} of the server and of user entries: both forms, the defaults, and every refusal as FILE:LINE:COL. */
class StorageConfigTest {

    private static final String HASH = ServerConfigFileTest.HASH;
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private final ServerSettings base = ServerSettings.defaults(Path.of("/base-root"));

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    private ServerSettings load(String yaml) throws Exception {
        return ServerConfigFile.load(write("ferry.yaml", yaml), base);
    }

    private UserAccount user(ServerSettings s, String name) {
        return s.users().stream().filter(u -> u.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void theShortFormIsABucketAndPrefixWithEverythingElseAtItsDefault() throws Exception {
        ServerSettings s = load("server:\n  storage: s3://ferry/srv/ftp/\n");

        assertThat(s.objectStore()).isEqualTo(ObjectStore.parseUrl("s3://ferry/srv/ftp"));
        assertThat(s.objectStore().prefix()).isEqualTo("srv/ftp");
        assertThat(s.objectStore().partSize()).isEqualTo(8 * MIB);
        assertThat(s.root()).as("on an object store the root only names what homes are relative to").isEqualTo(Path.of("/"));
    }

    @Test
    void theMappingSetsEverySetting() throws Exception {
        write("s3.ini", "[default]\naws_access_key_id = a\naws_secret_access_key = b\n");
        ServerSettings s = load("""
                server:
                  root: /srv/ftp
                  storage:
                    type: s3
                    bucket: ferry
                    prefix: /tenants/a/
                    endpoint: https://rgw.example.net:7480
                    region: eu-west-3
                    path-style: true
                    credentials-file: s3.ini
                    part-size: 16MiB
                    parts-in-flight: 2
                    upload-memory: 1GiB
                    request-timeout: 2m
                """);

        assertThat(s.objectStore()).isEqualTo(new ObjectStore("ferry", "tenants/a", URI.create("https://rgw.example.net:7480"),
                "eu-west-3", true, dir.resolve("s3.ini"), (int) (16 * MIB), 2, 1024 * MIB, Duration.ofMinutes(2)));
        assertThat(s.root()).isEqualTo(Path.of("/srv/ftp"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            storage: local                |
            'storage: {type: local}'      |
            'storage: {}'                 |
            """)
    void localIsTheDefaultAndKeepsTheRoot(String storage) throws Exception {
        ServerSettings s = load("server:\n  " + storage + "\n");

        assertThat(s.objectStore()).isNull();
        assertThat(s.root()).isEqualTo(Path.of("/base-root"));
    }

    @Test
    void homesOnAnObjectStoreAreBelowTheRootAndNameTheirPrefix() throws Exception {
        ServerSettings s = load("""
                server:
                  root: /srv
                  storage: s3://ferry/ftp
                  users:
                    - {name: alice, password: '%s', home: alice}
                    - {name: bob, password: '%s', home: /srv/teams/b}
                """.formatted(HASH, HASH));

        assertThat(s.objectStore().homePrefix(s.root(), user(s, "alice").home())).isEqualTo("ftp/alice/");
        assertThat(s.objectStore().homePrefix(s.root(), user(s, "bob").home())).isEqualTo("ftp/teams/b/");
    }

    @Test
    void anAccountsStorageStartsFromTheServersStore() throws Exception {
        ServerSettings s = load("""
                server:
                  storage: {type: s3, bucket: ferry, endpoint: 'http://127.0.0.1:9000', path-style: true, part-size: 16MiB}
                  users:
                    - {name: alice, password: '%s', home: alice}
                    - {name: bob, password: '%s', home: bob, storage: s3://other/b}
                    - {name: carol, password: '%s', home: /var/ftp/carol, storage: local}
                    - {name: dave, password: '%s', storage: {bucket: third, region: eu-central-1}}
                """.formatted(HASH, HASH, HASH, HASH));

        assertThat(user(s, "alice").storage()).as("none of its own: the server's").isNull();
        ObjectStore bobs = user(s, "bob").storage().objectStore();
        assertThat(bobs).isEqualTo(s.objectStore().withBucket("other").withPrefix("b"));
        assertThat(bobs.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
        assertThat(bobs.partSize()).isEqualTo(16 * MIB);
        assertThat(user(s, "carol").storage()).isEqualTo(StorageOverride.LOCAL);
        assertThat(user(s, "carol").home()).as("a local home outside the root is fine").isEqualTo(Path.of("/var/ftp/carol"));
        assertThat(user(s, "dave").storage().objectStore()).isEqualTo(s.objectStore().withBucket("third").withRegion("eu-central-1"));
    }

    @Test
    void anAccountOnALocalServerMayLiveOnAnObjectStore() throws Exception {
        ServerSettings s = load("""
                server:
                  root: /srv/ftp
                  users: [{name: bob, password: '%s', home: bob, storage: s3://other}]
                """.formatted(HASH));

        assertThat(s.objectStore()).isNull();
        assertThat(user(s, "bob").storage().objectStore()).isEqualTo(ObjectStore.parseUrl("s3://other"));
    }

    @Test
    void aUsersFileEntryCarriesItsStorageWithCredentialsRelativeToThatFile() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("users"));
        Files.writeString(sub.resolve("bob.ini"), "[default]\n");
        Files.writeString(sub.resolve("users.yaml"), """
                users:
                  - name: bob
                    password: '%s'
                    home: bob
                    storage: {bucket: other, credentials-file: bob.ini}
                """.formatted(HASH));
        ServerSettings s = load("server:\n  storage: s3://ferry\n  users-file: users/users.yaml\n");

        assertThat(user(s, "bob").storage().objectStore().credentialsFile()).isEqualTo(sub.resolve("bob.ini"));
        assertThat(UsersFileText.read(sub.resolve("users.yaml")).entries().getFirst().storage()).isEqualTo("s3://other");
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("server:\n  storage: ftp://x/y\n", "2:12",
                        "server.storage: expected s3://BUCKET[/PREFIX] or local, got 'ftp://x/y' (only s3:// addresses are known)"),
                Arguments.of("server:\n  storage: s3://\n", "2:12",
                        "server.storage: expected s3://BUCKET[/PREFIX] or local, got 's3://' (no bucket after s3://)"),
                Arguments.of("server:\n  storage: s3://my bucket/x\n", "2:12",
                        "server.storage: expected s3://BUCKET[/PREFIX] or local, got 's3://my bucket/x' (expected a bucket"
                                + " name of 3 to 63 letters, digits and . _ -, got 'my bucket')"),
                Arguments.of("server:\n  storage: s3://ferry/a//b\n", "2:12",
                        "server.storage: expected s3://BUCKET[/PREFIX] or local, got 's3://ferry/a//b' (a prefix of names"
                                + " separated by single '/' (no empty, '.' or '..' parts), got 'a//b')"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    endpiont: http://x\n", "4:5",
                        "server.storage: unknown key 'endpiont'; did you mean 'endpoint'? Allowed keys in server.storage: type,"
                                + " bucket, prefix, endpoint, region, path-style, credentials-file, part-size, parts-in-flight,"
                                + " upload-memory, request-timeout"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    part-size: 4MiB\n", "4:16",
                        "server.storage.part-size: expected a part size of at least 5MiB (S3's smallest part), such as 8MiB,"
                                + " got '4MiB' (below 5MiB)"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    part-size: 8MB\n", "4:16",
                        "server.storage.part-size: expected a part size of at least 5MiB (S3's smallest part), such as 8MiB,"
                                + " got '8MB' (use KiB, MiB, GiB or TiB)"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    part-size: 16MiB\n    upload-memory: 8MiB\n", "5:20",
                        "server.storage.upload-memory: upload-memory of 8388608 bytes is less than one part (part-size"
                                + " 16777216 bytes): no upload could start; give at least part-size times parts-in-flight"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    part-size: 512MiB\n", "4:16",
                        "server.storage.part-size: upload-memory of 268435456 bytes is less than one part (part-size"
                                + " 536870912 bytes): no upload could start; give at least part-size times parts-in-flight"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    upload-memory: lots\n", "4:20",
                        "server.storage.upload-memory: expected a size such as 8MiB, 256MiB or 1GiB (a plain number is bytes),"
                                + " got 'lots'"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    endpoint: ftp://minio:9000\n", "4:15",
                        "server.storage.endpoint: expected an http:// or https:// URL such as https://s3.example.com or"
                                + " http://127.0.0.1:9000, got 'ftp://minio:9000' (scheme ftp is not http or https)"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    endpoint: minio:9000\n", "4:15",
                        "server.storage.endpoint: expected an http:// or https:// URL such as https://s3.example.com or"
                                + " http://127.0.0.1:9000, got 'minio:9000' (scheme minio is not http or https)"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    endpoint: http://key:secret@minio:9000\n", "4:15",
                        "server.storage.endpoint: expected an http:// or https:// URL such as https://s3.example.com or"
                                + " http://127.0.0.1:9000, got a URL with user information (not shown here); give the keys"
                                + " through the credentials instead"),
                Arguments.of("server:\n  storage:\n    type: s3\n", "3:5",
                        "server.storage: missing key 'bucket' (a bucket name of 3 to 63 letters, digits and . _ -)"),
                Arguments.of("server:\n  storage:\n    type: nfs\n", "3:11", "server.storage.type: expected s3 or local, got 'nfs'"),
                Arguments.of("server:\n  storage:\n    type: local\n    region: eu-west-1\n", "4:13",
                        "server.storage.region: type local keeps the files below root; region is for type s3"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    credentials-file: nothere.ini\n", "4:23",
                        "server.storage.credentials-file: cannot read DIR/nothere.ini (no such file); expected an AWS"
                                + " credentials file with a [default] profile"),
                Arguments.of("server:\n  storage:\n    bucket: ferry\n    parts-in-flight: 0\n", "4:22",
                        "server.storage.parts-in-flight: expected a number of at least 1, got 0"),
                Arguments.of("server:\n  root: /srv\n  storage: s3://ferry\n  users:\n    - {name: bob, password: '" + HASH
                                + "', home: /elsewhere/bob}\n", "5:" + (39 + HASH.length()),
                        "server.users[0].home: user 'bob': home /elsewhere/bob is not below the server root /srv; on object"
                                + " storage a home is the key prefix named by its path below the root (write it relative to"
                                + " the root, such as bob)"),
                Arguments.of("server:\n  root: /srv\n  users:\n    - {name: bob, password: '" + HASH
                                + "', home: ../bob, storage: s3://other}\n", "4:" + (39 + HASH.length()),
                        "server.users[0].home: user 'bob': home /bob is not below the server root /srv; on object"
                                + " storage a home is the key prefix named by its path below the root (write it relative to"
                                + " the root, such as bob)"),
                Arguments.of("server:\n  storage: s3://ferry\n  users:\n    - {name: carol, password: '" + HASH
                                + "', storage: local}\n", "4:7",
                        "server.users[0]: missing key 'home' (user 'carol' keeps local files (storage: local) on a server"
                                + " whose files are on s3://ferry: name the local directory it sees as /)"),
                Arguments.of("server:\n  users:\n    - {name: bob, password: '" + HASH
                                + "', storage: s3:/x}\n", "3:" + (42 + HASH.length()),
                        "server.users[0].storage: expected s3://BUCKET[/PREFIX] or local, got 's3:/x'"),
                Arguments.of("server:\n  storage: s3://ferry\n  anonymous:\n    enabled: true\n    home: /pub\n  root: /srv\n", "5:11",
                        "server.anonymous.home: home /pub is not below the server root /srv; on object storage a home is"
                                + " the key prefix named by its path below the root (write it relative to the root)"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void refusalsSayWhereAndWhy(String yaml, String position, String message) throws IOException {
        Path file = write("ferry.yaml", yaml);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ServerConfigFile.load(file, base));

        assertThat(e).as("no error for:%n%s", yaml).isNotNull();
        assertThat(e.line() + ":" + e.column()).as(e.getMessage()).isEqualTo(position);
        assertThat(e.problem()).isEqualTo(message.replace("DIR/", dir + "/"));
        assertThat(e.getMessage()).startsWith(file + ":" + position + ": ");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            8MiB     | 8388608
            5242880  | 5242880
            512KiB   | 524288
            1GiB     | 1073741824
            0        | 0
            """)
    void sizesAreBinaryUnitsOrBytes(String text, long bytes) {
        assertThat(Values.size(text)).isEqualTo(bytes);
    }
}
